// scribe_leader_takeover_bench: how long replicas on one PostgreSQL are without a leader
// (storage/leadership.h) after the leader is killed. Two `scribe serve` processes on a fresh
// database of the server SCRIBE_TEST_POSTGRES_URL names (deploy/postgres-test.sh starts a
// throwaway one); per run: wait until one leads and the other stands by (their
// scribe_leader gauges), wait a random 1-2 s so the kill falls at any phase of the
// standby's once-a-second attempts, kill -9 the leader, and time until the standby's gauge
// says it leads (polled every 10 ms). The killed one is started again as the next standby.
// Prints every time and min / median / max. Without the variable it says so and exits 0.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "net/http_client.h"
#include "storage/postgres_connection.h"
#include "support/database_url.h"
#include "support/scribe_process.h"

namespace {

using scribe::test::with_database;
using scribe::testing::ScribeProcess;
using namespace std::chrono_literals;

// The replica's scribe_leader gauge; nullopt when /metrics does not answer.
std::optional<bool> leads(scribe::HttpClient& http, const ScribeProcess& p) {
  const scribe::HttpResult r = http.request("GET", p.base_url() + "/metrics");
  const auto at = r.body.find("\nscribe_leader ");
  if (r.status != 200 || at == std::string::npos) return std::nullopt;
  return r.body[at + 15] == '1';
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 10;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
  }
  const char* admin = std::getenv("SCRIBE_TEST_POSTGRES_URL");
  if (admin == nullptr || *admin == '\0') {
    std::printf("SCRIBE_TEST_POSTGRES_URL is not set: no PostgreSQL to measure on\n");
    return 0;
  }
  const std::string name = fmt::format("scribe_takeover_{}", ::getpid());
  {
    scribe::pg::Connection c(admin);
    c.exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name));
    c.exec(fmt::format("CREATE DATABASE {}", name));
  }
  const std::map<std::string, std::string> env = {
      {"SCRIBE_DB", with_database(admin, name)},
      {"SCRIBE_LOG_LEVEL", "info"},  // ScribeProcess waits for "listening on"
  };
  scribe::testing::ScribeProcessOptions options;
  options.inherit_scribe_env = false;
  std::vector<std::unique_ptr<ScribeProcess>> replicas;
  replicas.push_back(std::make_unique<ScribeProcess>(SCRIBE_BINARY, env, options));
  replicas.push_back(std::make_unique<ScribeProcess>(SCRIBE_BINARY, env, options));
  scribe::HttpClient http(2s);
  std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<int> phase_ms(1000, 2000);
  std::vector<double> took;
  int failures = 0;
  for (int run = 0; run < runs; ++run) {
    // One leader, one standby.
    std::size_t leader = 0;
    const auto settle_until = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      const auto a = leads(http, *replicas[0]);
      const auto b = leads(http, *replicas[1]);
      if (a && b && *a != *b) {
        leader = *a ? 0 : 1;
        break;
      }
      if (std::chrono::steady_clock::now() > settle_until) {
        std::fprintf(stderr, "no single leader within 30 s\n");
        return 1;
      }
      std::this_thread::sleep_for(10ms);  // between two polls
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(phase_ms(random)));
    ScribeProcess& standby = *replicas[1 - leader];
    replicas[leader]->kill_hard();
    const auto killed = std::chrono::steady_clock::now();
    bool taken = false;
    while (std::chrono::steady_clock::now() - killed < 30s) {
      if (leads(http, standby).value_or(false)) {
        taken = true;
        break;
      }
      std::this_thread::sleep_for(10ms);  // the gauge's polling resolution
    }
    if (!taken) {
      ++failures;
    } else {
      took.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - killed)
              .count());
    }
    replicas[leader] = std::make_unique<ScribeProcess>(SCRIBE_BINARY, env, options);
  }
  replicas.clear();
  {
    scribe::pg::Connection c(admin);
    c.exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name));
  }
  std::printf("leader takeover after kill -9 (ms, %zu runs):", took.size());
  for (const double t : took) std::printf(" %.0f", t);
  std::printf("\n");
  if (!took.empty()) {
    std::sort(took.begin(), took.end());
    std::printf("min %.0f  median %.0f  max %.0f ms\n", took.front(), took[took.size() / 2],
                took.back());
  }
  if (failures > 0) {
    std::fprintf(stderr, "%d run(s) without a takeover within 30 s\n", failures);
    return 1;
  }
  return 0;
}
