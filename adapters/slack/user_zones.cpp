#include "adapters/slack/user_zones.h"

#include <utility>

#include <spdlog/spdlog.h>

namespace scribe::slack {

UserZones::UserZones(Options options) : options_(std::move(options)) {
  options_.api.timeout = options_.fetch_timeout;
  if (options_.api.connect_timeout > options_.fetch_timeout) {
    options_.api.connect_timeout = options_.fetch_timeout;
  }
  thread_ = std::thread([this] { loop(); });
}

UserZones::~UserZones() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    pending_.clear();
  }
  cv_.notify_all();
  thread_.join();
}

std::optional<UserZones::Known> UserZones::lookup(const std::string& user) {
  if (user.empty()) return std::nullopt;
  std::lock_guard lock(mu_);
  const auto it = entries_.find(user);
  if (it == entries_.end()) {
    queue_locked(user);
    return std::nullopt;
  }
  if (options_.clock() >= it->second.expires) queue_locked(user);
  return it->second.known;
}

std::size_t UserZones::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

bool UserZones::wait_for_fetches(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return fetched_.wait_for(lock, timeout, [&] { return fetches_ >= n; });
}

void UserZones::queue_locked(const std::string& user) {
  if (stopping_ || queued_.count(user) > 0 || pending_.size() >= options_.max_pending) return;
  queued_.insert(user);
  pending_.push_back(user);
  cv_.notify_one();
}

void UserZones::store_locked(const std::string& user, std::optional<Known> known) {
  const auto now = options_.clock();
  const bool ok = known.has_value();
  auto it = entries_.find(user);
  if (it != entries_.end()) {
    order_.erase(it->second.age);
  } else {
    while (!order_.empty() && entries_.size() >= options_.max_users) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
    it = entries_.emplace(user, Entry{}).first;
  }
  // A failure keeps what was known before (a zone stays right through a Slack outage).
  if (ok || !it->second.known) it->second.known = std::move(known);
  it->second.expires = now + (ok ? options_.ttl : options_.retry_after);
  it->second.age = order_.insert(order_.end(), user);
}

void UserZones::loop() {
  WebApi api(options_.api);  // used by this thread only
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;
    const std::string user = std::move(pending_.front());
    pending_.pop_front();
    lock.unlock();
    const WebApiResult result = api.users_info(user);
    std::optional<Known> known;
    if (const std::optional<UserInfo> info = user_info(result)) {
      known = Known{info->tz};
    } else {
      spdlog::warn("users.info for {} failed ({}); their times are read in the channel's zone",
                   user, result.error);
    }
    lock.lock();
    ++fetches_;
    queued_.erase(user);
    // Logged under the lock it is stored under: whoever reads the line finds it cached.
    if (known)
      spdlog::info("time zone of Slack user {}: {}", user,
                   known->zone.empty() ? "none" : known->zone);
    store_locked(user, std::move(known));
    fetched_.notify_all();
  }
}

}  // namespace scribe::slack
