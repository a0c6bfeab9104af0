// Private to the SQLite backend: what tells whether the database can record, and the
// condition that remembers why it cannot.
//
// The file on disk is checked, not only SQLite's answers, because some failures do not
// show in them: a database file deleted (or its directory removed) or replaced while
// open still takes writes through the open handle, and every one of them is lost at the
// next start. So before each batch the writer compares the path's device and inode with
// the file it opened, checks that the file is still writable and still starts with
// SQLite's header; a batch is refused when any of these fails.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <optional>
#include <string>

namespace scribe::sqlite {

// The database file as opened, to compare the path with later.
class FileWatch {
 public:
  // Records the identity of the file now at `path` (just opened by SQLite) and keeps a
  // read-only descriptor on it to read its header. Throws StoreError when it cannot.
  explicit FileWatch(std::string path);
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  // Why writing now would not reach the file at the path, in words for people, or nullopt:
  // the path is gone (deleted, directory removed) or is another file (replaced), the file
  // is not writable (read-only by mode or file system), or its header is no longer
  // SQLite's (damaged). A few system calls, cheap enough for every batch.
  std::optional<std::string> problem() const;

  // problem(), and besides whether the file system has room left: less than `min_free`
  // bytes free for this user is reported as a full disk. For the readiness check.
  std::optional<std::string> problem_or_full(unsigned long long min_free) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string dir_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  int fd_ = -1;
};

// SQLite's answer to a failed call, as a reason in words when it means the store cannot
// record (disk full, read-only, damaged, I/O error, file gone), else nullopt (a failing
// statement of one command, a constraint, the fault-injection seam). `extended_code` is
// sqlite3_extended_errcode, `sys_errno` sqlite3_system_errno of the connection.
std::optional<std::string> storage_failure(int extended_code, int sys_errno);

// True for the reasons that no probe can clear while the process runs (a damaged file):
// the store stays unready until it is restarted on a repaired or restored file.
bool lasting(int extended_code);

// Why the store cannot record now, shared by the writer, the readers and the readiness
// check. Logs when an episode begins (or its reason changes) and when it ends, never per
// request. Thread-safe.
class Condition {
 public:
  // The store cannot record, because of `reason`. `lasting`: only a restart clears it.
  void fail(const std::string& reason, bool lasting = false);
  // A write reached the disk: the episode, if any and not lasting, is over.
  void recovered();
  // The reason, or empty when the store is believed to record.
  std::string reason() const;
  // The reason when it is lasting (a damaged file: no write should touch it), else empty.
  std::string lasting_reason() const;

 private:
  mutable std::mutex mu_;
  std::string reason_;
  bool lasting_ = false;
};

}  // namespace scribe::sqlite
