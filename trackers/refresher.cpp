#include "trackers/refresher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands/tracking.h"

namespace scribe::trackers {

Refresher::Refresher(Store& store, std::chrono::minutes interval, Clock clock,
                     std::function<void()> wake)
    : store_(store), interval_(interval), clock_(std::move(clock)), wake_(std::move(wake)) {}

Refresher::~Refresher() { stop(); }

int Refresher::run_once() {
  const Timestamp now = clock_();
  const auto slot = interval_.count() > 0 ? now.time_since_epoch() / interval_ : 0;
  int written = 0;
  store_.write([&](Transaction& tx) {
    written = 0;
    const std::vector<ActionItem> items = tx.open_tracked_actions(cursor_, kPerRound);
    for (const ActionItem& item : items) {
      OutboxMessage m;
      m.channel = tracker_lane(item.id);
      m.kind = JobKind::kTrackRefresh;
      m.content = to_json(TrackerJob{item.id, false});
      m.dedupe_key = fmt::format("refresh:{}:{}", item.id, slot);
      m.created_at = now;
      m.next_attempt_at = now;
      tx.enqueue(m);
      ++written;
    }
    // A short page ends the walk: the next round starts from the beginning.
    cursor_ = static_cast<int>(items.size()) < kPerRound ? 0 : items.back().id;
  });
  if (written > 0 && wake_) wake_();
  return written;
}

void Refresher::start() {
  if (interval_.count() <= 0) return;
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void Refresher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Refresher::loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, interval_, [&] { return stopping_; })) return;
    }
    try {
      const int n = run_once();
      if (n > 0) spdlog::debug("tracker refresh: {} items to check", n);
    } catch (const std::exception& e) {
      spdlog::error("tracker refresh: {}", e.what());
    }
  }
}

}  // namespace scribe::trackers
