// scribe_fd_bench: runs a `scribe serve` child with a chosen RLIMIT_NOFILE, opens more idle
// connections than that limit allows (as an attacker would, never sending a byte), and
// prints what the server costs meanwhile: its CPU time over the window (from
// /proc/<pid>/stat), the bytes and lines it logged, and whether a correctly signed slash
// command sent during the flood was answered, and how fast.
//
// --binary runs another build (e.g. one of an older commit) for a side-by-side figure.
// Exits non-zero when the command was not answered with 200. Every wait is bounded.

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "net/http_client.h"
#include "support/raw_http.h"
#include "support/scribe_process.h"
#include "support/slack_client.h"

namespace {

using Clock = std::chrono::steady_clock;
using scribe::testing::RawConnection;
using scribe::testing::ScribeProcess;
using scribe::testing::ScribeProcessOptions;
using scribe::testing::SlackClient;

constexpr char kSecret[] = "fd-bench-signing-secret";

struct Options {
  std::string binary = SCRIBE_BINARY;
  rlim_t nofile = 1024;
  std::size_t connections = 1100;
  int seconds = 10;
  std::optional<std::size_t> max_connections;  // SCRIBE_MAX_CONNECTIONS, else the default
};

constexpr char kUsage[] =
    "usage: scribe_fd_bench [--binary PATH] [--nofile N] [--connections C] [--seconds S]\n"
    "                       [--max-connections M]\n"
    "  --binary PATH        the scribe binary to run (default: this build's)\n"
    "  --nofile N           RLIMIT_NOFILE (soft and hard) of the server (default 1024)\n"
    "  --connections C      idle connections to open (default 1100)\n"
    "  --seconds S          measuring window (default 10)\n"
    "  --max-connections M  SCRIBE_MAX_CONNECTIONS for the server (default: unset)\n";

template <typename Number>
bool parse_number(std::string_view text, Number& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    const std::string_view value = argv[++i];
    bool ok = true;
    if (flag == "--binary") {
      o.binary = std::string(value);
    } else if (flag == "--nofile") {
      unsigned long n = 0;
      ok = parse_number(value, n) && n >= 16 && n <= 1'000'000;
      o.nofile = n;
    } else if (flag == "--connections") {
      ok = parse_number(value, o.connections) && o.connections <= 100'000;
    } else if (flag == "--seconds") {
      ok = parse_number(value, o.seconds) && o.seconds > 0 && o.seconds <= 600;
    } else if (flag == "--max-connections") {
      std::size_t m = 0;
      ok = parse_number(value, m) && m > 0;
      o.max_connections = m;
    } else {
      ok = false;
    }
    if (!ok) return std::nullopt;
  }
  return o;
}

std::size_t lines_in(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

int run(const Options& o) {
  // This process holds the idle connections: it needs more descriptors than the server.
  rlimit own{};
  getrlimit(RLIMIT_NOFILE, &own);
  if (own.rlim_max < o.connections + 64) {
    std::cerr << "the hard RLIMIT_NOFILE of this shell is too low for " << o.connections
              << " connections\n";
    return 2;
  }
  own.rlim_cur = own.rlim_max;
  setrlimit(RLIMIT_NOFILE, &own);

  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("scribe-fd-bench-{}-{}", getpid(), std::random_device{}());
  std::filesystem::create_directories(dir);
  std::map<std::string, std::string> env = {{"SCRIBE_DB", (dir / "scribe.db").string()},
                                            {"SCRIBE_SLACK_SIGNING_SECRET", kSecret},
                                            {"SCRIBE_LOG_LEVEL", "info"}};
  if (o.max_connections) env["SCRIBE_MAX_CONNECTIONS"] = std::to_string(*o.max_connections);
  ScribeProcessOptions process_options;
  process_options.inherit_scribe_env = false;
  process_options.rlimits.push_back({RLIMIT_NOFILE, o.nofile, o.nofile});
  int status = 1;
  {
    ScribeProcess server(o.binary, env, process_options);
    const std::size_t log_before = server.logs().size();
    const double cpu_before = server.cpu_seconds();
    const auto start = Clock::now();
    const auto window_end = start + std::chrono::seconds(o.seconds);

    std::vector<std::unique_ptr<RawConnection>> idle;
    idle.reserve(o.connections);
    for (std::size_t i = 0; i < o.connections; ++i) {
      idle.push_back(std::make_unique<RawConnection>(server.port()));
    }
    const auto flooded = Clock::now();

    // The legitimate command, given the rest of the window to be answered.
    const auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(window_end - flooded);
    scribe::HttpClient http(std::max(budget, std::chrono::milliseconds(1000)));
    SlackClient signer(server.base_url(), kSecret);
    const std::string body =
        SlackClient::form_body("/incident", "start During the flood", "C0BENCH", {});
    const scribe::HttpResult reply = http.request("POST", server.base_url() + "/slack/commands",
                                                  signer.signed_headers(body), body);
    const auto answered = Clock::now();
    std::this_thread::sleep_until(window_end);  // the rest of the measuring window

    const double cpu = server.cpu_seconds() - cpu_before;
    const std::chrono::duration<double> wall = Clock::now() - start;
    const std::string log = server.logs().substr(log_before);
    const double latency_ms = std::chrono::duration<double, std::milli>(answered - flooded).count();
    std::cout << fmt::format(
        "binary {}\n"
        "  RLIMIT_NOFILE {}, {} idle connections (opened in {:.0f} ms), window {:.1f} s\n"
        "  server CPU    {:.2f} s = {:.1f}% of one core\n"
        "  server log    {} bytes, {} lines ({:.0f} bytes/s)\n"
        "  signed command during the flood: {} after {:.0f} ms\n",
        o.binary, o.nofile, o.connections,
        std::chrono::duration<double, std::milli>(flooded - start).count(), wall.count(), cpu,
        100 * cpu / wall.count(), log.size(), lines_in(log), log.size() / wall.count(),
        reply.status == 200 ? std::string("HTTP 200")
                            : fmt::format("failed ({} {})", reply.status, reply.error),
        latency_ms);
    status = reply.status == 200 ? 0 : 1;
    idle.clear();
    server.terminate();
  }
  std::filesystem::remove_all(dir);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse_options(argc, argv);
  if (!options) {
    std::cerr << kUsage;
    return 2;
  }
  try {
    return run(*options);
  } catch (const std::exception& e) {
    std::cerr << "scribe_fd_bench: " << e.what() << "\n";
    return 1;
  }
}
