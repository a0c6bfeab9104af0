// OutboxSender: delivers the messages Scribe decided to send. The messages were written
// to the store in the same transaction as the change that caused them; the sender runs
// on its own thread beside the listener, hands each due message to its platform's
// Deliverer, and records the outcome. Messages in one channel go out in order; a failed
// attempt is retried with exponential backoff and jitter, or after the platform's
// Retry-After; a permanent error ends it with the reason logged. After a restart it
// resumes with whatever is still pending, so a message is delivered once. (A crash in
// the instant between the platform's "ok" and recording it would send that one again.)
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "outbox/delivery.h"
#include "storage/store.h"

namespace scribe {

class OutboxSender {
 public:
  struct Options {
    std::chrono::milliseconds first_retry{1000};
    std::chrono::milliseconds max_retry{5 * 60 * 1000};
    // Passing failures are retried this long after the message was written, then it fails.
    std::chrono::hours give_up_after{24};
    int batch = 16;
    // How long a claimed job is this sender's alone (Transaction::claim_outbox): replicas on
    // one database take over the claims of one that died once this is over. A job is started
    // only in the first half of its lease, so a lease of at least twice the longest delivery
    // means a live sender's job is never taken from it.
    std::chrono::milliseconds claim_lease{60'000};
  };
  using Clock = std::function<Timestamp()>;

  OutboxSender(Store& store, Clock clock, Options options);
  ~OutboxSender();  // stops the thread if running

  // Jobs of `platform` of each of `kinds` go to `deliverer`. Before start() only.
  void add_deliverer(const std::string& platform, std::initializer_list<JobKind> kinds,
                     std::unique_ptr<Deliverer> deliverer);
  // Whether jobs of this (platform, kind) have a deliverer; others fail permanently.
  bool delivers_to(const std::string& platform, JobKind kind = JobKind::kPost) const;

  // Attempts every message due now; returns how many were attempted.
  int run_once();

  void start();
  // Finishes the delivery in hand, then stops.
  void stop();
  // Something was enqueued: look now rather than at the next timer.
  void wake();

 private:
  void loop();
  // Claims and attempts a batch; `more` tells whether another pass may find work at once.
  int pass(bool& more);
  void attempt(OutboxMessage message);
  std::chrono::milliseconds backoff(int attempts);

  Store& store_;
  Clock clock_;
  Options options_;
  const std::string owner_;  // this process's name on its claims: host, pid, a random part
  std::vector<std::unique_ptr<Deliverer>> owned_;
  std::map<std::pair<std::string, JobKind>, Deliverer*> deliverers_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace scribe
