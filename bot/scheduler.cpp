#include "bot/scheduler.h"

#include <exception>
#include <utility>

#include <spdlog/spdlog.h>

namespace scribe {

Scheduler::Scheduler(ReminderPlanner& planner, Clock clock, std::function<void()> wake,
                     Options options)
    : planner_(planner), clock_(std::move(clock)), wake_(std::move(wake)), options_(options) {}

Scheduler::~Scheduler() { stop(); }

int Scheduler::run_once() {
  int enqueued = 0;
  try {
    enqueued = planner_.enqueue_due(clock_());
  } catch (const std::exception& e) {
    spdlog::error("reminders: pass failed, retrying at the next tick: {}", e.what());
    return 0;
  } catch (...) {
    spdlog::error("reminders: pass failed with an unknown error, retrying at the next tick");
    return 0;
  }
  if (enqueued > 0) {
    spdlog::info("reminders: {} enqueued", enqueued);
    if (wake_) {
      try {
        wake_();
      } catch (const std::exception& e) {
        spdlog::error("reminders: waking the outbox failed: {}", e.what());
      }
    }
  }
  return enqueued;
}

void Scheduler::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    run_once();
    lock.lock();
    cv_.wait_for(lock, options_.tick, [&] { return stopping_; });
  }
}

}  // namespace scribe
