// ScribeProcess: runs the real `scribe serve` binary for end-to-end tests and
// benchmarks, on a loopback port it picks itself, and tells which port that is.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace scribe::testing {

class ScribeProcess {
 public:
  // `env` adds to (and overrides) the test's own environment; SCRIBE_LISTEN defaults to
  // 127.0.0.1:0. Blocks until the service logs that it listens, or throws.
  ScribeProcess(std::string binary, std::map<std::string, std::string> env);
  ~ScribeProcess();  // SIGKILL if still running

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string base_url() const;

  // SIGTERM and wait; returns the exit status (or -signal).
  int terminate(std::chrono::seconds timeout = std::chrono::seconds(15));
  // SIGKILL and wait: a crash.
  void kill_hard();
  // Everything the process wrote to stderr so far.
  std::string logs() const;

 private:
  int wait_for_exit(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  int stderr_fd_ = -1;
  std::thread drain_;
  mutable std::mutex mu_;
  std::string logs_;
};

}  // namespace scribe::testing
