// scribe_load_bench: drives a real `scribe serve` child process with signed Slack slash
// commands over loopback and prints throughput, latency percentiles and server memory.
//
// For each SQLite synchronous mode (one fresh server and database each):
//   closed  C keep-alive connections, one request in flight each, sent as fast as the server
//           answers. This measures capacity. Its latencies hide queueing (a stalled server
//           also stalls the sender: "coordinated omission"), so they are not the figure to
//           quote for responsiveness.
//   paced   the same connections; request k is due at start + k/R. Latency is measured from
//           the due time, so a server that falls behind is charged for every request that
//           had to wait, whether it waited in the server or in this client.
// Afterwards GET /api/incidents/1 proves that every acknowledged command was stored.
//
// Client and server share the machine, so on a small box the client's CPU time (printed)
// competes with the server's. Every loop is bounded by a request count and a time limit.

#include <sys/resource.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "support/scribe_process.h"
#include "support/slack_client.h"
#include "util/strings.h"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using scribe::HttpClient;
using scribe::HttpResult;
using scribe::testing::ScribeProcess;
using scribe::testing::SlackClient;

// A request still unanswered this long after its phase's time bound counts as failed.
constexpr auto kHardBoundGrace = 2s;
constexpr auto kStartupTimeout = 10s;
constexpr auto kSingleRequestTimeout = 15s;
constexpr auto kStopTimeout = 15s;
constexpr char kChannel[] = "C0BENCH";
const scribe::testing::SlackUser kUser{"U0BENCH", "bench"};
constexpr std::string_view kEventPrefix = "bench event ";

// ---------------------------------------------------------------------------------------
// Command line

struct Options {
  std::uint64_t requests = 20000;  // per phase
  int connections = 16;
  double rate = 10000;      // commands/s for the paced phase
  double max_seconds = 20;  // hard bound per phase
  std::vector<std::string> synchronous = {"full", "normal"};
  int server_threads = 0;  // 0: leave SCRIBE_THREADS unset (the server's default)
};

constexpr std::string_view kUsage =
    "usage: scribe_load_bench [--requests N] [--connections C] [--rate R] [--max-seconds S]\n"
    "                         [--synchronous full|normal] [--server-threads T]\n"
    "  --requests N        requests per phase (default 20000)\n"
    "  --connections C     keep-alive connections, one request in flight each (default 16)\n"
    "  --rate R            target commands/s of the paced phase (default 10000)\n"
    "  --max-seconds S     hard time bound per phase (default 20)\n"
    "  --synchronous MODE  SQLite synchronous mode; default: run full and normal, one\n"
    "                      server each\n"
    "  --server-threads T  SCRIBE_THREADS for the server (default: the server's default)\n"
    "The database goes to $TMPDIR (or /tmp); its filesystem is printed, since fsync cost\n"
    "depends on it.\n";

template <class Number>
bool parse_number(std::string_view text, Number& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

// Returns nullopt (after printing why) when the arguments are not usable.
std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::cerr << "scribe_load_bench: " << flag << " needs a value\n" << kUsage;
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    bool ok = false;
    if (flag == "--requests") {
      ok = parse_number(value, o.requests) && o.requests > 0;
    } else if (flag == "--connections") {
      ok = parse_number(value, o.connections) && o.connections > 0 && o.connections <= 1000;
    } else if (flag == "--rate") {
      ok = parse_number(value, o.rate) && o.rate > 0 && o.rate <= 1e7;
    } else if (flag == "--max-seconds") {
      ok = parse_number(value, o.max_seconds) && o.max_seconds > 0 && o.max_seconds <= 3600;
    } else if (flag == "--synchronous") {
      ok = value == "full" || value == "normal";
      o.synchronous = {std::string(value)};
    } else if (flag == "--server-threads") {
      ok = parse_number(value, o.server_threads) && o.server_threads > 0 && o.server_threads <= 64;
    } else {
      std::cerr << "scribe_load_bench: unknown option " << flag << "\n" << kUsage;
      return std::nullopt;
    }
    if (!ok) {
      std::cerr << "scribe_load_bench: bad value '" << value << "' for " << flag << "\n" << kUsage;
      return std::nullopt;
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------
// Small helpers

std::string random_hex() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", rd(), rd(), rd(), rd());
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The kind of filesystem holding `path`: fsync on tmpfs is free, on a disk it is not.
std::string filesystem_name(const std::filesystem::path& path) {
  struct statfs info {};
  if (statfs(path.c_str(), &info) != 0) return "unknown";
  const auto type = static_cast<unsigned long long>(info.f_type);
  constexpr std::pair<unsigned long long, const char*> kKnown[] = {
      {0xEF53, "ext2/3/4"},  {0x01021994, "tmpfs"},     {0x58465342, "xfs"},
      {0x9123683E, "btrfs"}, {0x794C7630, "overlayfs"}, {0x2FC12FC1, "zfs"}};
  for (const auto& [magic, name] : kKnown) {
    if (magic == type) return name;
  }
  return fmt::format("0x{:x}", type);
}

double own_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return tv(usage.ru_utime) + tv(usage.ru_stime);
}

// The 1-minute load average: client and server share this machine with everything else,
// so a busy machine shows up here rather than as an unexplained slow run.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one.empty() ? "unknown" : one;
}

double mib(long kib) { return kib < 0 ? -1 : static_cast<double>(kib) / 1024.0; }

// A fresh directory for one server's database, removed afterwards.
struct TempDir {
  TempDir()
      : path(std::filesystem::temp_directory_path() /
             fmt::format("scribe-bench-{}", random_hex())) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path;
};

// ---------------------------------------------------------------------------------------
// The server under test: `scribe serve` as a child process, and the exact bytes Slack sends

// "server exited with status 3" and the like; empty for a clean exit.
std::string exit_note(int status) {
  if (status == 0) return {};
  if (status == ScribeProcess::kKilledAfterTimeout) return "server ignored SIGTERM and was killed";
  return status > 0 ? fmt::format("server exited with status {}", status)
                    : fmt::format("server died of signal {}", -status);
}

// The server's warning and error lines: under load they explain failures.
std::vector<std::string> notable_lines(const std::string& log) {
  std::vector<std::string> notable;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(" warning ") != std::string::npos || line.find(" error ") != std::string::npos ||
        line.find(" critical ") != std::string::npos) {
      notable.push_back(line);
    }
  }
  return notable;
}

// A signed POST /slack/commands, signed at build time as Slack signs at send time.
struct CommandRequests {
  SlackClient signer;  // signs only: the requests go over the bench's own connections
  std::string host;

  std::string operator()(const std::string& command, const std::string& text) const {
    const std::string body = SlackClient::form_body(command, text, kChannel, kUser);
    std::string request = fmt::format("POST /slack/commands HTTP/1.1\r\nHost: {}\r\n", host);
    for (const auto& header : signer.signed_headers(body)) request += header + "\r\n";
    return request + fmt::format("Content-Length: {}\r\n\r\n{}", body.size(), body);
  }
};

// Slack renders a command's reply from this JSON; a recorded event is posted to the
// channel. The "could not save" reply is also a 200, but ephemeral: that is a failure.
bool reply_says_recorded(std::string_view body) {
  return body.find(R"("response_type":"in_channel")") != std::string_view::npos;
}

// ---------------------------------------------------------------------------------------
// HTTP/1.1 over a plain Asio socket: one request in flight, response framed by
// Content-Length (Scribe's server always sends it).

struct Response {
  int status = 0;
  std::string body;
  bool keep_alive = true;
  std::string error;  // transport or framing problem; status is 0 then
};

enum class Parse { kIncomplete, kDone, kBad };

// Parses one response from the front of `in`, consuming it when complete.
Parse parse_response(std::string& in, Response& out) {
  constexpr std::size_t kMaxHeader = 64 * 1024;
  const auto header_end = in.find("\r\n\r\n");
  if (header_end == std::string::npos) {
    if (in.size() <= kMaxHeader) return Parse::kIncomplete;
    out.error = "response header too large";
    return Parse::kBad;
  }
  const std::string_view head(in.data(), header_end);
  if (!head.starts_with("HTTP/1.") || head.size() < 12 ||
      !parse_number(head.substr(9, 3), out.status)) {
    out.error = fmt::format("bad status line: {}", head.substr(0, head.find('\r')));
    return Parse::kBad;
  }
  std::optional<std::size_t> length;
  for (std::size_t pos = head.find("\r\n"); pos != std::string_view::npos;) {
    const std::size_t start = pos + 2;
    pos = head.find("\r\n", start);
    std::string line(head.substr(start, pos == std::string_view::npos ? pos : pos - start));
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = scribe::lower(line.substr(0, colon));
    std::string_view value = std::string_view(line).substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (name == "content-length") {
      std::size_t n = 0;
      if (parse_number(value, n)) length = n;
    } else if (name == "connection" && value.starts_with("close")) {
      out.keep_alive = false;
    } else if (name == "transfer-encoding") {
      out.error = "unexpected Transfer-Encoding";
      return Parse::kBad;
    }
  }
  if (!length) {
    out.error = "response without Content-Length";
    return Parse::kBad;
  }
  const std::size_t total = header_end + 4 + *length;
  if (in.size() < total) return Parse::kIncomplete;
  out.body = in.substr(header_end + 4, *length);
  in.erase(0, total);
  return Parse::kDone;
}

class Connection {
 public:
  using Done = std::function<void(Response)>;

  explicit Connection(asio::io_context& io) : socket_(io) {}

  void connect(std::uint16_t port) {
    socket_.connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
    // One write per request, but the latency being measured must not include Nagle.
    socket_.set_option(tcp::no_delay(true));
  }

  bool usable() const { return socket_.is_open() && reusable_; }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  // Writes `request` and reads one response; `done` runs on the io_context.
  void exchange(std::string request, Done done) {
    out_ = std::move(request);
    done_ = std::move(done);
    asio::async_write(socket_, asio::buffer(out_),
                      [this](const boost::system::error_code& ec, std::size_t) {
                        if (ec) return fail("write: " + ec.message());
                        read_response();
                      });
  }

 private:
  void read_response() {
    Response r;
    switch (parse_response(in_, r)) {
      case Parse::kDone:
        reusable_ = r.keep_alive;
        return finish(std::move(r));
      case Parse::kBad:
        return fail(r.error);
      case Parse::kIncomplete:
        break;
    }
    socket_.async_read_some(asio::buffer(chunk_),
                            [this](const boost::system::error_code& ec, std::size_t n) {
                              if (ec == asio::error::eof)
                                return fail("server closed the connection");
                              if (ec == asio::error::operation_aborted) {
                                return fail("abandoned: no response by the hard time bound");
                              }
                              if (ec) return fail("read: " + ec.message());
                              in_.append(chunk_.data(), n);
                              read_response();
                            });
  }

  void fail(std::string why) {
    reusable_ = false;  // the stream is no longer at a response boundary
    Response r;
    r.error = std::move(why);
    finish(std::move(r));
  }

  void finish(Response r) {
    Done done = std::move(done_);
    done_ = nullptr;
    done(std::move(r));
  }

  tcp::socket socket_;
  std::string out_;
  std::string in_;
  std::vector<char> chunk_ = std::vector<char>(64 * 1024);
  Done done_;
  bool reusable_ = true;
};

using Connections = std::vector<std::unique_ptr<Connection>>;

// ---------------------------------------------------------------------------------------
// Load phases

struct PhaseSpec {
  std::string name;            // "closed" or "paced"
  std::optional<double> rate;  // commands/s; empty: closed loop
  std::uint64_t requests = 0;
  Clock::duration time_bound{};
};

struct PhaseResult {
  PhaseSpec spec;
  std::uint64_t sent = 0;
  std::uint64_t failures = 0;
  std::uint64_t not_sent = 0;  // paced: due before the time bound but never sent (fell behind)
  std::size_t connections_lost = 0;
  bool hit_hard_bound = false;
  Clock::duration elapsed{};
  std::vector<std::int64_t> latencies_ns;   // acknowledged requests only
  std::vector<std::uint64_t> acknowledged;  // event numbers that got a recorded 200
  std::vector<std::string> failure_samples;
  double server_cpu_s = 0;
  double client_cpu_s = 0;
  long peak_rss_kib = -1;  // VmHWM after the phase (a high-water mark: includes earlier phases)
};

// Runs one phase on one thread: every connection is driven by callbacks on `io`.
class PhaseRunner {
 public:
  PhaseRunner(asio::io_context& io, Connections& connections, const CommandRequests& requests,
              std::uint64_t& next_event, PhaseSpec spec)
      : io_(io),
        connections_(connections),
        requests_(requests),
        next_event_(next_event),
        watchdog_(io) {
    result_.spec = std::move(spec);
    timers_.reserve(connections_.size());
    for (std::size_t i = 0; i < connections_.size(); ++i) timers_.emplace_back(io_);
  }

  PhaseResult run() {
    const PhaseSpec& spec = result_.spec;
    result_.latencies_ns.reserve(std::min<std::uint64_t>(spec.requests, 1u << 24));
    start_ = Clock::now();
    deadline_ = start_ + spec.time_bound;
    last_done_ = start_;
    // The time bound stops new requests; this also ends ones that never get an answer.
    watchdog_.expires_at(deadline_ + kHardBoundGrace);
    watchdog_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) abandon_in_flight();
    });
    active_ = connections_.size();
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      asio::post(io_, [this, i] { next(i); });
    }
    io_.restart();
    io_.run();
    result_.elapsed = last_done_ - start_;
    result_.not_sent = count_not_sent();
    return std::move(result_);
  }

 private:
  // Connection i is free: send its next request now (closed) or when due (paced).
  void next(std::size_t i) {
    if (result_.sent >= result_.spec.requests || Clock::now() >= deadline_) return retire();
    if (!connections_[i]->usable()) {
      ++result_.connections_lost;
      return retire();
    }
    if (!result_.spec.rate) {
      ++result_.sent;
      return send(i, next_event_++, std::nullopt);
    }
    const Clock::time_point due = due_time(result_.sent);
    if (due >= deadline_) return retire();
    ++result_.sent;
    const std::uint64_t event = next_event_++;
    if (due <= Clock::now()) return send(i, event, due);  // behind schedule: no waiting
    timers_[i].expires_at(due);
    timers_[i].async_wait([this, i, event, due](const boost::system::error_code& ec) {
      if (ec) {
        --result_.sent;
        return retire();
      }
      send(i, event, due);
    });
  }

  // Latency runs from `due` when paced, otherwise from just before the write.
  void send(std::size_t i, std::uint64_t event, std::optional<Clock::time_point> due) {
    std::string request = requests_("/timeline", fmt::format("{}{}", kEventPrefix, event));
    const Clock::time_point origin = due.value_or(Clock::now());
    connections_[i]->exchange(std::move(request), [this, i, event, origin](Response r) {
      on_response(i, event, origin, std::move(r));
    });
  }

  void on_response(std::size_t i, std::uint64_t event, Clock::time_point origin, Response r) {
    const Clock::time_point now = Clock::now();
    last_done_ = std::max(last_done_, now);
    if (!r.error.empty()) {
      fail(event, r.error);
    } else if (r.status != 200) {
      fail(event, fmt::format("HTTP {}: {}", r.status, excerpt(r.body)));
    } else if (!reply_says_recorded(r.body)) {
      fail(event, fmt::format("HTTP 200 but not recorded: {}", excerpt(r.body)));
    } else {
      result_.latencies_ns.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - origin).count());
      result_.acknowledged.push_back(event);
    }
    next(i);
  }

  // The first line of a response body, for failure messages.
  static std::string_view excerpt(std::string_view body) {
    return body.substr(0, std::min<std::size_t>(body.find_first_of("\r\n"), 200));
  }

  void fail(std::uint64_t event, std::string why) {
    ++result_.failures;
    if (result_.failure_samples.size() < 5) {
      result_.failure_samples.push_back(fmt::format("event {}: {}", event, why));
    }
  }

  void retire() {
    if (--active_ == 0) watchdog_.cancel();
  }

  // Hard bound reached: whatever is still in flight is failed by closing its socket.
  void abandon_in_flight() {
    result_.hit_hard_bound = true;
    for (auto& c : connections_) c->close();
    for (auto& t : timers_) t.cancel();
  }

  Clock::time_point due_time(std::uint64_t k) const {
    const double offset = static_cast<double>(k) / *result_.spec.rate;
    return start_ +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(offset));
  }

  std::uint64_t count_not_sent() const {
    if (!result_.spec.rate) return 0;
    std::uint64_t k = result_.sent;
    while (k < result_.spec.requests && due_time(k) < deadline_) ++k;
    return k - result_.sent;
  }

  asio::io_context& io_;
  Connections& connections_;
  const CommandRequests& requests_;
  std::uint64_t& next_event_;
  std::vector<asio::steady_timer> timers_;  // one per connection, for paced sends
  asio::steady_timer watchdog_;
  Clock::time_point start_;
  Clock::time_point deadline_;
  Clock::time_point last_done_;
  std::size_t active_ = 0;  // connections still sending
  PhaseResult result_;
};

PhaseResult run_phase(asio::io_context& io, Connections& connections,
                      const CommandRequests& requests, std::uint64_t& next_event, PhaseSpec spec,
                      const ScribeProcess& server) {
  const double server_cpu = server.cpu_seconds();
  const double client_cpu = own_cpu_seconds();
  PhaseResult r = PhaseRunner(io, connections, requests, next_event, std::move(spec)).run();
  r.server_cpu_s = server.cpu_seconds() - server_cpu;
  r.client_cpu_s = own_cpu_seconds() - client_cpu;
  r.peak_rss_kib = server.status_kib("VmHWM");
  return r;
}

// ---------------------------------------------------------------------------------------
// Durability: everything acknowledged must be in the stored timeline

struct Durability {
  std::uint64_t acknowledged = 0;
  std::uint64_t stored = 0;   // timeline events, the declaration excluded
  std::uint64_t missing = 0;  // acknowledged but not stored
  std::string error;
  bool ok() const { return error.empty() && missing == 0 && stored == acknowledged; }
};

Durability check_durability(const ScribeProcess& server, const std::string& api_token,
                            const std::vector<const PhaseResult*>& phases,
                            std::uint64_t events_numbered) {
  Durability d;
  std::vector<bool> acked(events_numbered + 1, false);
  for (const auto* p : phases) {
    for (const auto e : p->acknowledged) acked[e] = true;
    d.acknowledged += p->acknowledged.size();
  }
  const HttpResult r = HttpClient(kSingleRequestTimeout)
                           .request("GET", server.base_url() + "/api/incidents/1",
                                    {"Authorization: Bearer " + api_token});
  if (!r.error.empty() || r.status != 200) {
    d.error = fmt::format("GET /api/incidents/1 failed: {}",
                          r.error.empty() ? fmt::format("HTTP {}", r.status) : r.error);
    return d;
  }
  const auto json = nlohmann::json::parse(r.body, nullptr, false);
  if (json.is_discarded() || !json.contains("timeline") || !json["timeline"].is_array()) {
    d.error = "GET /api/incidents/1 did not return a timeline";
    return d;
  }
  const auto& timeline = json["timeline"];
  d.stored = timeline.empty() ? 0 : timeline.size() - 1;  // the first event is the declaration
  for (const auto& event : timeline) {
    const std::string text = event.value("text", "");
    std::uint64_t n = 0;
    if (text.starts_with(kEventPrefix) &&
        parse_number(std::string_view(text).substr(kEventPrefix.size()), n) && n < acked.size()) {
      acked[n] = false;  // found: what remains true was acknowledged but is missing
    }
  }
  d.missing = static_cast<std::uint64_t>(std::count(acked.begin(), acked.end(), true));
  return d;
}

// ---------------------------------------------------------------------------------------
// One server, both phases

struct ServerRun {
  std::string synchronous;
  std::string db_filesystem;
  long idle_rss_kib = -1;
  long idle_anon_kib = -1;  // the private part of idle_rss_kib; the rest is mapped libraries
  std::vector<PhaseResult> phases;
  Durability durability;
  std::vector<std::string> notes;  // unclean exit, server warnings
  bool failed() const {
    bool any = !durability.ok();
    for (const auto& p : phases) any = any || p.failures > 0;
    return any;
  }
};

ServerRun run_server(const Options& o, const std::string& synchronous) {
  ServerRun run;
  run.synchronous = synchronous;
  const TempDir dir;
  run.db_filesystem = filesystem_name(dir.path);
  const std::string secret = random_hex();
  const std::string token = random_hex();
  std::map<std::string, std::string> env = {
      {"SCRIBE_DB", (dir.path / "scribe.db").string()},
      {"SCRIBE_SQLITE_SYNCHRONOUS", synchronous},
      {"SCRIBE_SLACK_SIGNING_SECRET", secret},
      {"SCRIBE_API_TOKEN", token},
      {"SCRIBE_LOG_LEVEL", "info"},  // the "listening on" line is logged at info
      // One channel, one incident, tens of thousands of commands as fast as they go: the
      // per-channel rate and the per-incident cap (commands/limits.h) are lifted, as they
      // would refuse most of it by design.
      {"SCRIBE_CHANNEL_COMMANDS_PER_MINUTE", "off"},
      {"SCRIBE_MAX_EVENTS_PER_INCIDENT", "1000000000"},
  };
  if (o.server_threads > 0) env["SCRIBE_THREADS"] = std::to_string(o.server_threads);
  // Inherited SCRIBE_* variables are dropped: only the settings above apply.
  ScribeProcess server(SCRIBE_BINARY, env,
                       {.inherit_scribe_env = false,
                        .die_with_parent = true,  // the server must not outlive the bench
                        .startup_timeout = kStartupTimeout});
  std::this_thread::sleep_for(200ms);  // let its threads start before reading idle memory
  run.idle_rss_kib = server.status_kib("VmRSS");
  run.idle_anon_kib = server.status_kib("RssAnon");
  std::cerr << fmt::format("[sync={}] scribe serve pid {} on 127.0.0.1:{}, db on {} ({})\n",
                           synchronous, server.pid(), server.port(), dir.path.string(),
                           run.db_filesystem);

  // The incident every /timeline goes to; sent on a connection of its own, closed after.
  const HttpResult r =
      SlackClient(server.base_url(), secret)
          .post_signed(SlackClient::form_body("/incident", "start sev2 bench", kChannel, kUser));
  if (!r.error.empty() || r.status != 200 || !reply_says_recorded(r.body)) {
    throw std::runtime_error(
        fmt::format("setup /incident start failed: {} HTTP {} {}", r.error, r.status, r.body));
  }

  asio::io_context io;
  const CommandRequests requests{SlackClient(server.base_url(), secret),
                                 fmt::format("127.0.0.1:{}", server.port())};
  Connections connections;
  for (int i = 0; i < o.connections; ++i) {
    connections.push_back(std::make_unique<Connection>(io));
    connections.back()->connect(server.port());
  }
  const auto bound =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.max_seconds));
  std::uint64_t next_event = 1;
  for (const PhaseSpec& spec : {PhaseSpec{"closed", std::nullopt, o.requests, bound},
                                PhaseSpec{"paced", o.rate, o.requests, bound}}) {
    std::cerr << fmt::format("[sync={}] {} phase...\n", synchronous, spec.name);
    run.phases.push_back(run_phase(io, connections, requests, next_event, spec, server));
  }
  for (auto& c : connections) c->close();

  run.durability = check_durability(server, token, {&run.phases[0], &run.phases[1]}, next_event);
  if (std::string note = exit_note(server.terminate(kStopTimeout)); !note.empty()) {
    run.notes.push_back(note);
  }
  if (const auto lines = notable_lines(server.logs()); !lines.empty()) {
    run.notes.push_back(
        fmt::format("server logged {} warning/error line(s), first:", lines.size()));
    for (std::size_t i = 0; i < std::min<std::size_t>(lines.size(), 5); ++i) {
      run.notes.push_back("  " + lines[i]);
    }
  }
  return run;
}

// ---------------------------------------------------------------------------------------
// Report

struct Summary {
  double rate = 0;                            // acknowledged commands per second
  double p50 = 0, p90 = 0, p99 = 0, max = 0;  // ms
};

Summary summarize(const PhaseResult& p) {
  Summary s;
  const double elapsed = seconds(p.elapsed);
  s.rate = elapsed > 0 ? static_cast<double>(p.acknowledged.size()) / elapsed : 0;
  std::vector<std::int64_t> sorted = p.latencies_ns;
  if (sorted.empty()) return s;
  std::sort(sorted.begin(), sorted.end());
  auto rank = [&](double q) {  // nearest-rank percentile
    const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return static_cast<double>(sorted[std::clamp<std::size_t>(k, 1, sorted.size()) - 1]) / 1e6;
  };
  s.p50 = rank(0.50);
  s.p90 = rank(0.90);
  s.p99 = rank(0.99);
  s.max = static_cast<double>(sorted.back()) / 1e6;
  return s;
}

void print_table(const std::vector<ServerRun>& runs) {
  fmt::print(
      "\n{:<7}{:<8}{:>9}{:>8}{:>6}{:>8}{:>9}{:>10}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>15}{:>9}\n",
      "sync", "phase", "target/s", "sent", "fail", "unsent", "elapsed", "cmd/s", "p50 ms", "p90 ms",
      "p99 ms", "max ms", "srv cpu", "cli cpu", "idle/anon MiB", "peak MiB");
  for (const auto& run : runs) {
    for (const auto& p : run.phases) {
      const Summary s = summarize(p);
      const std::string target = p.spec.rate ? fmt::format("{:.0f}", *p.spec.rate) : "max";
      fmt::print(
          "{:<7}{:<8}{:>9}{:>8}{:>6}{:>8}{:>8.2f}s{:>10.0f}{:>9.2f}{:>9.2f}{:>9.2f}{:>9.2f}"
          "{:>8.2f}s{:>8.2f}s{:>15}{:>9.1f}\n",
          run.synchronous, p.spec.name, target, p.sent, p.failures, p.not_sent, seconds(p.elapsed),
          s.rate, s.p50, s.p90, s.p99, s.max, p.server_cpu_s, p.client_cpu_s,
          fmt::format("{:.1f}/{:.1f}", mib(run.idle_rss_kib), mib(run.idle_anon_kib)),
          mib(p.peak_rss_kib));
    }
  }
  fmt::print(
      "cmd/s counts acknowledged commands (HTTP 200, event recorded). closed: latency from the\n"
      "write of each request; paced: from its due time, so queueing is included. peak MiB is\n"
      "the server's VmHWM after the phase; idle/anon its VmRSS right after start and the\n"
      "private (RssAnon) part of it, the rest being mapped binary and shared libraries.\n");
}

// Everything that went wrong or is worth a second look, loudly.
void print_notes(const ServerRun& run) {
  const auto& d = run.durability;
  fmt::print("durability check (sync={}): {} acknowledged, {} stored{}{}\n", run.synchronous,
             d.acknowledged, d.stored, d.missing > 0 ? fmt::format(", {} MISSING", d.missing) : "",
             d.ok() ? "" : " -- FAILED");
  if (!d.error.empty()) fmt::print("  {}\n", d.error);
  if (d.error.empty() && d.stored > d.acknowledged - d.missing) {
    // Not a loss: a request can be committed and still fail on the way back (timeout).
    fmt::print("  {} stored event(s) never got an acknowledgement (failed or abandoned requests)\n",
               d.stored - (d.acknowledged - d.missing));
  }
  for (const auto& p : run.phases) {
    if (p.failures > 0) {
      fmt::print("FAILED (sync={}, {}): {} of {} requests failed, e.g.:\n", run.synchronous,
                 p.spec.name, p.failures, p.sent);
      for (const auto& f : p.failure_samples) fmt::print("  {}\n", f);
    }
    if (p.hit_hard_bound) {
      fmt::print("NOTE (sync={}, {}): requests were still unanswered {} s after the time bound\n",
                 run.synchronous, p.spec.name, std::chrono::seconds(kHardBoundGrace).count());
    }
    if (p.connections_lost > 0) {
      fmt::print(
          "NOTE (sync={}, {}): {} connection(s) were unusable (closed by the server, or abandoned "
          "at an earlier hard bound) and stopped sending\n",
          run.synchronous, p.spec.name, p.connections_lost);
    }
    if (p.not_sent > 0) {
      fmt::print(
          "NOTE (sync={}, {}): fell behind the {:.0f}/s schedule; {} requests due within the "
          "time bound were never sent (not in the percentiles)\n",
          run.synchronous, p.spec.name, *p.spec.rate, p.not_sent);
    }
    if (p.sent < p.spec.requests && p.not_sent == 0) {
      fmt::print("NOTE (sync={}, {}): stopped by the time bound after {} of {} requests\n",
                 run.synchronous, p.spec.name, p.sent, p.spec.requests);
    }
  }
  for (const auto& note : run.notes) fmt::print("NOTE (sync={}): {}\n", run.synchronous, note);
}

void print_results(const Options& o, const std::vector<ServerRun>& runs) {
  for (const auto& run : runs) {
    for (const auto& p : run.phases) {
      const Summary s = summarize(p);
      fmt::print(
          "RESULT sync={} phase={} connections={} target_rate={} requests={} acknowledged={} "
          "failures={} not_sent={} elapsed_s={:.3f} rate={:.1f} p50_ms={:.3f} p90_ms={:.3f} "
          "p99_ms={:.3f} max_ms={:.3f} server_cpu_s={:.2f} client_cpu_s={:.2f} "
          "idle_rss_mib={:.1f} idle_anon_mib={:.1f} peak_rss_mib={:.1f} durable={}\n",
          run.synchronous, p.spec.name, o.connections,
          p.spec.rate ? fmt::format("{:.0f}", *p.spec.rate) : "max", p.sent, p.acknowledged.size(),
          p.failures, p.not_sent, seconds(p.elapsed), s.rate, s.p50, s.p90, s.p99, s.max,
          p.server_cpu_s, p.client_cpu_s, mib(run.idle_rss_kib), mib(run.idle_anon_kib),
          mib(p.peak_rss_kib), run.durability.ok() ? "yes" : "no");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Options> options = parse_options(argc, argv);
  if (!options) return 2;
  const Options& o = *options;
  std::signal(SIGPIPE, SIG_IGN);  // a server that drops a connection is reported, not fatal

  fmt::print(
      "scribe_load_bench: {} requests/phase, {} connections, paced at {:g}/s, {:g} s bound "
      "per phase, server threads {}, {} CPUs (load average {} at start), loopback\n"
      "  server: {}\n",
      o.requests, o.connections, o.rate, o.max_seconds,
      o.server_threads > 0 ? std::to_string(o.server_threads) : "default",
      std::thread::hardware_concurrency(), load_average(), SCRIBE_BINARY);
  std::cout.flush();

  std::vector<ServerRun> runs;
  try {
    for (const auto& mode : o.synchronous) runs.push_back(run_server(o, mode));
  } catch (const std::exception& e) {
    fmt::print(stderr, "scribe_load_bench: {}\n", e.what());
    return 1;
  }
  if (!runs.empty()) {
    fmt::print("db filesystem: {}; load average {} at end (this benchmark included)\n",
               runs.front().db_filesystem, load_average());
  }
  print_table(runs);
  bool failed = false;
  for (const auto& run : runs) {
    print_notes(run);
    failed = failed || run.failed();
  }
  print_results(o, runs);
  if (failed) fmt::print(stderr, "scribe_load_bench: FAILED: see the notes above\n");
  return failed ? 1 : 0;
}
