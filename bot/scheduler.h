// Scheduler: runs the reminder planner on its own thread.
//
// Promises:
//   - `start` runs a first pass at once (catching up after a restart), then one pass every
//     `tick`; each pass is `planner.enqueue_due(clock())`;
//   - when a pass enqueued anything, `wake` is called (the outbox sender), so reminders go
//     out at once rather than at the sender's next look;
//   - a pass that throws (the store is unavailable, say) is logged and the next tick tries
//     again: the thread never dies of it, and the service goes on;
//   - `stop` (also run by the destructor) wakes the thread, lets a pass under way finish
//     and joins it; it returns promptly, never after a whole tick.
// The thread keeps no reminder state: what is due, and what was enqueued, lives in the
// store (see commands/reminders.h), so a restart loses nothing and repeats nothing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "commands/reminders.h"

namespace scribe {

class Scheduler {
 public:
  using Clock = std::function<Timestamp()>;
  struct Options {
    std::chrono::milliseconds tick{60'000};
  };

  // `planner` must outlive the scheduler; `wake` may be empty.
  Scheduler(ReminderPlanner& planner, Clock clock, std::function<void()> wake, Options options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // One pass on the caller's thread: how many reminders were enqueued; 0 when the pass
  // failed (the error is logged, not thrown).
  int run_once();

  void start();
  void stop();

 private:
  void loop();

  ReminderPlanner& planner_;
  Clock clock_;
  std::function<void()> wake_;
  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace scribe
