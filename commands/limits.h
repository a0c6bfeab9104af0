// Limits on what chat commands may cost: how much one incident may hold, how long one
// command's text may be, and how many commands one channel may send in a while. Scribe is
// reachable from the internet and must keep working during the outages it records, so
// every resource a command can grow is capped, and a command over a limit is refused with
// a reply that names the limit and says what to do, changing nothing.
//
// The per-incident caps are checked by the commands themselves, inside the transaction
// that would add the row (so two commands racing for the last place cannot both get it);
// the text length and the rate are checked before a command is parsed
// (CommandHandler::prepare).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace scribe {

// How much one incident may hold. Rows are counted as stored: deleted timeline events are
// kept in the audit trail, so they count.
struct IncidentCaps {
  int events = 5000;
  int notes = 1000;
  int actions = 500;
};

// A channel's command rate: a token bucket that holds at most `burst` commands and refills
// at `per_minute` a minute. A channel that stays under the sustained rate is never refused.
struct RateSettings {
  int burst = 100;
  int per_minute = 120;
  bool enabled = true;
};

struct CommandLimits {
  IncidentCaps per_incident;
  // Characters (Unicode code points) of a command's text, after the command word.
  std::size_t max_text_chars = 4000;
  RateSettings rate;
};

// Why a refused command was refused, for counting (/metrics).
enum class Limit { kChannelRate, kTextLength, kEvents, kNotes, kActions, kCount };
std::string_view to_string(Limit limit);  // "channel_rate", "text_length", "events", …

// Refusals so far, by limit. Lock-free; safe from any thread.
class LimitCounters {
 public:
  void count(Limit limit) {
    counts_[static_cast<std::size_t>(limit)].fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t of(Limit limit) const {
    return counts_[static_cast<std::size_t>(limit)].load(std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Limit::kCount)> counts_{};
};

// A command the rate refused.
struct RateRefusal {
  // How long until a token is there: at least 1 s, whole seconds rounded up, as a reply
  // shows it.
  std::chrono::seconds retry_after{};
  // The first refusal since the channel's last accepted command: worth one log line.
  bool first = false;
};

// Per-channel token buckets. Memory is bounded: a bucket that has refilled to full holds
// no information (a fresh one is the same), so full buckets are dropped whenever the table
// has grown to twice its size after the last sweep; and the table never holds more than
// `max_channels` buckets (past that, the least recently used are dropped, which only ever
// errs towards letting a command in).
//
// Threads: safe to call from any number of threads at once (one mutex; the work under it
// is a hash lookup and a little arithmetic).
class RateLimiter {
 public:
  // A monotonic clock, injectable so tests move time by hand.
  using Instant = std::chrono::steady_clock::time_point;
  using Clock = std::function<Instant()>;

  explicit RateLimiter(RateSettings settings, Clock clock = &std::chrono::steady_clock::now,
                       std::size_t max_channels = 10000);

  // Takes one token from `channel`'s bucket. nullopt: the command may run. Otherwise it
  // must be refused, as the value says. A refused command takes nothing.
  std::optional<RateRefusal> acquire(const std::string& channel);

  // Buckets held now (for tests of the memory bound).
  std::size_t channels() const;

 private:
  struct Bucket {
    double tokens = 0;
    Instant updated{};
    bool refusing = false;  // the last acquire was refused
  };
  // Tokens `b` holds at `now` (refilled since its last update, at most burst).
  double level(const Bucket& b, Instant now) const;
  void sweep(Instant now);  // under mutex_

  const RateSettings settings_;
  const double per_second_;
  const Clock clock_;
  const std::size_t max_channels_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::size_t sweep_at_;
};

// The reply texts of the limits, one place, so every command words them alike. `prefix`
// is how users type commands on the platform ("/" or "!").
namespace limits {
std::string too_long(std::size_t chars, std::size_t max);
std::string too_fast(std::chrono::seconds retry_after, const RateSettings& settings);
// The log line when a channel starts being refused (once per run of refusals).
std::string rate_log(std::string_view channel, const RateSettings& settings);
// `what`: "timeline events", "notes", "action items"; `ref`: "INC-7"; `count`: how many
// it holds (at least `cap`).
std::string incident_full(std::string_view ref, std::string_view what, std::int64_t count, int cap,
                          std::string_view setting, std::string_view prefix);
}  // namespace limits

}  // namespace scribe
