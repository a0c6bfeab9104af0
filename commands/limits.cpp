#include "commands/limits.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

namespace scribe {

RateLimiter::RateLimiter(RateSettings settings, Clock clock, std::size_t max_channels)
    : settings_(settings),
      per_second_(settings.per_minute / 60.0),
      clock_(std::move(clock)),
      max_channels_(std::max<std::size_t>(max_channels, 1)),
      sweep_at_(std::min<std::size_t>(1024, max_channels_)) {}

double RateLimiter::level(const Bucket& b, Instant now) const {
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  // A clock that went backwards (it must not, but an injected one might) refills nothing.
  return std::min<double>(settings_.burst, b.tokens + std::max(0.0, elapsed) * per_second_);
}

std::string_view to_string(Limit limit) {
  switch (limit) {
    case Limit::kChannelRate:
      return "channel_rate";
    case Limit::kTextLength:
      return "text_length";
    case Limit::kEvents:
      return "events_per_incident";
    case Limit::kNotes:
      return "notes_per_incident";
    case Limit::kActions:
      return "actions_per_incident";
    case Limit::kCount:
      break;
  }
  return "unknown";
}

std::optional<RateRefusal> RateLimiter::acquire(const std::string& channel) {
  if (!settings_.enabled) return std::nullopt;
  const Instant now = clock_();
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(channel);
  if (it == buckets_.end()) {
    if (buckets_.size() >= sweep_at_) sweep(now);
    it = buckets_.emplace(channel, Bucket{static_cast<double>(settings_.burst), now}).first;
  }
  Bucket& b = it->second;
  b.tokens = level(b, now);
  b.updated = now;
  // The epsilon forgives the rounding of a refill that should have made exactly one token.
  constexpr double kEpsilon = 1e-9;
  if (b.tokens >= 1.0 - kEpsilon) {
    b.tokens = std::max(0.0, b.tokens - 1.0);
    b.refusing = false;
    return std::nullopt;
  }
  const double wait = (1.0 - b.tokens) / per_second_;
  RateRefusal refusal;
  refusal.retry_after =
      std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(wait))));
  refusal.first = !b.refusing;
  b.refusing = true;
  return refusal;
}

std::size_t RateLimiter::channels() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

void RateLimiter::sweep(Instant now) {
  std::erase_if(buckets_,
                [&](const auto& entry) { return level(entry.second, now) >= settings_.burst; });
  if (buckets_.size() >= max_channels_) {
    // Every bucket is in use: drop the least recently used half. Their channels start
    // again with a full bucket, which lets commands in rather than refusing them.
    std::vector<Instant> times;
    times.reserve(buckets_.size());
    for (const auto& [key, b] : buckets_) times.push_back(b.updated);
    const auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), middle, times.end());
    const Instant cut = *middle;
    std::erase_if(buckets_, [&](const auto& entry) { return entry.second.updated <= cut; });
  }
  sweep_at_ = std::min(std::max<std::size_t>(buckets_.size() * 2, 1024), max_channels_);
}

namespace limits {

std::string too_long(std::size_t chars, std::size_t max) {
  return fmt::format(
      "⚠️ That command is {} characters long; the limit is {} (`limits.command_text_chars`). "
      "Nothing was recorded. Split it into shorter entries, or put the long text in a document "
      "and record a link to it.",
      chars, max);
}

std::string too_fast(std::chrono::seconds retry_after, const RateSettings& settings) {
  return fmt::format(
      "⏳ Too many commands in this channel just now (at most {} at once, then {} a minute: "
      "`limits.channel_commands_per_minute`). Nothing was recorded; try again in {} s.",
      settings.burst, settings.per_minute, retry_after.count());
}

std::string rate_log(std::string_view channel, const RateSettings& settings) {
  return fmt::format(
      "channel {} is over its command rate ({} at once, {} a minute): refusing its commands "
      "until it slows down",
      channel, settings.burst, settings.per_minute);
}

std::string incident_full(std::string_view ref, std::string_view what, std::int64_t count, int cap,
                          std::string_view setting, std::string_view prefix) {
  return fmt::format(
      "⚠️ {} already has {} {}; one incident holds at most {} (`{}`). Nothing was recorded. "
      "If this is a new incident, resolve this one and `{}incident start` another; otherwise "
      "ask the operator to raise the setting.",
      ref, count, what, cap, setting, prefix);
}

}  // namespace limits
}  // namespace scribe
