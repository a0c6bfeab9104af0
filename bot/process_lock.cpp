#include "bot/process_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace scribe {
namespace {

std::string read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "unknown";
  std::string pid(buf, static_cast<std::size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

ProcessLock::ProcessLock(const std::string& db_path) : path_(db_path + ".lock") {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::runtime_error(
        fmt::format("cannot create the lock file {}: {}", path_, std::strerror(errno)));
  }
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = err == EWOULDBLOCK ? read_pid(fd_) : std::string();
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw AlreadyRunning(fmt::format(
          "another scribe (pid {}) is already serving {} (it holds {}); only one process may "
          "serve a database",
          holder, db_path, path_));
    }
    throw std::runtime_error(fmt::format("cannot lock {}: {}", path_, std::strerror(err)));
  }
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (ftruncate(fd_, 0) != 0 ||
      pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The lock itself is held; only the message a second process prints is less helpful.
  }
}

ProcessLock::~ProcessLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace scribe
