#include "storage/sqlite_health.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "storage/store.h"

namespace scribe::sqlite {
namespace {

constexpr std::string_view kHeader{"SQLite format 3\0", 16};

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

FileWatch::FileWatch(std::string path) : path_(std::move(path)) {
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  dir_ = (parent.empty() ? std::filesystem::path(".") : parent).string();
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd_ < 0 || ::fstat(fd_, &st) != 0) {
    const int e = errno;
    if (fd_ >= 0) ::close(fd_);
    throw StoreError(fmt::format("cannot watch the database file {}: {}", path_, errno_text(e)));
  }
  dev_ = st.st_dev;
  ino_ = st.st_ino;
}

FileWatch::~FileWatch() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> FileWatch::problem() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ENOTDIR) {
      return fmt::format("the database file {} is gone (deleted, or its directory removed)", path_);
    }
    return fmt::format("the database file {} cannot be checked: {}", path_, errno_text(e));
  }
  if (st.st_dev != dev_ || st.st_ino != ino_) {
    return fmt::format("the database file {} was replaced by another file", path_);
  }
  if (::access(path_.c_str(), W_OK) != 0) {
    const int e = errno;
    if (e == EACCES || e == EROFS || e == EPERM) {
      return fmt::format("the database file {} is read-only ({})", path_, errno_text(e));
    }
    return fmt::format("the database file {} cannot be checked: {}", path_, errno_text(e));
  }
  // A file SQLite has not written its first page to yet is empty; anything else must
  // begin with the header.
  char head[16];
  const ssize_t n = ::pread(fd_, head, sizeof head, 0);
  if (n < 0) {
    return fmt::format("the database file {} cannot be read: {}", path_, errno_text(errno));
  }
  if (n > 0 && std::string_view(head, static_cast<std::size_t>(n)) != kHeader.substr(0, n)) {
    return fmt::format("the database file {} is damaged (its header is not SQLite's)", path_);
  }
  if (n > 0 && n < static_cast<ssize_t>(sizeof head)) {
    return fmt::format("the database file {} is damaged (cut short)", path_);
  }
  return std::nullopt;
}

std::optional<std::string> FileWatch::problem_or_full(unsigned long long min_free) const {
  if (auto p = problem()) return p;
  struct statvfs vfs {};
  if (::statvfs(dir_.c_str(), &vfs) == 0) {
    if (vfs.f_flag & ST_RDONLY) {
      return fmt::format("the file system holding {} is read-only", path_);
    }
    const unsigned long long free_bytes = static_cast<unsigned long long>(vfs.f_bavail) *
                                          static_cast<unsigned long long>(vfs.f_frsize);
    if (free_bytes < min_free) {
      return fmt::format("the disk holding {} is full (less than {} KiB free)", path_,
                         min_free / 1024);
    }
  }
  return std::nullopt;
}

std::optional<std::string> storage_failure(int extended_code, int sys_errno) {
  const int primary = extended_code & 0xff;
  const std::string detail = sys_errno != 0 ? fmt::format(" ({})", errno_text(sys_errno)) : "";
  if (primary == SQLITE_FULL || sys_errno == ENOSPC || sys_errno == EFBIG || sys_errno == EDQUOT) {
    return fmt::format("the disk is full{}", detail);
  }
  switch (primary) {
    case SQLITE_READONLY:
      return fmt::format("the database is read-only{}", detail);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "the database file is damaged";
    case SQLITE_IOERR:
      // A write refused past a file-size limit (EFBIG) arrives as IOERR_WRITE without
      // an errno (SQLite keeps none for it); a full disk proper is SQLITE_FULL.
      if (extended_code == SQLITE_IOERR_WRITE) {
        return fmt::format("the disk is full or failing (a write was refused){}", detail);
      }
      return fmt::format("the disk reported an I/O error{}", detail);
    case SQLITE_CANTOPEN:
      return fmt::format("the database file cannot be opened{}", detail);
    default:
      return std::nullopt;
  }
}

bool lasting(int extended_code) {
  const int primary = extended_code & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

void Condition::fail(const std::string& reason, bool lasting) {
  std::lock_guard lock(mu_);
  if (lasting_ && !lasting) return;  // a damaged file stays the reason until a restart
  if (reason_ == reason) return;
  // Once per episode: the reason may change within it (a full disk also fails the
  // probe's I/O), which is worth a debug line, not another error per request.
  if (reason_.empty()) {
    spdlog::error("the store cannot record: {}; nothing is acknowledged until it can", reason);
  } else {
    spdlog::debug("the store still cannot record, now because {}", reason);
  }
  reason_ = reason;
  lasting_ = lasting;
}

void Condition::recovered() {
  std::lock_guard lock(mu_);
  if (reason_.empty() || lasting_) return;
  spdlog::warn("the store records again (it could not: {})", reason_);
  reason_.clear();
}

std::string Condition::reason() const {
  std::lock_guard lock(mu_);
  return reason_;
}

std::string Condition::lasting_reason() const {
  std::lock_guard lock(mu_);
  return lasting_ ? reason_ : std::string();
}

}  // namespace scribe::sqlite
