// scribe_load_bench: the write path measured the way issue 8 asks, in one run. Every
// request is a distinct, correctly signed Slack `/timeline` POSTed over loopback on C
// keep-alive connections (default 32), one request in flight each, sent as fast as the
// server answers (closed loop, like wrk). In order, one fresh server (and database) each:
//
//   ceiling  scribe_ceiling_server: Asio + Beast reading each request and answering 200,
//            nothing else. The most this stack can do here; Scribe's rate is given as a
//            fraction of it.
//   normal   `scribe serve` at its default durability (SQLite synchronous=normal): idle RSS;
//            a warm-up; the measured closed loop; the same loop again while R readers fetch
//            /api/incidents/{id}/postmortem.md of a 1,000-event incident back to back (the
//            write p99 with and without reads); then filled to 100,000 stored events and its
//            RSS read; then a durability check.
//   full     `scribe serve` with synchronous=full: warm-up and the measured loop.
//
// With --postgres URL (a PostgreSQL server the bench may create databases on), the SQLite
// servers are replaced by the PostgreSQL backend on a fresh database of that server:
//   pg-1     one `scribe serve`: warm-up, the measured loop, the durability check;
//   pg-2     two `scribe serve` replicas on one database, the connections split between
//            them (as a load balancer would): the same phases.
//
// Every figure is printed with the load average, since the machine may be shared. Each
// phase is bounded by a time and a request count; the default run takes about a minute.
// Latencies run from the write of a request to the end of its answer; in a closed loop
// they include the time a request waits in the server's queue, not in this client.
// Afterwards GET /api/incidents/1 proves that every acknowledged command was stored.

#include <sys/resource.h>
#include <sys/statfs.h>

#include <algorithm>
#include <atomic>
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
#include "storage/postgres_connection.h"
#include "support/database_url.h"
#include "support/scratch_dir.h"
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
using scribe::testing::ScribeProcessOptions;
using scribe::testing::SlackClient;

// A request still unanswered this long after its phase's time bound counts as failed.
constexpr auto kHardBoundGrace = 2s;
constexpr auto kStartupTimeout = 10s;
constexpr auto kSingleRequestTimeout = 15s;
constexpr auto kStopTimeout = 15s;
constexpr char kChannel[] = "C0BENCH";

// The measured commands go to `incidents` incidents, one per channel, connection i to the
// (i mod incidents)th: incident k+1 in channel C0BENCH (k = 0) or C0BENCH<k>.
std::string bench_channel(int k) {
  return k == 0 ? std::string(kChannel) : fmt::format("{}{}", kChannel, k);
}
const scribe::testing::SlackUser kUser{"U0BENCH", "bench"};
constexpr std::string_view kEventPrefix = "bench event ";

// ---------------------------------------------------------------------------------------
// Command line

struct Options {
  int connections = 32;
  double seconds = 5;                      // each measured phase
  std::uint64_t max_requests = 2'000'000;  // per phase, a second bound
  std::uint64_t fill_events = 100'000;     // stored events before the memory reading
  int read_events = 1000;                  // events of the incident whose draft is read
  int readers = 1;                         // concurrent postmortem.md readers
  int server_threads = 0;                  // 0: leave SCRIBE_THREADS unset (the default)
  bool with_full = true;
  std::string postgres;  // a server URL: measure the PostgreSQL backend instead of SQLite
  int incidents = 1;     // the measured commands are spread over this many incidents
  std::string scribe_binary = SCRIBE_BINARY;  // another build, for before/after comparisons // also
                                              // run synchronous=full
};

constexpr std::string_view kUsage =
    "usage: scribe_load_bench [--connections C] [--seconds S] [--max-requests N]\n"
    "                         [--fill-events N] [--read-events N] [--readers R]\n"
    "                         [--server-threads T] [--no-full] [--scribe PATH]\n"
    "                         [--postgres URL] [--incidents N]\n"
    "  --connections C     keep-alive connections, one request in flight each (default 32)\n"
    "  --seconds S         length of each measured phase (default 5; warm-ups are S/5)\n"
    "  --max-requests N    a phase also ends after N requests (default 2000000)\n"
    "  --fill-events N     stored events before the RSS reading (default 100000)\n"
    "  --read-events N     events of the incident whose draft is read (default 1000)\n"
    "  --readers R         concurrent postmortem.md readers (default 1)\n"
    "  --server-threads T  SCRIBE_THREADS for the servers (default: theirs, one per core)\n"
    "  --no-full           skip the synchronous=full server\n"
    "  --scribe PATH       the scribe binary to measure (default: this build's)\n"
    "  --incidents N       spread the measured commands over N incidents (channels), one\n"
    "                      per connection in turn (default 1: one busy incident)\n"
    "  --postgres URL      measure the PostgreSQL backend instead, with one and with two\n"
    "                      replicas, each run on a fresh database created on this server\n"
    "                      (`eval \"$(bash deploy/postgres-test.sh start)\"` starts one; then\n"
    "                      --postgres \"$SCRIBE_TEST_POSTGRES_URL\")\n"
    "The database goes to $TMPDIR (or /tmp); its filesystem is printed, since fsync cost\n"
    "depends on it. The default run takes about a minute.\n";

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
    if (flag == "--no-full") {
      o.with_full = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "scribe_load_bench: " << flag << " needs a value\n" << kUsage;
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    bool ok = false;
    if (flag == "--connections") {
      ok = parse_number(value, o.connections) && o.connections > 0 && o.connections <= 1000;
    } else if (flag == "--seconds") {
      ok = parse_number(value, o.seconds) && o.seconds > 0 && o.seconds <= 600;
    } else if (flag == "--max-requests") {
      ok = parse_number(value, o.max_requests) && o.max_requests > 0;
    } else if (flag == "--fill-events") {
      ok = parse_number(value, o.fill_events) && o.fill_events <= 10'000'000;
    } else if (flag == "--read-events") {
      ok = parse_number(value, o.read_events) && o.read_events > 0 && o.read_events <= 100'000;
    } else if (flag == "--readers") {
      ok = parse_number(value, o.readers) && o.readers >= 0 && o.readers <= 64;
    } else if (flag == "--scribe") {
      o.scribe_binary = std::string(value);
      ok = std::filesystem::exists(o.scribe_binary);
    } else if (flag == "--incidents") {
      ok = parse_number(value, o.incidents) && o.incidents > 0 && o.incidents <= 1000;
    } else if (flag == "--postgres") {
      o.postgres = std::string(value);
      ok = value.starts_with("postgresql://") || value.starts_with("postgres://");
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

  std::string operator()(const std::string& command, const std::string& text,
                         const std::string& channel = kChannel) const {
    const std::string body = SlackClient::form_body(command, text, channel, kUser);
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
  std::string name;
  std::uint64_t requests = 0;    // a phase ends after this many requests...
  Clock::duration time_bound{};  // ...or after this long, whichever comes first
  std::string channel = kChannel;
  std::string_view prefix = kEventPrefix;  // the event text is prefix + number
  int readers = 0;                         // postmortem.md readers running alongside
  int incidents = 1;  // with `channel` kChannel: spread over bench_channel(0..incidents-1)
};

struct ReadResult {
  std::uint64_t ok = 0;
  std::uint64_t failures = 0;
  std::string failure_sample;
  std::vector<std::int64_t> latencies_ns;
  std::size_t body_bytes = 0;  // of the last answer: shows what a read costs
};

struct PhaseResult {
  PhaseSpec spec;
  std::uint64_t sent = 0;
  std::uint64_t failures = 0;
  std::size_t connections_lost = 0;
  bool hit_hard_bound = false;
  Clock::duration elapsed{};
  std::vector<std::int64_t> latencies_ns;   // acknowledged requests only
  std::vector<std::uint64_t> acknowledged;  // event numbers that got a recorded 200
  std::vector<std::string> failure_samples;
  double server_cpu_s = 0;
  double client_cpu_s = 0;
  std::string load_before, load_after;  // 1-minute load average
  std::optional<ReadResult> reads;
};

// Runs one closed-loop phase on one thread: every connection is driven by callbacks on `io`.
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
  }

  PhaseResult run() {
    const PhaseSpec& spec = result_.spec;
    result_.latencies_ns.reserve(std::min<std::uint64_t>(spec.requests, 1u << 22));
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
    return std::move(result_);
  }

 private:
  // Connection i is free: send its next request.
  void next(std::size_t i) {
    if (result_.sent >= result_.spec.requests || Clock::now() >= deadline_) return retire();
    if (!connections_[i]->usable()) {
      ++result_.connections_lost;
      return retire();
    }
    ++result_.sent;
    const std::uint64_t event = next_event_++;
    const PhaseSpec& spec = result_.spec;
    const std::string channel =
        spec.incidents > 1 ? bench_channel(static_cast<int>(i) % spec.incidents) : spec.channel;
    std::string request = requests_("/timeline", fmt::format("{}{}", spec.prefix, event), channel);
    const Clock::time_point origin = Clock::now();
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
  }

  asio::io_context& io_;
  Connections& connections_;
  const CommandRequests& requests_;
  std::uint64_t& next_event_;
  asio::steady_timer watchdog_;
  Clock::time_point start_;
  Clock::time_point deadline_;
  Clock::time_point last_done_;
  std::size_t active_ = 0;  // connections still sending
  PhaseResult result_;
};

// `readers` threads fetching `url` back to back (each its own keep-alive connection) until
// `stop`; every answer must be a 200 with a body.
class ReadLoad {
 public:
  ReadLoad(int readers, std::string url, std::string token) {
    parts_.resize(static_cast<std::size_t>(readers));
    for (auto& part : parts_) {
      threads_.emplace_back([this, &part, url, token] {
        HttpClient client(kSingleRequestTimeout);
        const std::vector<std::string> headers = {"Authorization: Bearer " + token};
        while (!stop_.load()) {
          const auto started = Clock::now();
          const HttpResult r = client.request("GET", url, headers);
          if (r.error.empty() && r.status == 200 && !r.body.empty()) {
            part.latencies_ns.push_back(
                std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started)
                    .count());
            part.body_bytes = r.body.size();
            ++part.ok;
          } else {
            ++part.failures;
            if (part.failure_sample.empty()) {
              part.failure_sample = r.error.empty() ? fmt::format("HTTP {}", r.status) : r.error;
            }
          }
        }
      });
    }
  }
  ~ReadLoad() { finish(); }
  ReadLoad(const ReadLoad&) = delete;
  ReadLoad& operator=(const ReadLoad&) = delete;

  ReadResult finish() {
    stop_.store(true);
    for (auto& t : threads_) t.join();
    threads_.clear();
    ReadResult all;
    for (auto& p : parts_) {
      all.ok += p.ok;
      all.failures += p.failures;
      if (all.failure_sample.empty()) all.failure_sample = p.failure_sample;
      all.latencies_ns.insert(all.latencies_ns.end(), p.latencies_ns.begin(), p.latencies_ns.end());
      all.body_bytes = std::max(all.body_bytes, p.body_bytes);
    }
    return all;
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<ReadResult> parts_;
  std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------------------------------
// Durability: everything acknowledged must be in the stored timeline

struct Durability {
  bool checked = false;
  std::uint64_t acknowledged = 0;
  std::uint64_t stored = 0;   // timeline events, the declaration excluded
  std::uint64_t missing = 0;  // acknowledged but not stored
  std::string error;
  bool ok() const { return !checked || (error.empty() && missing == 0 && stored >= acknowledged); }
};

// The measured events are in incidents 1..`incidents` (the first ones started).
Durability check_durability(const ScribeProcess& server, const std::string& api_token,
                            const std::vector<PhaseResult>& phases, std::uint64_t events_numbered,
                            int incidents) {
  Durability d;
  d.checked = true;
  std::vector<bool> acked(events_numbered + 1, false);
  for (const auto& p : phases) {
    if (p.spec.channel != kChannel) continue;
    for (const auto e : p.acknowledged) acked[e] = true;
    d.acknowledged += p.acknowledged.size();
  }
  for (int id = 1; id <= incidents; ++id) {
    const std::string path = fmt::format("/api/incidents/{}", id);
    const HttpResult r = HttpClient(60s).request("GET", server.base_url() + path,
                                                 {"Authorization: Bearer " + api_token});
    if (!r.error.empty() || r.status != 200) {
      d.error = fmt::format("GET {} failed: {}", path,
                            r.error.empty() ? fmt::format("HTTP {}", r.status) : r.error);
      return d;
    }
    const auto json = nlohmann::json::parse(r.body, nullptr, false);
    if (json.is_discarded() || !json.contains("timeline") || !json["timeline"].is_array()) {
      d.error = fmt::format("GET {} did not return a timeline", path);
      return d;
    }
    const auto& timeline = json["timeline"];
    // The first event is the declaration.
    d.stored += timeline.empty() ? 0 : timeline.size() - 1;
    for (const auto& event : timeline) {
      const std::string text = event.value("text", "");
      std::uint64_t n = 0;
      if (text.starts_with(kEventPrefix) &&
          parse_number(std::string_view(text).substr(kEventPrefix.size()), n) && n < acked.size()) {
        acked[n] = false;  // found: what remains true was acknowledged but is missing
      }
    }
  }
  d.missing = static_cast<std::uint64_t>(std::count(acked.begin(), acked.end(), true));
  return d;
}

// ---------------------------------------------------------------------------------------
// One server and its phases

struct Memory {
  long rss_kib = -1;
  long anon_kib = -1;  // the private part of rss_kib; the rest is mapped binary and libraries
};

Memory memory_of(const ScribeProcess& server) {
  return {server.status_kib("VmRSS"), server.status_kib("RssAnon")};
}

struct ServerRun {
  std::string label;  // "ceiling", "normal", "full"
  std::string db_filesystem;
  Memory idle;
  std::optional<Memory> filled;  // after `events_stored` events
  std::uint64_t events_stored = 0;
  long peak_rss_kib = -1;
  std::vector<PhaseResult> phases;
  Durability durability;
  std::vector<std::string> notes;  // unclean exit, server warnings
  const PhaseResult* phase(std::string_view name) const {
    for (const auto& p : phases) {
      if (p.spec.name == name) return &p;
    }
    return nullptr;
  }
  bool failed() const {
    bool any = !durability.ok();
    for (const auto& p : phases) {
      any = any || p.failures > 0 || (p.reads && p.reads->failures > 0);
    }
    return any;
  }
};

class Bench {
 public:
  explicit Bench(const Options& o)
      : o_(o),
        measured_(
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds))),
        warmup_(measured_ / 5) {}

  ServerRun ceiling() {
    ServerRun run;
    run.label = "ceiling";
    std::map<std::string, std::string> env;
    if (o_.server_threads > 0) env["SCRIBE_THREADS"] = std::to_string(o_.server_threads);
    ScribeProcess server(CEILING_BINARY, env, process_options());
    settle();
    run.idle = memory_of(server);
    std::cerr << fmt::format("[ceiling] pid {} on 127.0.0.1:{}\n", server.pid(), server.port());
    const CommandRequests requests{SlackClient(server.base_url(), "unused"), host(server)};
    Load load(o_, server, requests);
    load.phase(run, {"warm-up", o_.max_requests, warmup_});
    load.phase(run, {"closed", o_.max_requests, measured_});
    load.close();
    finish(run, server);
    return run;
  }

  // `full_suite`: also the reads comparison and the memory after filling.
  ServerRun scribe(const std::string& synchronous, bool full_suite) {
    ServerRun run;
    run.label = synchronous;
    const scribe::test::ScratchDir dir("scribe-bench");
    run.db_filesystem = filesystem_name(dir.path());
    const std::string secret = random_hex();
    const std::string token = random_hex();
    std::map<std::string, std::string> env = {
        {"SCRIBE_DB", (dir.path() / "scribe.db").string()},
        {"SCRIBE_SQLITE_SYNCHRONOUS", synchronous},
        {"SCRIBE_SLACK_SIGNING_SECRET", secret},
        {"SCRIBE_API_TOKEN", token},
        {"SCRIBE_LOG_LEVEL", "info"},  // the "listening on" line is logged at info
        // One channel, one incident, a hundred thousand commands as fast as they go: the
        // per-channel rate and the per-incident cap (commands/limits.h) are lifted, as they
        // would refuse most of it by design.
        {"SCRIBE_CHANNEL_COMMANDS_PER_MINUTE", "off"},
        {"SCRIBE_MAX_EVENTS_PER_INCIDENT", "1000000000"},
    };
    if (o_.server_threads > 0) env["SCRIBE_THREADS"] = std::to_string(o_.server_threads);
    ScribeProcess server(o_.scribe_binary, env, process_options());
    settle();
    run.idle = memory_of(server);
    std::cerr << fmt::format("[{}] scribe serve pid {} on 127.0.0.1:{}, db on {} ({})\n",
                             synchronous, server.pid(), server.port(), dir.path().string(),
                             run.db_filesystem);

    // Incident 1 takes the measured commands; incident 2 (another channel) is the one read.
    SlackClient setup(server.base_url(), secret);
    start_incidents(setup);
    if (full_suite) start_incident(setup, kReadChannel, "read while writing");

    const CommandRequests requests{SlackClient(server.base_url(), secret), host(server)};
    Load load(o_, server, requests);
    if (full_suite) {
      load.phase(run, {"read setup", static_cast<std::uint64_t>(o_.read_events), 120s, kReadChannel,
                       kReadPrefix});
    }
    load.phase(run, measured("warm-up", warmup_));
    load.phase(run, measured("closed", measured_));
    if (full_suite && o_.readers > 0) {
      load.phase(
          run,
          {"closed+reads", o_.max_requests, measured_, kChannel, kEventPrefix, o_.readers,
           o_.incidents},
          fmt::format("{}/api/incidents/{}/postmortem.md", server.base_url(), o_.incidents + 1),
          token);
    }
    if (full_suite) {
      std::uint64_t stored = o_.incidents + 1;  // the declarations
      for (const auto& p : run.phases) stored += p.acknowledged.size();
      if (stored < o_.fill_events) {
        PhaseSpec fill = measured("fill", 120s);
        fill.requests = o_.fill_events - stored;
        load.phase(run, fill);
        stored += run.phases.back().acknowledged.size();
      }
      run.events_stored = stored;
      run.filled = memory_of(server);
    }
    load.close();
    // Before the check: reading 100,000 events back through the API is not the write path.
    run.peak_rss_kib = server.status_kib("VmHWM");
    run.durability =
        check_durability(server, token, run.phases, load.events_numbered(), o_.incidents);
    finish(run, server);
    return run;
  }

  // The PostgreSQL backend on a fresh database of `server_url`, with `replicas` servers
  // sharing it: the write path across processes (each has its own writer connection).
  ServerRun postgres(const std::string& server_url, int replicas) {
    ServerRun run;
    run.label = fmt::format("pg-{}", replicas);
    run.db_filesystem = "postgresql";
    const std::string database = fmt::format("scribe_bench_{}", random_hex().substr(0, 12));
    scribe::pg::Connection admin(server_url);
    admin.exec(fmt::format("CREATE DATABASE {}", database));
    struct Drop {
      scribe::pg::Connection& admin;
      const std::string& database;
      ~Drop() {
        try {
          admin.exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", database));
        } catch (const std::exception& e) {
          std::cerr << "dropping " << database << ": " << e.what() << "\n";
        }
      }
    } drop{admin, database};
    const std::string secret = random_hex();
    const std::string token = random_hex();
    std::map<std::string, std::string> env = {
        {"SCRIBE_DB", scribe::test::with_database(server_url, database)},
        {"SCRIBE_SLACK_SIGNING_SECRET", secret},
        {"SCRIBE_API_TOKEN", token},
        {"SCRIBE_LOG_LEVEL", "info"},
        {"SCRIBE_CHANNEL_COMMANDS_PER_MINUTE", "off"},
        {"SCRIBE_MAX_EVENTS_PER_INCIDENT", "1000000000"},
    };
    if (o_.server_threads > 0) env["SCRIBE_THREADS"] = std::to_string(o_.server_threads);
    std::vector<std::unique_ptr<ScribeProcess>> servers;
    std::vector<const ScribeProcess*> targets;
    for (int r = 0; r < replicas; ++r) {
      // One after the other: the first migrates the fresh database.
      servers.push_back(std::make_unique<ScribeProcess>(o_.scribe_binary, env, process_options()));
      targets.push_back(servers.back().get());
      std::cerr << fmt::format("[{}] scribe serve pid {} on 127.0.0.1:{}, database {}\n", run.label,
                               servers.back()->pid(), servers.back()->port(), database);
    }
    settle();
    run.idle = memory_of(*servers.front());
    SlackClient setup(servers.front()->base_url(), secret);
    start_incidents(setup);
    const CommandRequests requests{SlackClient(servers.front()->base_url(), secret),
                                   host(*servers.front())};
    Load load(o_, targets, requests);
    load.phase(run, measured("warm-up", warmup_));
    load.phase(run, measured("closed", measured_));
    load.close();
    run.peak_rss_kib = servers.front()->status_kib("VmHWM");
    run.durability =
        check_durability(*servers.front(), token, run.phases, load.events_numbered(), o_.incidents);
    for (auto& server : servers) finish(run, *server);
    return run;
  }

 private:
  static constexpr char kReadChannel[] = "C0READ";

  // A phase of measured commands, spread over the incidents asked for.
  PhaseSpec measured(std::string name, Clock::duration bound) const {
    PhaseSpec spec{std::move(name), o_.max_requests, bound};
    spec.incidents = o_.incidents;
    return spec;
  }

  void start_incidents(SlackClient& client) const {
    for (int k = 0; k < o_.incidents; ++k) {
      start_incident(client, bench_channel(k), fmt::format("bench {}", k + 1));
    }
  }
  static constexpr std::string_view kReadPrefix = "read event ";

  // Connections and the phases run over them; with several servers (replicas), the
  // connections are dealt out among them in turn, as a load balancer would.
  class Load {
   public:
    Load(const Options& o, const ScribeProcess& server, const CommandRequests& requests)
        : Load(o, std::vector<const ScribeProcess*>{&server}, requests) {}
    Load(const Options& o, std::vector<const ScribeProcess*> servers,
         const CommandRequests& requests)
        : servers_(std::move(servers)), requests_(requests) {
      for (int i = 0; i < o.connections; ++i) {
        connections_.push_back(std::make_unique<Connection>(io_));
        connections_.back()->connect(
            servers_[static_cast<std::size_t>(i) % servers_.size()]->port());
      }
    }

    void phase(ServerRun& run, PhaseSpec spec, const std::string& read_url = {},
               const std::string& token = {}) {
      std::cerr << fmt::format("[{}] {} phase...\n", run.label, spec.name);
      const double server_cpu = servers_cpu();
      const double client_cpu = own_cpu_seconds();
      const std::string load_before = load_average();
      std::optional<ReadLoad> reads;
      if (spec.readers > 0) reads.emplace(spec.readers, read_url, token);
      PhaseResult r = PhaseRunner(io_, connections_, requests_, next_event_, std::move(spec)).run();
      if (reads) r.reads = reads->finish();
      r.server_cpu_s = servers_cpu() - server_cpu;
      r.client_cpu_s = own_cpu_seconds() - client_cpu;
      r.load_before = load_before;
      r.load_after = load_average();
      run.phases.push_back(std::move(r));
    }

    void close() {
      for (auto& c : connections_) c->close();
    }
    std::uint64_t events_numbered() const { return next_event_; }

   private:
    double servers_cpu() const {
      double total = 0;
      for (const ScribeProcess* server : servers_) total += server->cpu_seconds();
      return total;
    }

    std::vector<const ScribeProcess*> servers_;
    const CommandRequests& requests_;
    asio::io_context io_;
    Connections connections_;
    std::uint64_t next_event_ = 1;
  };

  static ScribeProcessOptions process_options() {
    // Inherited SCRIBE_* variables are dropped: only the settings given apply.
    return {.inherit_scribe_env = false,
            .die_with_parent = true,  // the server must not outlive the bench
            .startup_timeout = kStartupTimeout};
  }
  // Lets the server's threads start before its idle memory is read.
  static void settle() { std::this_thread::sleep_for(300ms); }
  static std::string host(const ScribeProcess& server) {
    return fmt::format("127.0.0.1:{}", server.port());
  }

  static void start_incident(SlackClient& client, const std::string& channel,
                             const std::string& title) {
    const HttpResult r = client.post_signed(
        SlackClient::form_body("/incident", "start sev2 " + title, channel, kUser));
    if (!r.error.empty() || r.status != 200 || !reply_says_recorded(r.body)) {
      throw std::runtime_error(
          fmt::format("setup /incident start failed: {} HTTP {} {}", r.error, r.status, r.body));
    }
  }

  static void finish(ServerRun& run, ScribeProcess& server) {
    if (run.peak_rss_kib < 0) run.peak_rss_kib = server.status_kib("VmHWM");
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
  }

  const Options& o_;
  Clock::duration measured_;
  Clock::duration warmup_;
};

// ---------------------------------------------------------------------------------------
// Report

struct Summary {
  std::uint64_t count = 0;
  double rate = 0;                            // per second
  double p50 = 0, p90 = 0, p99 = 0, max = 0;  // ms
};

Summary summarize(std::vector<std::int64_t> latencies_ns, Clock::duration elapsed) {
  Summary s;
  s.count = latencies_ns.size();
  const double secs = seconds(elapsed);
  s.rate = secs > 0 ? static_cast<double>(s.count) / secs : 0;
  if (latencies_ns.empty()) return s;
  std::sort(latencies_ns.begin(), latencies_ns.end());
  auto rank = [&](double q) {  // nearest-rank percentile
    const auto k =
        static_cast<std::size_t>(std::ceil(q * static_cast<double>(latencies_ns.size())));
    return static_cast<double>(
               latencies_ns[std::clamp<std::size_t>(k, 1, latencies_ns.size()) - 1]) /
           1e6;
  };
  s.p50 = rank(0.50);
  s.p90 = rank(0.90);
  s.p99 = rank(0.99);
  s.max = static_cast<double>(latencies_ns.back()) / 1e6;
  return s;
}

Summary summarize(const PhaseResult& p) { return summarize(p.latencies_ns, p.elapsed); }

double ceiling_rate(const std::vector<ServerRun>& runs) {
  for (const auto& run : runs) {
    if (run.label != "ceiling") continue;
    if (const auto* p = run.phase("closed")) return summarize(*p).rate;
  }
  return 0;
}

void print_table(const std::vector<ServerRun>& runs) {
  const double ceiling = ceiling_rate(runs);
  fmt::print("\n{:<8}{:<14}{:>8}{:>5}{:>8}{:>9}{:>10}{:>9}{:>8}{:>8}{:>8}{:>8}{:>9}{:>9}{:>12}\n",
             "server", "phase", "ok", "fail", "elapsed", "req/s", "of ceil", "p50 ms", "p90 ms",
             "p99 ms", "max ms", "srv cpu", "cli cpu", "load", "");
  for (const auto& run : runs) {
    for (const auto& p : run.phases) {
      const Summary s = summarize(p);
      const std::string ratio = ceiling > 0 ? fmt::format("{:.1f}%", 100 * s.rate / ceiling) : "-";
      fmt::print(
          "{:<8}{:<14}{:>8}{:>5}{:>7.2f}s{:>9.0f}{:>10}{:>9.2f}{:>8.2f}{:>8.2f}{:>8.2f}{:>8.2f}s"
          "{:>8.2f}s{:>12}\n",
          run.label, p.spec.name, s.count, p.failures, seconds(p.elapsed), s.rate, ratio, s.p50,
          s.p90, s.p99, s.max, p.server_cpu_s, p.client_cpu_s,
          fmt::format("{}->{}", p.load_before, p.load_after));
      if (p.reads) {
        const Summary r = summarize(p.reads->latencies_ns, p.elapsed);
        fmt::print(
            "{:<8}{:<14}{:>8}{:>5}{:>8}{:>9.0f}{:>10}{:>9.2f}{:>8.2f}{:>8.2f}{:>8.2f}"
            "   (GET postmortem.md, {} readers, {:.0f} KiB each)\n",
            "", "  reads", r.count, p.reads->failures, "", r.rate, "", r.p50, r.p90, r.p99, r.max,
            p.spec.readers, static_cast<double>(p.reads->body_bytes) / 1024.0);
      }
    }
  }
  fmt::print(
      "ok: acknowledged commands (HTTP 200, event recorded; the ceiling's fixed answer counts).\n"
      "Latency from the write of a request to the end of its answer. srv/cli cpu: CPU seconds of\n"
      "the server and of this client in the phase. load: 1-minute load average before->after.\n");
}

void print_memory(const std::vector<ServerRun>& runs) {
  fmt::print(
      "\nmemory (VmRSS, and its private RssAnon part; the rest is the mapped binary and\n"
      "shared libraries):\n");
  for (const auto& run : runs) {
    fmt::print("  {:<8} idle {:.1f} MiB (anon {:.1f})", run.label, mib(run.idle.rss_kib),
               mib(run.idle.anon_kib));
    if (run.filled) {
      fmt::print("; after {} stored events {:.1f} MiB (anon {:.1f})", run.events_stored,
                 mib(run.filled->rss_kib), mib(run.filled->anon_kib));
    }
    fmt::print("; peak (VmHWM, before the durability check) {:.1f} MiB\n", mib(run.peak_rss_kib));
  }
}

void print_headlines(const std::vector<ServerRun>& runs) {
  const double ceiling = ceiling_rate(runs);
  fmt::print("\n");
  for (const auto& run : runs) {
    const auto* p = run.phase("closed");
    if (!p) continue;
    const Summary s = summarize(*p);
    fmt::print("{:<8} {:>8.0f} req/s{}, p50 {:.2f} ms, p99 {:.2f} ms (load {})\n", run.label,
               s.rate,
               run.label == "ceiling" || ceiling <= 0
                   ? std::string()
                   : fmt::format(" = {:.2f} of the ceiling", s.rate / ceiling),
               s.p50, s.p99, p->load_after);
    if (const auto* w = run.phase("closed+reads")) {
      const Summary sw = summarize(*w);
      fmt::print(
          "{:<8} write p99 without reads {:.2f} ms, with reads {:.2f} ms ({:+.2f} ms); "
          "rate {:.0f} -> {:.0f} req/s (load {})\n",
          run.label, s.p99, sw.p99, sw.p99 - s.p99, s.rate, sw.rate, w->load_after);
    }
  }
}

// Everything that went wrong or is worth a second look, loudly.
void print_notes(const ServerRun& run) {
  const auto& d = run.durability;
  if (d.checked) {
    fmt::print("durability check ({}): {} acknowledged, {} stored{}{}\n", run.label, d.acknowledged,
               d.stored, d.missing > 0 ? fmt::format(", {} MISSING", d.missing) : "",
               d.ok() ? "" : " -- FAILED");
    if (!d.error.empty()) fmt::print("  {}\n", d.error);
    if (d.error.empty() && d.stored > d.acknowledged) {
      // Not a loss: a request can be committed and still fail on the way back (timeout).
      fmt::print("  {} stored event(s) never got an acknowledgement (failed requests)\n",
                 d.stored - d.acknowledged);
    }
  }
  for (const auto& p : run.phases) {
    if (p.failures > 0) {
      fmt::print("FAILED ({}, {}): {} of {} requests failed, e.g.:\n", run.label, p.spec.name,
                 p.failures, p.sent);
      for (const auto& f : p.failure_samples) fmt::print("  {}\n", f);
    }
    if (p.reads && p.reads->failures > 0) {
      fmt::print("FAILED ({}, {}): {} reads failed, e.g. {}\n", run.label, p.spec.name,
                 p.reads->failures, p.reads->failure_sample);
    }
    if (p.hit_hard_bound) {
      fmt::print("NOTE ({}, {}): requests were still unanswered {} s after the time bound\n",
                 run.label, p.spec.name, std::chrono::seconds(kHardBoundGrace).count());
    }
    if (p.connections_lost > 0) {
      fmt::print("NOTE ({}, {}): {} connection(s) were closed by the server and stopped sending\n",
                 run.label, p.spec.name, p.connections_lost);
    }
  }
  for (const auto& note : run.notes) fmt::print("NOTE ({}): {}\n", run.label, note);
}

void print_results(const Options& o, const std::vector<ServerRun>& runs) {
  const double ceiling = ceiling_rate(runs);
  for (const auto& run : runs) {
    for (const auto& p : run.phases) {
      const Summary s = summarize(p);
      fmt::print(
          "RESULT server={} phase={} connections={} acknowledged={} failures={} elapsed_s={:.3f} "
          "rate={:.1f} of_ceiling={:.3f} p50_ms={:.3f} p90_ms={:.3f} p99_ms={:.3f} max_ms={:.3f} "
          "server_cpu_s={:.2f} client_cpu_s={:.2f} load={}",
          run.label, p.spec.name, o.connections, s.count, p.failures, seconds(p.elapsed), s.rate,
          ceiling > 0 ? s.rate / ceiling : 0.0, s.p50, s.p90, s.p99, s.max, p.server_cpu_s,
          p.client_cpu_s, p.load_after);
      if (p.reads) {
        const Summary r = summarize(p.reads->latencies_ns, p.elapsed);
        fmt::print(" reads={} read_rate={:.1f} read_p50_ms={:.3f} read_p99_ms={:.3f}", r.count,
                   r.rate, r.p50, r.p99);
      }
      fmt::print("\n");
    }
    fmt::print("RESULT server={} idle_rss_mib={:.1f} idle_anon_mib={:.1f} peak_rss_mib={:.1f}",
               run.label, mib(run.idle.rss_kib), mib(run.idle.anon_kib), mib(run.peak_rss_kib));
    if (run.filled) {
      fmt::print(" events_stored={} filled_rss_mib={:.1f} filled_anon_mib={:.1f}",
                 run.events_stored, mib(run.filled->rss_kib), mib(run.filled->anon_kib));
    }
    fmt::print(" durable={}\n",
               run.durability.checked ? (run.durability.ok() ? "yes" : "no") : "-");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Options> options = parse_options(argc, argv);
  if (!options) return 2;
  const Options& o = *options;
  std::signal(SIGPIPE, SIG_IGN);  // a server that drops a connection is reported, not fatal

  fmt::print(
      "scribe_load_bench: {} connections, {:g} s per measured phase, server threads {}, {} CPUs "
      "(load average {} at start), loopback\n  server: {}\n  ceiling: {}\n",
      o.connections, o.seconds, o.server_threads > 0 ? std::to_string(o.server_threads) : "default",
      std::thread::hardware_concurrency(), load_average(), o.scribe_binary, CEILING_BINARY);
  std::cout.flush();

  std::vector<ServerRun> runs;
  try {
    Bench bench(o);
    runs.push_back(bench.ceiling());
    if (!o.postgres.empty()) {
      runs.push_back(bench.postgres(o.postgres, 1));
      runs.push_back(bench.postgres(o.postgres, 2));
    } else {
      runs.push_back(bench.scribe("normal", /*full_suite=*/true));
      if (o.with_full) runs.push_back(bench.scribe("full", /*full_suite=*/false));
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "scribe_load_bench: {}\n", e.what());
    return 1;
  }
  if (runs.size() > 1) {
    fmt::print("db filesystem: {}; load average {} at end (this benchmark included)\n",
               runs[1].db_filesystem, load_average());
  }
  print_table(runs);
  print_memory(runs);
  print_headlines(runs);
  bool failed = false;
  for (const auto& run : runs) {
    print_notes(run);
    failed = failed || run.failed();
  }
  print_results(o, runs);
  if (failed) fmt::print(stderr, "scribe_load_bench: FAILED: see the notes above\n");
  return failed ? 1 : 0;
}
