// ProcessLock: one `scribe serve` per database file. Held for the life of the object: an
// exclusive flock(2) on "<db>.lock", which holds the holder's pid for the message a second
// process prints. The kernel releases the lock when the process ends however it ends
// (kill -9 included), so a stale file never blocks a restart; the file is left in place
// (removing it would let two processes lock two different files).
//
// The read-only CLI tools (`scribe draft`, …) do not take it: they read through SQLite's
// own locking, which the service's WAL mode lets them share.
#pragma once

#include <stdexcept>
#include <string>

namespace scribe {

// Thrown when another process holds the lock; the message names its pid and the file.
class AlreadyRunning : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ProcessLock {
 public:
  // Takes the lock for `db_path` or throws AlreadyRunning (another holder) or
  // std::runtime_error (the lock file cannot be created).
  explicit ProcessLock(const std::string& db_path);
  ~ProcessLock();
  ProcessLock(const ProcessLock&) = delete;
  ProcessLock& operator=(const ProcessLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace scribe
