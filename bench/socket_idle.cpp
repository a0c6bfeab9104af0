// scribe_socket_idle_bench: what a connected, idle Scribe costs in Slack Socket Mode, next
// to the same Scribe serving Slack over HTTP only. Each mode runs the real `scribe serve`
// on a fresh SQLite file; Socket Mode connects (both connections said hello) to a local
// stand-in Slack (apps.connections.open and a TLS WebSocket server with a throwaway CA).
// After `--settle` seconds it reads VmRSS and user+system CPU time (/proc/<pid>/stat)
// at the start and end of a `--seconds` window in which nothing is sent, and prints them.
// Exits non-zero when Socket Mode does not connect or a connection is lost in the window.

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "net/http_client.h"
#include "support/scribe_process.h"
#include "support/slack_standin.h"
#include "support/socket_mode_standin.h"

namespace {

using scribe::HttpClient;
using scribe::testing::ScribeProcess;
using scribe::testing::SlackStandIn;
using scribe::testing::SocketModeStandIn;

constexpr char kAppToken[] = "xapp-1-A0BENCH-socket-idle";

struct Options {
  int seconds = 30;
  int settle = 2;
};

constexpr char kUsage[] =
    "usage: scribe_socket_idle_bench [--seconds S] [--settle S]\n"
    "  --seconds S  idle window measured (default 30)\n"
    "  --settle S   wait after start-up before the window (default 2)\n";

long long metric(const std::string& base_url, const std::string& name) {
  HttpClient http;
  const auto r = http.request("GET", base_url + "/metrics");
  const std::string prefix = "\n" + name + " ";
  const auto at = ("\n" + r.body).find(prefix);
  if (r.status != 200 || at == std::string::npos) return -1;
  return std::stoll(r.body.substr(at + prefix.size() - 1));
}

struct Figures {
  double rss_start_mib = 0;
  double rss_end_mib = 0;
  double anon_end_mib = 0;  // RssAnon: heap and stacks
  double file_end_mib = 0;  // RssFile: mapped code and libraries
  double cpu_ms = 0;
  long long connections_end = -1;
  long long opened_total = -1;
};

Figures measure(const std::map<std::string, std::string>& env, const Options& o, bool socket) {
  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("scribe-socket-idle-{}-{}", getpid(), std::random_device{}());
  std::filesystem::create_directories(dir);
  auto full = env;
  full["SCRIBE_DB"] = (dir / "scribe.db").string();
  full["SCRIBE_LOG_LEVEL"] = "info";  // the start-up line ScribeProcess waits for
  Figures f;
  {
    ScribeProcess server(SCRIBE_BINARY, full,
                         scribe::testing::ScribeProcessOptions{.inherit_scribe_env = false});
    if (socket) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (metric(server.base_url(), "scribe_slack_socket_connections") < 2) {
        if (std::chrono::steady_clock::now() > deadline) {
          std::cerr << "Socket Mode did not connect:\n" << server.logs();
          std::exit(1);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the gauge
      }
    }
    std::this_thread::sleep_for(std::chrono::seconds(o.settle));  // start-up work done
    f.rss_start_mib = server.status_kib("VmRSS") / 1024.0;
    const double cpu_start = server.cpu_seconds();
    std::this_thread::sleep_for(std::chrono::seconds(o.seconds));  // the idle window
    f.cpu_ms = (server.cpu_seconds() - cpu_start) * 1000.0;
    f.rss_end_mib = server.status_kib("VmRSS") / 1024.0;
    f.anon_end_mib = server.status_kib("RssAnon") / 1024.0;
    f.file_end_mib = server.status_kib("RssFile") / 1024.0;
    if (socket) {
      f.connections_end = metric(server.base_url(), "scribe_slack_socket_connections");
      f.opened_total = metric(server.base_url(), "scribe_slack_socket_opened_total");
    }
    server.terminate();
  }
  std::filesystem::remove_all(dir);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto number = [&](int& out) {
      if (i + 1 >= argc) return false;
      const std::string_view v = argv[++i];
      return std::from_chars(v.data(), v.data() + v.size(), out).ec == std::errc() && out >= 0;
    };
    bool ok = false;
    if (arg == "--seconds") ok = number(o.seconds) && o.seconds > 0;
    if (arg == "--settle") ok = number(o.settle);
    if (!ok) {
      std::cerr << kUsage;
      return 2;
    }
  }

  SlackStandIn api("");
  SocketModeStandIn sockets;
  api.serve_socket_mode(kAppToken, [&sockets] { return sockets.next_url(); });

  const Figures http = measure({{"SCRIBE_SLACK_SIGNING_SECRET", "bench-secret"}}, o, false);
  const Figures socket = measure({{"SCRIBE_SLACK_APP_TOKEN", kAppToken},
                                  {"SCRIBE_SLACK_API_URL", api.base_url()},
                                  {"SSL_CERT_FILE", sockets.ca_file()}},
                                 o, true);

  fmt::print("Idle Scribe, {} s window after {} s settle (VmRSS; user+system CPU from /proc)\n",
             o.seconds, o.settle);
  auto row = [&](const char* label, const Figures& f) {
    fmt::print(
        "  {:<22} RSS {:.1f} -> {:.1f} MiB (anon {:.1f}, file {:.1f})   CPU {:.1f} ms ({:.3f}% of "
        "one core)\n",
        label, f.rss_start_mib, f.rss_end_mib, f.anon_end_mib, f.file_end_mib, f.cpu_ms,
        f.cpu_ms / (o.seconds * 10.0));
  };
  row("HTTP only", http);
  row("Socket Mode, 2 sockets", socket);
  fmt::print("  socket connections open at the end: {}, opened in all: {}\n",
             socket.connections_end, socket.opened_total);
  fmt::print(
      "RESULT http_rss_mib={:.1f} http_cpu_ms={:.1f} socket_rss_mib={:.1f} socket_cpu_ms={:.1f}\n",
      http.rss_end_mib, http.cpu_ms, socket.rss_end_mib, socket.cpu_ms);
  // The connections must have stayed up through the idle window.
  return socket.connections_end == 2 && socket.opened_total == 2 ? 0 : 1;
}
