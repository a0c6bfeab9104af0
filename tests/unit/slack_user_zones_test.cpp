// UserZones against the stand-in Slack API: a miss answers at once and fetches in the
// background, a hit costs no call, a failed look-up is retried only after its back-off,
// a stale entry is served while it is refreshed, and the cache stays bounded.
#include "adapters/slack/user_zones.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/slack_standin.h"

namespace scribe::slack {
namespace {

using scribe::testing::SlackStandIn;
using scribe::testing::SlackStandInUser;
using namespace std::chrono_literals;

struct ManualClock {
  std::atomic<std::chrono::steady_clock::rep> ticks{0};
  std::chrono::steady_clock::time_point now() const {
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ticks.load()));
  }
  void advance(std::chrono::steady_clock::duration d) { ticks += d.count(); }
};

class UserZonesTest : public ::testing::Test {
 protected:
  UserZones::Options options() {
    UserZones::Options o;
    o.api.base_url = slack_.base_url();
    o.api.token = slack_.token();
    o.fetch_timeout = 2s;
    o.clock = [this] { return clock_.now(); };
    return o;
  }

  // What the cache knows of `user` once `fetches` fetches are stored; the fetch runs on the
  // cache's own thread.
  std::optional<UserZones::Known> known(UserZones& zones, const std::string& user,
                                        std::size_t fetches) {
    if (!zones.wait_for_fetches(fetches, 5s)) return std::nullopt;
    return zones.lookup(user);
  }

  SlackStandIn slack_;
  ManualClock clock_;
};

TEST_F(UserZonesTest, AMissAnswersAtOnceAndTheZoneArrivesInTheBackground) {
  slack_.add_user(SlackStandInUser{"U0BOB", "bob", "Bob", "", "Europe/Berlin", 3600});
  slack_.set_delay(300ms);  // a slow Slack must not slow the caller
  UserZones zones(options());
  const auto before = std::chrono::steady_clock::now();
  EXPECT_FALSE(zones.lookup("U0BOB").has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - before, 100ms);
  const auto k = known(zones, "U0BOB", 1);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->zone, "Europe/Berlin");
  // Cached: more look-ups make no more calls.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(zones.lookup("U0BOB")->zone, "Europe/Berlin");
  EXPECT_EQ(slack_.calls_to("users.info").size(), 1u);
  EXPECT_EQ(zones.fetches(), 1u);
}

TEST_F(UserZonesTest, AFailedLookUpIsRetriedOnlyAfterItsBackOff) {
  slack_.fail_next_error(1, "internal_error");
  slack_.add_user(SlackStandInUser{"U0BOB", "bob", "Bob", "", "Asia/Tokyo", 32400});
  UserZones zones(options());
  EXPECT_FALSE(zones.lookup("U0BOB").has_value());
  ASSERT_TRUE(slack_.wait_for_calls("users.info", 1));
  // The failure is remembered (nullopt) without further calls until the back-off passes;
  // while the call is in flight the user is not queued twice either.
  ASSERT_TRUE(zones.wait_for_fetches(1, 5s));
  ASSERT_EQ(zones.fetches(), 1u);  // the failure is stored (with its back-off from now)
  EXPECT_FALSE(zones.lookup("U0BOB").has_value());
  EXPECT_EQ(slack_.calls_to("users.info").size(), 1u);
  clock_.advance(6min);
  zones.lookup("U0BOB");  // the back-off has passed: this queues the retry
  const auto k = known(zones, "U0BOB", 2);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->zone, "Asia/Tokyo");
  EXPECT_EQ(slack_.calls_to("users.info").size(), 2u);
}

TEST_F(UserZonesTest, AStaleZoneIsServedWhileItIsRefreshed) {
  slack_.add_user(SlackStandInUser{"U0BOB", "bob", "Bob", "", "Europe/Berlin", 3600});
  UserZones zones(options());
  zones.lookup("U0BOB");
  ASSERT_TRUE(known(zones, "U0BOB", 1).has_value());
  slack_.add_user(SlackStandInUser{"U0BOB", "bob", "Bob", "", "America/Chicago", -21600});
  clock_.advance(13h);
  EXPECT_EQ(zones.lookup("U0BOB")->zone, "Europe/Berlin");  // stale, refresh queued
  ASSERT_TRUE(slack_.wait_for_calls("users.info", 2));
  ASSERT_TRUE(zones.wait_for_fetches(2, 5s));
  EXPECT_EQ(zones.lookup("U0BOB")->zone, "America/Chicago");
}

TEST_F(UserZonesTest, TheCacheHoldsAtMostMaxUsers) {
  for (int i = 0; i < 5; ++i) {
    slack_.add_user(SlackStandInUser{"U" + std::to_string(i), "u", "U", "", "UTC", 0});
  }
  UserZones::Options o = options();
  o.max_users = 3;
  UserZones zones(std::move(o));
  for (int i = 0; i < 5; ++i) {
    zones.lookup("U" + std::to_string(i));
    ASSERT_TRUE(known(zones, "U" + std::to_string(i), static_cast<std::size_t>(i) + 1).has_value());
  }
  // The two fetched first were dropped: asking again fetches them again.
  EXPECT_FALSE(zones.lookup("U0").has_value());
  EXPECT_TRUE(zones.lookup("U4").has_value());
}

}  // namespace
}  // namespace scribe::slack
