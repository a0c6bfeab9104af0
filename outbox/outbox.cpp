#include "outbox/outbox.h"

#include <algorithm>
#include <random>

#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/random.h"

namespace scribe {

namespace {

std::string claim_owner() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device rd;
  return fmt::format("{}:{}:{:08x}", host, static_cast<long>(getpid()), rd());
}

}  // namespace

OutboxSender::OutboxSender(Store& store, Clock clock, Options options)
    : store_(store), clock_(std::move(clock)), options_(options), owner_(claim_owner()) {}

OutboxSender::~OutboxSender() { stop(); }

void OutboxSender::add_deliverer(const std::string& platform, std::initializer_list<JobKind> kinds,
                                 std::unique_ptr<Deliverer> deliverer) {
  for (JobKind kind : kinds) deliverers_[{platform, kind}] = deliverer.get();
  owned_.push_back(std::move(deliverer));
}

bool OutboxSender::delivers_to(const std::string& platform, JobKind kind) const {
  return deliverers_.count({platform, kind}) > 0;
}

std::chrono::milliseconds OutboxSender::backoff(int attempts) {
  // Exponential with "equal jitter": between half and all of the doubled delay, so that
  // many messages failing together do not all come back at the same instant.
  const int exponent = std::min(attempts - 1, 20);
  const auto full = std::min<std::chrono::milliseconds>(options_.max_retry,
                                                        options_.first_retry * (1LL << exponent));
  return std::chrono::milliseconds(random_between(full.count() / 2, full.count()));
}

int OutboxSender::run_once() {
  bool more = false;
  return pass(more);
}

int OutboxSender::pass(bool& more) {
  std::vector<OutboxMessage> due;
  const Timestamp claimed_at = clock_();
  // A write: with replicas on one database, taking a job claims it (see claim_outbox).
  store_.write([&](Transaction& tx) {
    due = tx.claim_outbox(claimed_at, options_.batch, owner_, options_.claim_lease);
  });
  // A job is started only in the first half of the lease, so that it ends before the lease
  // does (a delivery is bounded far below half of a sane lease) and no other replica can
  // take it meanwhile. The rest stay claimed by this sender, which takes them again at
  // once with a fresh lease.
  int attempted = 0;
  for (auto& message : due) {
    if (clock_() - claimed_at >= options_.claim_lease / 2) break;
    attempt(std::move(message));
    ++attempted;
  }
  more = static_cast<int>(due.size()) == options_.batch || attempted < static_cast<int>(due.size());
  return attempted;
}

void OutboxSender::attempt(OutboxMessage m) {
  std::optional<std::string> thread_id;
  if (m.thread_parent) {
    // due_outbox holds a reply back while its parent is pending, so the parent is sent
    // (reply in its thread) or given up: then the reply goes to the channel on its own,
    // marked (m.thread_parent_lost), rather than silently as a message of its own.
    store_.read([&](Transaction& tx) {
      auto parent = tx.find_outbox(*m.thread_parent);
      if (parent && parent->status == OutboxStatus::kSent) thread_id = parent->delivered_id;
      m.thread_parent_lost = !parent || parent->status == OutboxStatus::kFailed;
    });
    if (m.thread_parent_lost) {
      spdlog::warn(
          "outbox #{}: its thread's first message (#{}) was given up; posting it to {} {} "
          "on its own, marked",
          m.id, *m.thread_parent, m.channel.platform, m.channel.channel);
    }
  }
  DeliveryResult result;
  auto it = deliverers_.find({m.channel.platform, m.kind});
  if (it == deliverers_.end()) {
    result.outcome = DeliveryResult::Outcome::kPermanent;
    result.error =
        fmt::format("no way to {} on {} is configured", to_string(m.kind), m.channel.platform);
  } else {
    try {
      result = it->second->deliver(m, thread_id);
    } catch (const std::exception& e) {
      result.outcome = DeliveryResult::Outcome::kRetry;
      result.error = e.what();
    }
  }

  const Timestamp now = clock_();
  m.attempts += 1;
  m.last_error = result.error;
  // Once in doubt, until sent: an answer lost once may mean the message is out there.
  m.in_doubt = m.in_doubt || result.maybe_delivered;
  switch (result.outcome) {
    case DeliveryResult::Outcome::kSent:
      m.status = OutboxStatus::kSent;
      m.sent_at = now;
      m.delivered_id = result.delivered_id;
      spdlog::debug("outbox #{} delivered to {} {} as {}", m.id, m.channel.platform,
                    m.channel.channel, m.delivered_id);
      break;
    case DeliveryResult::Outcome::kPermanent:
      m.status = OutboxStatus::kFailed;
      spdlog::error("outbox #{} to {} {} given up: {}", m.id, m.channel.platform, m.channel.channel,
                    result.error);
      break;
    case DeliveryResult::Outcome::kRetry: {
      if (now - m.created_at > options_.give_up_after) {
        m.status = OutboxStatus::kFailed;
        spdlog::error("outbox #{} given up after {} attempts: {}", m.id, m.attempts, result.error);
        break;
      }
      auto wait = backoff(m.attempts);
      // Timestamps are whole milliseconds, cut down: one more keeps a retry from landing a
      // fraction of a millisecond before the platform's Retry-After is over.
      if (result.retry_after) {
        wait = std::max(wait, *result.retry_after + std::chrono::milliseconds(1));
      }
      m.next_attempt_at = now + wait;
      spdlog::warn("outbox #{} attempt {} failed ({}); next in {} ms", m.id, m.attempts,
                   result.error, wait.count());
      break;
    }
  }
  store_.write([&](Transaction& tx) { tx.update_outbox(m); });
}

void OutboxSender::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void OutboxSender::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxSender::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void OutboxSender::loop() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      woken_ = false;
    }
    bool more = false;
    std::optional<Timestamp> next;
    try {
      pass(more);
      store_.read([&](Transaction& tx) { next = tx.next_outbox_attempt(); });
    } catch (const std::exception& e) {
      spdlog::error("outbox: {}", e.what());
    }
    if (more) continue;  // more may be due right away
    // Sleep until the next attempt is due (at most a second, so a clock that jumps or a
    // message written by another process is noticed), or until woken.
    auto wait = std::chrono::milliseconds(1000);
    if (next) {
      wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*next - clock_()),
                        std::chrono::milliseconds(0), wait);
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [&] { return stopping_ || woken_; });
  }
}

}  // namespace scribe
