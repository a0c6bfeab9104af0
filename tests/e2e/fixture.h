// The fixture of the end-to-end tests: a temporary directory, the real `scribe serve` on
// a loopback port with a SQLite file there, a client that signs like Slack, and the API.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include <date/date.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "support/scribe_process.h"
#include "support/slack_client.h"
#include "support/slack_standin.h"

namespace scribe::testing {

using json = nlohmann::json;

inline const SlackUser kAlice{"U0ALICE", "alice"};
inline const SlackUser kBob{"U0BOB", "bob"};

// "2026-11-21T10:15:00Z" for a whole-second time point.
inline std::string iso(std::chrono::sys_seconds t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", t);
}

struct CliResult {
  int status = -1;
  std::string out;  // stdout and stderr
};

// Runs a shell command and returns its exit status and output (stdout and stderr).
inline CliResult run_shell(const std::string& command) {
  CliResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) r.out.append(buffer, n);
  const int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

// Runs `scribe <args>` on the database `db`. `env` is put before the command as it is
// ("SCRIBE_X='y' "): for a test's own settings.
inline CliResult run_cli(const std::string& db, const std::string& args,
                         const std::string& env = "") {
  return run_shell(env + "SCRIBE_DB='" + db + "' SCRIBE_LOG_LEVEL=warn '" + SCRIBE_BINARY + "' " +
                   args);
}

class ScribeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("scribe-e2e-{}-{}", getpid(), std::random_device{}());
    std::filesystem::create_directories(dir_);
    start();
  }

  void TearDown() override {
    scribe_.reset();
    std::filesystem::remove_all(dir_);
  }

  // `extra` adds to (and overrides) the environment of every start.
  void start(std::map<std::string, std::string> extra = {}) {
    for (auto& [k, v] : extra) env_[k] = v;
    std::map<std::string, std::string> env = {
        {"SCRIBE_DB", (dir_ / "scribe.db").string()},
        {"SCRIBE_SLACK_SIGNING_SECRET", kSecret},
        {"SCRIBE_API_TOKEN", kToken},
        {"SCRIBE_LOG_LEVEL", "info"},
    };
    for (auto& [k, v] : env_) env[k] = v;
    // A start replaces the running process: only one may serve a database.
    scribe_.reset();
    ScribeProcessOptions options;
    options.args = args_;
    scribe_ = std::make_unique<ScribeProcess>(SCRIBE_BINARY, env, options);
    slack_ = std::make_unique<SlackClient>(scribe_->base_url(), kSecret);
    started();
  }

  // After each start: for a fixture that must wait for something of the new process.
  virtual void started() {}

  void restart() {
    ASSERT_EQ(scribe_->terminate(), 0) << scribe_->logs();
    start();
  }

  HttpResult api(const std::string& path, const std::string& token = kToken) {
    return http_.request("GET", scribe_->base_url() + path, {"Authorization: Bearer " + token});
  }

  json api_json(const std::string& path) {
    HttpResult r = api(path);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  // POSTs `body` to `path` signed as Slack signs (with `secret`), plus `extra_headers`.
  HttpResult post_signed_to(const std::string& path, const std::string& body,
                            const std::string& content_type,
                            const std::vector<std::string>& extra_headers = {},
                            const std::string& secret = kSecret) {
    SlackClient signer(scribe_->base_url(), secret);
    auto headers = signer.signed_headers(body, std::nullopt, content_type);
    headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
    return http_.request("POST", scribe_->base_url() + path, headers, body);
  }

  std::size_t incident_count() { return api_json("/api/incidents")["incidents"].size(); }

  // The service's wall clock held still with libfaketime (start_with_fake_clock), at `utc`
  // ("2017-02-28 17:52:00") until moved again; `now_` is the same time for the test's own
  // signatures. Timeouts and waits keep real (monotonic) time.
  void clock_at(const std::string& utc) {
    // Replaced whole (a new file renamed over it): the server reads the file on every clock
    // read and would otherwise meet it empty or half written.
    const std::filesystem::path next = clock_file().string() + ".next";
    std::ofstream(next, std::ios::binary) << utc << "\n";
    std::filesystem::rename(next, clock_file());
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    ASSERT_EQ(std::sscanf(utc.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec), 6) << utc;
    now_ = date::sys_days{date::year{y} / mo / d} + std::chrono::hours{h} +
           std::chrono::minutes{mi} + std::chrono::seconds{sec};
  }

  std::filesystem::path clock_file() const { return dir_ / "clock"; }

  // libfaketimeMT, not libfaketime: with FAKETIME_NO_CACHE every clock read re-reads the
  // file and re-parses it into the library's static state, and libfaketime 0.9.10 does that
  // without a lock. A thread that read the file's name while another rewrote it fell back to
  // "+0", switching the library to a running clock for a moment, and a concurrent read
  // returned the held time plus the time since the server started (a new ETag for an
  // unchanged draft). The MT build (same package, PTHREAD_SINGLETHREADED_TIME) does each
  // read under one mutex; the server never forks, where that lock could be inherited held.
  static std::string libfaketime_mt() {
    const auto mt = std::filesystem::path(SCRIBE_LIBFAKETIME).parent_path() / "libfaketimeMT.so.1";
    if (!std::filesystem::exists(mt)) ADD_FAILURE() << mt << " is missing (Debian: libfaketime)";
    return mt.string();
  }

  void start_with_fake_clock(std::map<std::string, std::string> extra = {}) {
    extra["LD_PRELOAD"] = libfaketime_mt();
    extra["FAKETIME_TIMESTAMP_FILE"] = clock_file().string();
    extra["FAKETIME_NO_CACHE"] = "1";
    extra["FAKETIME_DONT_FAKE_MONOTONIC"] = "1";
    start(std::move(extra));
  }

  // A slash command at the service's held time (clock_at), signed as Slack would sign it
  // then; its JSON reply, or a test failure (and null) unless answered 200 with JSON.
  json command_at_held_time(const SlackUser& user, const std::string& command,
                            const std::string& text, const std::string& channel) {
    slack_->sign_at(now_);
    try {
      return slack_->command(command, text, channel, user);
    } catch (const std::exception& e) {
      ADD_FAILURE() << command << " " << text << ": " << e.what();
      return json();
    }
  }

  std::chrono::system_clock::time_point now_;
  // Options of every start before `serve` (e.g. {"--config", path}).
  std::vector<std::string> args_;

  // The value /metrics shows for `name` (a metric without labels); nullopt when the
  // answer has no such line.
  std::optional<long long> metric(const std::string& name) {
    const HttpResult r = http_.request("GET", scribe_->base_url() + "/metrics");
    if (r.status != 200) return std::nullopt;
    const std::string prefix = "\n" + name + " ";
    const auto at = ("\n" + r.body).find(prefix);
    if (at == std::string::npos) return std::nullopt;
    return std::stoll(r.body.substr(at + prefix.size() - 1));
  }

  // Waits until /metrics shows `name` satisfying `ok`, asking again every few milliseconds
  // (the condition is the server's own gauge, not a guess at how long it takes).
  template <typename Predicate>
  bool wait_for_metric(const std::string& name, Predicate ok,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto value = metric(name);
      if (value && ok(*value)) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // between two polls
    }
  }

  // Every outbox job written so far has been delivered or given up, and recorded so
  // (scribe_outbox_pending is 0). A command's jobs are written before it is answered, so
  // after an answer this waits for them too.
  bool wait_for_outbox_drained(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return wait_for_metric(
        "scribe_outbox_pending", [](long long n) { return n == 0; }, timeout);
  }

  static constexpr const char* kSecret = "e2e-signing-secret-8f742231b10e";
  static constexpr const char* kToken = "e2e-api-token";
  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<ScribeProcess> scribe_;
  std::unique_ptr<SlackClient> slack_;
  HttpClient http_;
};

// With a bot token: Scribe also talks to Slack's Web API, played by a stand-in server the
// test starts on loopback.
class SlackE2E : public ScribeE2E {
 protected:
  void SetUp() override {
    env_["SCRIBE_SLACK_BOT_TOKEN"] = standin_.token();
    env_["SCRIBE_SLACK_API_URL"] = standin_.base_url();
    ScribeE2E::SetUp();
  }

  SlackStandIn standin_;
};

}  // namespace scribe::testing
