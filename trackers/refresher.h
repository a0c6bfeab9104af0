// Refresher: the fallback for a webhook that never arrived. Every `interval` it writes a
// refresh job (JobKind::kTrackRefresh) to the outbox for open items that have an issue,
// at most kPerRound of them a round (continuing from where the last round stopped), so the
// tracker sees a bounded number of reads; the outbox delivers them like every other
// tracker call (retries, backoff, Retry-After). A job's dedupe key names its round, so a
// restart within a round adds nothing. Runs on a thread of its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "storage/store.h"

namespace scribe::trackers {

class Refresher {
 public:
  static constexpr int kPerRound = 500;
  using Clock = std::function<Timestamp()>;
  Refresher(Store& store, std::chrono::minutes interval, Clock clock, std::function<void()> wake);
  ~Refresher();

  // One round now; returns how many jobs it wrote.
  int run_once();
  void start();  // no-op when interval is 0
  void stop();

 private:
  void loop();

  Store& store_;
  std::chrono::minutes interval_;
  Clock clock_;
  std::function<void()> wake_;
  std::int64_t cursor_ = 0;  // the last item id of the previous round
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace scribe::trackers
