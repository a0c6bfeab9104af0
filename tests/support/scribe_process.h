// ScribeProcess: runs the real `scribe serve` binary for end-to-end tests and
// benchmarks, on a loopback port it picks itself, and tells which port that is.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace scribe::testing {

struct ScribeProcessOptions {
  // false: SCRIBE_* variables of the caller's environment are dropped, so only `env` applies.
  bool inherit_scribe_env = true;
  // The server gets SIGTERM when the thread that started it exits (PR_SET_PDEATHSIG), so a
  // crashed caller leaves no server behind. Only for a ScribeProcess made on a long-lived thread.
  bool die_with_parent = false;
  std::chrono::seconds startup_timeout = std::chrono::seconds(20);
  // Resource limits set in the child before exec (e.g. a low RLIMIT_NOFILE); the child
  // exits with 126 and says why on stderr when one cannot be set.
  struct Limit {
    decltype(RLIMIT_NOFILE) resource = RLIMIT_NOFILE;  // glibc types it as an enum
    rlim_t soft = RLIM_INFINITY;
    rlim_t hard = RLIM_INFINITY;
  };
  std::vector<Limit> rlimits = {};
  // Options before `serve` (e.g. "--config", a TOML file).
  std::vector<std::string> args = {};
};

class ScribeProcess {
 public:
  // Special results of terminate(); otherwise it returns the exit status, or -signal.
  static constexpr int kUnknownStatus = -1000;
  static constexpr int kKilledAfterTimeout = -2000;  // ignored SIGTERM: SIGKILLed
  static constexpr int kNotRunning = -3000;

  // `env` adds to (and overrides) the test's own environment; SCRIBE_LISTEN defaults to
  // 127.0.0.1:0. Blocks until the service logs that it listens, or throws.
  ScribeProcess(std::string binary, std::map<std::string, std::string> env,
                ScribeProcessOptions options = {});
  // If still running: SIGTERM, and SIGKILL when it has not exited after 10 s. A clean exit
  // lets a sanitized build report leaks (see sanitizer_reports()).
  ~ScribeProcess();

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string base_url() const;

  // SIGTERM and wait; returns the exit status (or -signal, or one of the constants above).
  int terminate(std::chrono::seconds timeout = std::chrono::seconds(15));
  // For a process already told to stop: wait (no signal), as terminate() does.
  int wait_until_exited(std::chrono::seconds timeout = std::chrono::seconds(15));
  // SIGKILL and wait: a crash.
  void kill_hard();
  // Everything the process wrote to stderr so far.
  std::string logs() const;
  // Whether stderr shows `text` within `timeout`: woken by each chunk the process writes.
  bool wait_for_log(std::string_view text, std::chrono::milliseconds timeout) const;

  // The AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer reports that any
  // ScribeProcess of this program has found in the log of its process once it exited, in
  // order. A sanitized `scribe` may exit with the status a test expects and still have
  // reported; the end-to-end tests fail on these (tests/e2e/sanitizer_reports.cpp).
  static std::vector<std::string> sanitizer_reports();

  // A "VmRSS:   1234 kB" field of /proc/<pid>/status, in KiB; -1 when not running/unreadable.
  long status_kib(std::string_view field) const;
  // User + system CPU seconds the process has used so far; -1 when not running/unreadable.
  double cpu_seconds() const;

 private:
  int wait_for_exit(std::chrono::milliseconds timeout);
  // After the process exited: waits for the rest of its log, then keeps any sanitizer
  // report in it.
  void finish_logs();

  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  int stderr_fd_ = -1;
  std::thread drain_;
  mutable std::mutex mu_;
  mutable std::condition_variable logs_grew_;
  std::string logs_;  // guarded by mu_
};

}  // namespace scribe::testing
