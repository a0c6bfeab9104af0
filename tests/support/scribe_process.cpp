#include "support/scribe_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace scribe::testing {
namespace {

std::mutex reports_mu;
std::vector<std::string> reports;

// The start of each sanitizer report in `log`, up to a few KB of it.
void collect_reports(const std::string& log) {
  static constexpr std::string_view kMarkers[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                                  "SUMMARY: UndefinedBehaviorSanitizer",
                                                  ": runtime error: "};
  std::size_t first = std::string::npos;
  for (std::string_view marker : kMarkers) first = std::min(first, log.find(marker));
  if (first == std::string::npos) return;
  const std::size_t line = log.rfind('\n', first);
  const std::size_t begin = line == std::string::npos ? 0 : line + 1;
  std::lock_guard lock(reports_mu);
  reports.push_back(log.substr(begin, 8000));
}

}  // namespace

ScribeProcess::ScribeProcess(std::string binary, std::map<std::string, std::string> env,
                             ScribeProcessOptions options) {
  if (!env.count("SCRIBE_LISTEN")) env["SCRIBE_LISTEN"] = "127.0.0.1:0";
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    if (!options.inherit_scribe_env && kv.starts_with("SCRIBE_")) continue;
    merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_strings;
  for (auto& [k, v] : merged) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_strings = {binary};
  arg_strings.insert(arg_strings.end(), options.args.begin(), options.args.end());
  arg_strings.push_back("serve");
  std::vector<char*> argv;
  for (auto& a : arg_strings) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    if (options.die_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    }
    dup2(pipe_fds[1], STDERR_FILENO);
    for (const auto& l : options.rlimits) {
      const rlimit limit{l.soft, l.hard};
      if (setrlimit(l.resource, &limit) != 0) {
        static constexpr char kWhy[] = "setrlimit failed in the child\n";
        (void)!write(STDERR_FILENO, kWhy, sizeof kWhy - 1);
        _exit(126);
      }
    }
    const int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, STDIN_FILENO);
    dup2(devnull, STDOUT_FILENO);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  stderr_fd_ = pipe_fds[0];

  // Read until the "listening on host:port" line, then keep draining in the background
  // so the child never blocks on a full pipe.
  const auto deadline = std::chrono::steady_clock::now() + options.startup_timeout;
  std::string seen;
  char buf[4096];
  while (port_ == 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{stderr_fd_, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      kill_hard();
      throw std::runtime_error("scribe did not start listening; its log:\n" + seen);
    }
    const ssize_t n = read(stderr_fd_, buf, sizeof buf);
    if (n <= 0) {
      wait_for_exit(std::chrono::seconds(1));
      pid_ = -1;
      throw std::runtime_error("scribe exited during start-up; its log:\n" + seen);
    }
    seen.append(buf, static_cast<std::size_t>(n));
    const auto at = seen.find("listening on ");
    if (at != std::string::npos) {
      const auto eol = seen.find('\n', at);
      if (eol == std::string::npos) continue;
      const std::string addr = seen.substr(at + 13, eol - at - 13);
      port_ = static_cast<std::uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
    }
  }
  {
    std::lock_guard lock(mu_);
    logs_ = seen;
  }
  drain_ = std::thread([this] {
    char chunk[4096];
    ssize_t n;
    while ((n = read(stderr_fd_, chunk, sizeof chunk)) > 0) {
      {
        std::lock_guard lock(mu_);
        logs_.append(chunk, static_cast<std::size_t>(n));
      }
      logs_grew_.notify_all();
    }
  });
}

ScribeProcess::~ScribeProcess() {
  if (pid_ > 0) terminate(std::chrono::seconds(10));
  if (drain_.joinable()) drain_.join();
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

std::vector<std::string> ScribeProcess::sanitizer_reports() {
  std::lock_guard lock(reports_mu);
  return reports;
}

void ScribeProcess::finish_logs() {
  if (drain_.joinable()) drain_.join();
  collect_reports(logs());
}

std::string ScribeProcess::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

int ScribeProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return -WTERMSIG(status);
      return kUnknownStatus;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return kKilledAfterTimeout;  // still running: terminate() kills it
}

int ScribeProcess::terminate(std::chrono::seconds timeout) {
  if (pid_ <= 0) return kNotRunning;
  kill(pid_, SIGTERM);
  return wait_until_exited(timeout);
}

int ScribeProcess::wait_until_exited(std::chrono::seconds timeout) {
  if (pid_ <= 0) return kNotRunning;
  const int status = wait_for_exit(timeout);
  if (status == kKilledAfterTimeout) {
    kill_hard();
  } else {
    finish_logs();
  }
  return status;
}

void ScribeProcess::kill_hard() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  finish_logs();
}

std::string ScribeProcess::logs() const {
  std::lock_guard lock(mu_);
  return logs_;
}

bool ScribeProcess::wait_for_log(std::string_view text, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return logs_grew_.wait_for(lock, timeout, [&] { return logs_.find(text) != std::string::npos; });
}

long ScribeProcess::status_kib(std::string_view field) const {
  if (pid_ <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

double ScribeProcess::cpu_seconds() const {
  if (pid_ <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const auto paren = stat.rfind(')');  // the command name may contain spaces
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  double ticks = 0;
  for (int n = 3; n <= 15 && fields >> field; ++n) {  // fields 14 and 15: utime, stime
    if (n >= 14) ticks += std::strtod(field.c_str(), nullptr);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace scribe::testing
