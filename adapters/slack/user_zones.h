// UserZones: each Slack user's own time zone (users.info `tz`), so that the backdated
// times a user types ("/timeline 14:05 …") are read in their zone when it differs from the
// channel's. A command must never wait for Slack, so `lookup` only ever reads the cache:
// on a miss (or a stale entry) it hands the user to a background thread that calls
// users.info with a short timeout and fills the cache, and answers with what it has
// (nothing on a first miss: the command is read in the channel's zone and says so; a
// stale zone while it refreshes). People's zones change rarely (travel), so entries live
// `ttl` (12 h by default); a failed look-up is remembered for `retry_after` so a Slack
// outage costs one call per user per few minutes, not one per command.
//
// Bounded: at most `max_users` entries (the least recently fetched go first) and at most
// `max_pending` look-ups queued; beyond that a miss is simply not fetched now.
//
// Threads: lookup() may be called from any thread and never blocks on the network; the
// fetches run on one thread of its own, which owns the WebApi. The destructor waits for a
// fetch under way (bounded by the timeout) and drops the rest.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "adapters/slack/web_api.h"

namespace scribe::slack {

class UserZones {
 public:
  struct Options {
    WebApi::Options api;  // its timeout is cut to `fetch_timeout`
    std::chrono::milliseconds fetch_timeout = std::chrono::seconds(2);
    std::chrono::seconds ttl = std::chrono::hours(12);
    std::chrono::seconds retry_after = std::chrono::minutes(5);
    std::size_t max_users = 10000;
    std::size_t max_pending = 256;
    // Monotonic; injectable for tests.
    std::function<std::chrono::steady_clock::time_point()> clock = &std::chrono::steady_clock::now;
  };

  // What is known of one user's zone right now.
  struct Known {
    std::string zone;  // IANA name; empty when Slack keeps none for the user
  };

  explicit UserZones(Options options);
  ~UserZones();
  UserZones(const UserZones&) = delete;
  UserZones& operator=(const UserZones&) = delete;

  // The user's zone as cached (possibly stale, then refreshed in the background), or
  // nullopt when not known yet (a fetch is then queued). Never blocks on the network.
  std::optional<Known> lookup(const std::string& user);

  // Users.info calls answered (or failed) and stored so far (for tests).
  std::size_t fetches() const;
  // Waits until at least `n` fetches are stored; false after `timeout` (for tests).
  bool wait_for_fetches(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  struct Entry {
    std::optional<Known> known;  // nullopt: the last look-up failed
    std::chrono::steady_clock::time_point expires;
    std::list<std::string>::iterator age;  // place in `order_`
  };

  void queue_locked(const std::string& user);
  void loop();
  void store_locked(const std::string& user, std::optional<Known> known);

  Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  mutable std::condition_variable fetched_;  // after each stored fetch
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> order_;  // oldest fetched first
  std::deque<std::string> pending_;
  std::unordered_set<std::string> queued_;
  std::size_t fetches_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace scribe::slack
