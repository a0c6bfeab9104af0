// scribe_memory_bench: how much memory the real `scribe serve` takes for large drafts, and
// whether it gives it back. Builds one large incident (default 5,000 events of 4 KiB, about
// 20 MB of text) directly in a fresh SQLite file, then for each scenario starts a fresh
// server on that file and samples its VmRSS (/proc/<pid>/status):
//   html   R clients (default 8) fetch GET /api/incidents/1/postmortem.html at once;
//   draft  C clients (default 16) send signed `/incident draft` slash commands in a loop
//          for a bounded time.
// Printed per scenario: RSS idle before, the peak while it ran (sampled every 20 ms, and
// VmHWM), and RSS 1, 5, 10, 30 and `--settle-seconds` (default 60) seconds after the last
// answer, with the last figure as a multiple of idle.
//
// `--env NAME=VALUE` passes extra environment to the server (e.g. MALLOC_ARENA_MAX=2), so
// allocator settings can be compared without rebuilding. Everything is bounded by request
// counts and time limits; it is a program that prints figures, not a test.

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "net/http_client.h"
#include "storage/store.h"
#include "support/scratch_dir.h"
#include "support/scribe_process.h"
#include "support/slack_client.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using scribe::HttpClient;
using scribe::HttpResult;
using scribe::testing::ScribeProcess;
using scribe::testing::SlackClient;

constexpr char kChannel[] = "C0MEMORY";
const scribe::testing::SlackUser kUser{"U0MEMORY", "memory"};

struct Options {
  int events = 5000;
  std::size_t event_bytes = 4096;
  int renders = 8;
  int clients = 16;
  double draft_seconds = 20;
  int draft_requests = 400;  // per client, bounds the draft scenario with draft_seconds
  int settle_seconds = 60;
  std::vector<std::string> scenarios = {"html", "draft"};
  std::map<std::string, std::string> extra_env;
  std::string db;      // empty: a temporary file
  bool plain = false;  // event text of plain words instead of Markdown-heavy text
};

constexpr std::string_view kUsage =
    "usage: scribe_memory_bench [--events N] [--event-bytes B] [--renders R] [--clients C]\n"
    "                           [--draft-seconds S] [--draft-requests N] [--settle-seconds T]\n"
    "                           [--scenario html|draft] [--env NAME=VALUE]... [--db PATH]\n"
    "  --events N          timeline events in the incident (default 5000)\n"
    "  --event-bytes B     bytes of text per event (default 4096)\n"
    "  --renders R         concurrent GET postmortem.html (default 8)\n"
    "  --clients C         concurrent /incident draft senders (default 16)\n"
    "  --draft-seconds S   how long the draft senders send (default 20)\n"
    "  --draft-requests N  at most this many drafts per sender (default 400)\n"
    "  --settle-seconds T  how long RSS is watched after the last answer (default 60)\n"
    "  --scenario NAME     only this scenario (default: html, then draft)\n"
    "  --env NAME=VALUE    extra environment for the server (repeatable)\n"
    "  --db PATH           keep the incident in this SQLite file; reused when it exists\n"
    "  --text KIND         event text: markup (default: words with the punctuation Markdown\n"
    "                      escapes, * [ ] < > | ` &) or plain (words and digits only)\n";

template <class Number>
bool parse_number(std::string_view text, Number& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  bool scenario_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::cerr << "scribe_memory_bench: " << flag << " needs a value\n" << kUsage;
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    bool ok = false;
    if (flag == "--events") {
      ok = parse_number(value, o.events) && o.events > 0 && o.events <= 1000000;
    } else if (flag == "--event-bytes") {
      ok = parse_number(value, o.event_bytes) && o.event_bytes >= 16 && o.event_bytes <= 60000;
    } else if (flag == "--renders") {
      ok = parse_number(value, o.renders) && o.renders > 0 && o.renders <= 64;
    } else if (flag == "--clients") {
      ok = parse_number(value, o.clients) && o.clients > 0 && o.clients <= 64;
    } else if (flag == "--draft-seconds") {
      ok = parse_number(value, o.draft_seconds) && o.draft_seconds > 0 && o.draft_seconds <= 600;
    } else if (flag == "--draft-requests") {
      ok = parse_number(value, o.draft_requests) && o.draft_requests > 0;
    } else if (flag == "--settle-seconds") {
      ok =
          parse_number(value, o.settle_seconds) && o.settle_seconds >= 1 && o.settle_seconds <= 600;
    } else if (flag == "--scenario") {
      ok = value == "html" || value == "draft";
      if (!scenario_given) o.scenarios.clear();
      scenario_given = true;
      o.scenarios.emplace_back(value);
    } else if (flag == "--env") {
      const auto eq = value.find('=');
      ok = eq != std::string_view::npos && eq > 0;
      if (ok) o.extra_env[std::string(value.substr(0, eq))] = std::string(value.substr(eq + 1));
    } else if (flag == "--text") {
      ok = value == "plain" || value == "markup";
      o.plain = value == "plain";
    } else if (flag == "--db") {
      ok = !value.empty();
      o.db = std::string(value);
    } else {
      std::cerr << "scribe_memory_bench: unknown option " << flag << "\n" << kUsage;
      return std::nullopt;
    }
    if (!ok) {
      std::cerr << "scribe_memory_bench: bad value '" << value << "' for " << flag << "\n"
                << kUsage;
      return std::nullopt;
    }
  }
  return o;
}

std::string random_hex() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", rd(), rd(), rd(), rd());
}

double mib(long kib) { return kib < 0 ? -1 : static_cast<double>(kib) / 1024.0; }

// Text that reads like incident notes: with the punctuation renderers have to escape, or
// (`plain`) words and numbers only.
std::string event_text(int n, std::size_t bytes, bool plain) {
  static constexpr std::string_view kPlain[] = {
      "p99",   "latency", "grew", "from",     "300",     "ms",     "to",     "1200",
      "after", "deploy",  "4411", "of",       "gateway", "canary", "errors", "rose",
      "on",    "euwest",  "pool", "rollback", "runbook", "pager",  "queue",  "depth"};
  static constexpr std::string_view kWords[] = {
      "p99", "latency", "grew",    "from",  "300",      "ms",          "to",       "1.2",
      "s",   "after",   "deploy",  "#4411", "of",       "api-gateway", "(canary)", "error_rate",
      "5%",  "on",      "eu-west", "*",     "rollback", "[runbook]",   "<pager>",  "db_pool",
      "at",  "100/100", "|",       "queue", "depth",    "&",           "retries",  "`kubectl`"};
  std::string text = fmt::format("event {} ", n);
  std::uint32_t x = static_cast<std::uint32_t>(n) * 2654435761u + 1;
  while (text.size() < bytes) {
    x = x * 1664525u + 1013904223u;
    text += plain ? kPlain[(x >> 16) % std::size(kPlain)] : kWords[(x >> 16) % std::size(kWords)];
    text += ' ';
  }
  text.resize(bytes);
  return text;
}

// The incident: declared an hour ago in kChannel, `events` notes, some notes and actions.
void build_incident(const std::string& db, const Options& o) {
  auto store = scribe::open_store(db);
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto start = now - 1h;
  const scribe::Person user{kUser.id, kUser.name};
  store->write([&](scribe::Transaction& tx) {
    scribe::Incident inc;
    inc.channel = {"slack", "T0TEAM", kChannel};
    inc.title = "memory bench: a very long incident";
    inc.severity = scribe::Severity::kSev2;
    inc.commander = user;
    inc.declared_at = start;
    inc.id = tx.insert_incident(inc);
    const auto step = std::chrono::milliseconds(3'500'000 / o.events);
    for (int i = 0; i < o.events; ++i) {
      scribe::TimelineEvent e;
      e.incident_id = inc.id;
      e.kind = i % 50 == 0 ? scribe::EventKind::kAlert : scribe::EventKind::kNote;
      e.occurred_at = start + step * i;
      e.recorded_at = e.occurred_at;
      e.author = user;
      e.text = event_text(i, o.event_bytes, o.plain);
      tx.append_event(std::move(e));
    }
    for (int i = 0; i < 20; ++i) {
      scribe::Note note;
      note.incident_id = inc.id;
      note.section = i % 2 ? scribe::NoteSection::kCause : scribe::NoteSection::kLesson;
      note.text = event_text(100000 + i, 400, o.plain);
      note.author = user;
      note.created_at = now;
      tx.add_note(std::move(note));
      scribe::ActionItem a;
      a.incident_id = inc.id;
      a.text = event_text(200000 + i, 200, o.plain);
      a.owner = user;
      a.due = "2099-01-01";
      a.created_by = user;
      a.created_at = now;
      tx.add_action(std::move(a));
    }
  });
}

// VmRSS of the server sampled on a thread of its own until stopped; keeps the maximum.
class RssSampler {
 public:
  explicit RssSampler(const ScribeProcess& server) : server_(server) {
    thread_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!stop_) {
        lock.unlock();
        const long rss = server_.status_kib("VmRSS");
        lock.lock();
        peak_ = std::max(peak_, rss);
        cv_.wait_for(lock, 20ms, [&] { return stop_; });
      }
    });
  }
  ~RssSampler() { stop(); }
  long stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    return peak_;
  }

 private:
  const ScribeProcess& server_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  long peak_ = -1;
  std::thread thread_;
};

struct ScenarioResult {
  std::string name;
  long idle_kib = -1;
  long peak_kib = -1;
  long hwm_kib = -1;
  std::vector<std::pair<int, long>> after;  // seconds after the last answer, VmRSS
  int requests = 0;
  int failures = 0;
  std::size_t largest_body = 0;
  double seconds = 0;
  std::vector<std::string> failure_samples;
  std::string server_end;  // how the server ended, with its last log lines, after a failure
};

// Runs `work(i)` on n threads released at once; each returns (ok, body size, why).
struct Outcome {
  bool ok = false;
  std::size_t bytes = 0;
  std::string why;
};

ScenarioResult run_scenario(const Options& o, const std::string& name, const std::string& db) {
  ScenarioResult r;
  r.name = name;
  const std::string secret = random_hex();
  const std::string token = random_hex();
  std::map<std::string, std::string> env = {
      {"SCRIBE_DB", db},
      {"SCRIBE_SLACK_SIGNING_SECRET", secret},
      {"SCRIBE_API_TOKEN", token},
      {"SCRIBE_LOG_LEVEL", "info"},
      // Every client drafts in one channel, far beyond its command rate: the rate limit
      // (commands/limits.h) is lifted so the bench measures rendering, not refusals.
      {"SCRIBE_CHANNEL_COMMANDS_PER_MINUTE", "off"},
  };
  for (const auto& [k, v] : o.extra_env) env[k] = v;
  ScribeProcess server(SCRIBE_BINARY, env, {.inherit_scribe_env = false, .die_with_parent = true});
  std::this_thread::sleep_for(500ms);  // its threads started
  r.idle_kib = server.status_kib("VmRSS");
  std::cerr << fmt::format("[{}] scribe serve pid {}, idle RSS {:.1f} MiB\n", name, server.pid(),
                           mib(r.idle_kib));

  const int n = name == "html" ? o.renders : o.clients;
  std::mutex mu;
  std::condition_variable cv;
  bool go = false;
  const auto deadline_after = std::chrono::duration<double>(o.draft_seconds);
  std::vector<std::thread> threads;
  std::vector<Outcome> outcomes;
  RssSampler sampler(server);
  const Clock::time_point started = Clock::now();
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return go; });
      }
      std::vector<Outcome> mine;
      if (name == "html") {
        HttpClient http(120s);
        const HttpResult res =
            http.request("GET", server.base_url() + "/api/incidents/1/postmortem.html",
                         {"Authorization: Bearer " + token});
        Outcome out{res.status == 200, res.body.size(),
                    fmt::format("HTTP {} {}", res.status, res.error)};
        mine.push_back(std::move(out));
      } else {
        SlackClient slack(server.base_url(), secret);
        const auto end = Clock::now() + deadline_after;
        for (int k = 0; k < o.draft_requests && Clock::now() < end; ++k) {
          const HttpResult res =
              slack.post_signed(SlackClient::form_body("/incident", "draft", kChannel, kUser));
          const bool ok = res.status == 200 && res.body.find("Postmortem") != std::string::npos;
          mine.push_back(
              {ok, res.body.size(),
               fmt::format("HTTP {} {} {}", res.status, res.error, res.body.substr(0, 120))});
        }
      }
      std::lock_guard lock(mu);
      outcomes.insert(outcomes.end(), mine.begin(), mine.end());
    });
  }
  {
    std::lock_guard lock(mu);
    go = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
  r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  r.peak_kib = sampler.stop();
  r.hwm_kib = server.status_kib("VmHWM");
  for (const auto& out : outcomes) {
    ++r.requests;
    r.largest_body = std::max(r.largest_body, out.bytes);
    if (!out.ok) {
      ++r.failures;
      if (r.failure_samples.size() < 3) r.failure_samples.push_back(out.why);
    }
  }

  const Clock::time_point done = Clock::now();
  std::vector<int> marks = {1, 5, 10, 30, o.settle_seconds};
  std::sort(marks.begin(), marks.end());
  marks.erase(std::unique(marks.begin(), marks.end()), marks.end());
  for (const int mark : marks) {
    if (mark > o.settle_seconds) break;
    std::this_thread::sleep_until(done + std::chrono::seconds(mark));
    r.after.emplace_back(mark, server.status_kib("VmRSS"));
  }
  const int status = server.terminate();
  if (r.failures > 0) {
    // A failed request may be the server's fault (a crash): say how it ended and what it
    // logged last, so an intermittent failure can be told apart from a client problem.
    const std::string logs = server.logs();
    r.server_end = fmt::format("scribe ended with status {}; its last log lines:\n{}", status,
                               logs.substr(logs.size() > 2000 ? logs.size() - 2000 : 0));
  }
  return r;
}

void print(const std::vector<ScenarioResult>& results, const Options& o) {
  fmt::print("\nincident: {} events of {} bytes ({:.1f} MiB of {} event text)\n", o.events,
             o.event_bytes, static_cast<double>(o.events) * o.event_bytes / (1024.0 * 1024.0),
             o.plain ? "plain" : "markup-heavy");
  for (const auto& [k, v] : o.extra_env) fmt::print("server environment: {}={}\n", k, v);
  for (const auto& r : results) {
    fmt::print("\n[{}] {} requests ({} failed) in {:.1f} s, largest answer {:.2f} MiB\n", r.name,
               r.requests, r.failures, r.seconds,
               static_cast<double>(r.largest_body) / (1024.0 * 1024.0));
    for (const auto& why : r.failure_samples) fmt::print("  failure: {}\n", why);
    if (!r.server_end.empty()) fmt::print("  {}\n", r.server_end);
    fmt::print("  RSS idle {:.1f} MiB, peak {:.1f} MiB (VmHWM {:.1f})\n", mib(r.idle_kib),
               mib(r.peak_kib), mib(r.hwm_kib));
    std::string after;
    for (const auto& [s, kib] : r.after) after += fmt::format("  +{}s {:.1f}", s, mib(kib));
    fmt::print("  RSS after (MiB):{}\n", after);
    if (!r.after.empty() && r.idle_kib > 0) {
      fmt::print("  after {} s: {:.2f}x idle\n", r.after.back().first,
                 static_cast<double>(r.after.back().second) / static_cast<double>(r.idle_kib));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse_options(argc, argv);
  if (!options) return 2;
  try {
    const scribe::test::ScratchDir dir("scribe-membench");
    const std::string db = options->db.empty() ? (dir.path() / "scribe.db").string() : options->db;
    if (options->db.empty() || !std::filesystem::exists(db)) {
      std::cerr << fmt::format("building {} events of {} bytes in {}...\n", options->events,
                               options->event_bytes, db);
      build_incident(db, *options);
    }
    std::vector<ScenarioResult> results;
    for (const auto& name : options->scenarios) {
      results.push_back(run_scenario(*options, name, db));
    }
    print(results, *options);
    for (const auto& r : results) {
      if (r.failures > 0) return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "scribe_memory_bench: " << e.what() << "\n";
    return 1;
  }
}
