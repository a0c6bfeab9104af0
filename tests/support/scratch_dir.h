// ScratchDir: a fresh directory of its own under the system's temporary directory, removed
// with everything in it when the object goes. For the benchmarks' and tools' database
// files (tests use make_temp_dir, which fails the test instead of throwing).
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace scribe::test {

class ScratchDir {
 public:
  // <tmp>/<prefix>-XXXXXX, made by mkdtemp (unique, mode 0700); throws std::system_error.
  explicit ScratchDir(std::string_view prefix) {
    std::string name =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(name.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + name);
    }
    path_ = name;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace scribe::test
