// End-to-end: Slack's Events API against the real `scribe serve`: URL verification, and a
// pinned message becoming a timeline event with its own time and author, once. The pin and
// reaction scenarios run in both Slack modes (events over HTTP, or as Socket Mode
// envelopes) through the same test code; URL verification and signatures are HTTP's own.
#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "e2e/fixture.h"
#include "e2e/socket_fixture.h"
#include "support/slack_standin.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::json;
using testing::SlackClient;

class SlackEventsE2E : public testing::ScribeE2E {
 protected:
  HttpResult post_event(const json& body, const std::vector<std::string>& extra_headers = {},
                        const std::string& secret = kSecret) {
    return post_signed_to("/slack/events", body.dump(), "application/json", extra_headers, secret);
  }

  // The event Slack sends when someone pins a message in `channel`.
  static json pin_added(const std::string& event_id, const std::string& channel,
                        const std::string& ts, const std::string& text) {
    return {{"token", "legacy"},
            {"team_id", "T0TEAM"},
            {"api_app_id", "A0SCRIBE"},
            {"type", "event_callback"},
            {"event_id", event_id},
            {"event_time", 1700000000},
            {"event",
             {{"type", "pin_added"},
              {"user", "U0CAROL"},
              {"channel_id", channel},
              {"item",
               {{"type", "message"},
                {"channel", channel},
                {"created_by", "U0CAROL"},
                {"message",
                 {{"type", "message"},
                  {"user", "U0BOB"},
                  {"text", text},
                  {"ts", ts},
                  {"user_profile", {{"display_name", "bob"}, {"real_name", "Bob B"}}}}}}},
              {"event_ts", "1700000100.000200"}}}};
  }

  std::vector<json> pinned_events() {
    std::vector<json> out;
    const json incident = api_json("/api/incidents/1");
    for (const auto& e : incident["timeline"]) {
      if (e["author"]["id"] == "U0BOB") out.push_back(e);
    }
    return out;
  }
};

using SlackEventsModesE2E = testing::SlackModes<SlackEventsE2E>;
INSTANTIATE_TEST_SUITE_P(Modes, SlackEventsModesE2E, testing::kBothSlackModes, testing::mode_name);

TEST_F(SlackEventsE2E, UrlVerificationAnswersTheChallenge) {
  const json body = {
      {"token", "legacy"}, {"challenge", "3eZbrw1aBm2rZgRNFdxV"}, {"type", "url_verification"}};
  const HttpResult r = post_event(body);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["challenge"], "3eZbrw1aBm2rZgRNFdxV");
  EXPECT_EQ(post_event(body, {}, "not-the-secret").status, 401);
}

TEST_P(SlackEventsModesE2E, APinnedMessageBecomesAnEventWithItsOwnTimeAndAuthorOnce) {
  slack_->command("/incident", "start DB saturation", "C0PIN");
  // The message was written 12 minutes ago; it is pinned now.
  const auto written =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - 12min;
  const std::string ts = std::to_string(written.time_since_epoch().count()) + ".000300";
  const json event =
      pin_added("Ev0001", "C0PIN", ts, "DB CPU at 100% &amp; climbing, <@U0ALICE|alice> paged");

  const testing::SlackDelivery first = deliver_event(event);
  ASSERT_TRUE(first.acknowledged) << first.status << " " << first.body;
  if (socket_mode()) {
    EXPECT_FALSE(first.ack.contains("payload")) << first.ack.dump();
  } else {
    EXPECT_EQ(first.body, "recorded\n");
  }
  // Slack retries the same event (it thought we were too slow): stored once.
  EXPECT_TRUE(deliver_event(event, 1).acknowledged);
  EXPECT_TRUE(deliver_event(event, 2).acknowledged);
  // Unpinned and pinned again later: a new event id, the same message, still one event.
  EXPECT_TRUE(deliver_event(pin_added("Ev0002", "C0PIN", ts, "DB CPU at 100% &amp; climbing"))
                  .acknowledged);

  const auto pinned = pinned_events();
  ASSERT_EQ(pinned.size(), 1u);
  EXPECT_EQ(pinned[0]["text"], "DB CPU at 100% & climbing, @alice paged");
  EXPECT_EQ(pinned[0]["author"]["name"], "bob");
  EXPECT_THAT(pinned[0]["occurred_at"].get<std::string>(),
              HasSubstr(testing::iso(written).substr(0, 19)));

  // It is in the draft's timeline, in its place in time.
  const std::string md = api("/api/incidents/1/postmortem.md").body;
  EXPECT_THAT(md, HasSubstr("DB CPU at 100% & climbing"));
}

TEST_F(SlackEventsE2E, BadSignaturesAndMalformedEventsChangeNothing) {
  slack_->command("/incident", "start Forgery attempt", "C0PIN");
  const json event = pin_added("Ev0003", "C0PIN", "1700000000.000100", "forged");
  EXPECT_EQ(post_event(event, {}, "not-the-secret").status, 401);
  SlackClient signer(scribe_->base_url(), kSecret);
  const std::string broken = "{\"type\": \"event_callback\", \"event\": ";
  EXPECT_EQ(http_
                .request("POST", scribe_->base_url() + "/slack/events",
                         signer.signed_headers(broken, std::nullopt, "application/json"), broken)
                .status,
            400);
  json bad_ts = event;
  bad_ts["event"]["item"]["message"]["ts"] = "yesterday";
  EXPECT_EQ(post_event(bad_ts).status, 400);
  EXPECT_TRUE(pinned_events().empty());
}

TEST_P(SlackEventsModesE2E, APinInAChannelWithoutAnIncidentIsAcknowledgedAndIgnored) {
  EXPECT_TRUE(
      deliver_event(pin_added("Ev0004", "C0QUIET", "1700000000.000100", "hello")).acknowledged);
  EXPECT_EQ(api_json("/api/incidents")["incidents"].size(), 0u);
}

}  // namespace
}  // namespace scribe

namespace scribe {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::json;

// Reactions need the Web API to read the message: the stand-in plays Slack.
class SlackReactionsFixture : public testing::SlackE2E {
 protected:
  void SetUp() override {
    standin_.add_user({"U0BOB", "bob", "Bob Builder", "bobby", "Europe/Berlin", 3600});
    SlackE2E::SetUp();
  }

  static json reaction_added(const std::string& event_id, const std::string& reaction,
                             const std::string& channel, const std::string& ts) {
    return {{"team_id", "T0TEAM"},
            {"type", "event_callback"},
            {"event_id", event_id},
            {"event",
             {{"type", "reaction_added"},
              {"user", "U0CAROL"},
              {"reaction", reaction},
              {"item_user", "U0BOB"},
              {"item", {{"type", "message"}, {"channel", channel}, {"ts", ts}}},
              {"event_ts", "1700000300.000100"}}}};
  }

  // Waits for Bob's messages to appear on INC-1's timeline.
  std::vector<json> bobs_events(std::size_t at_least, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<json> out;
    while (true) {
      out.clear();
      const json incident = api_json("/api/incidents/1");
      for (const auto& e : incident["timeline"]) {
        if (e["author"]["id"] == "U0BOB") out.push_back(e);
      }
      if (out.size() >= at_least || std::chrono::steady_clock::now() > deadline) return out;
      std::this_thread::sleep_for(50ms);
    }
  }

  std::string ts_minutes_ago(int minutes) {
    const auto t = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) -
                   std::chrono::minutes(minutes);
    return std::to_string(t.time_since_epoch().count()) + ".000400";
  }
};

using SlackReactionsE2E = testing::SlackModes<SlackReactionsFixture>;
INSTANTIATE_TEST_SUITE_P(Modes, SlackReactionsE2E, testing::kBothSlackModes, testing::mode_name);

TEST_P(SlackReactionsE2E, APushpinReactionIsAcknowledgedAtOnceAndTheMessageRecordedAfter) {
  slack_->command("/incident", "start Cache stampede", "C0REACT");
  const std::string ts = ts_minutes_ago(7);
  standin_.add_message("C0REACT", ts, "U0BOB", "Hit ratio fell from 95% to 20% at 14:02");
  standin_.set_delay(1500ms);  // a slow Slack: the event must not wait for it

  const auto started = std::chrono::steady_clock::now();
  const testing::SlackDelivery r = deliver_event(reaction_added("Ev1", "pushpin", "C0REACT", ts));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_TRUE(r.acknowledged) << r.status;

  const auto events = bobs_events(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["text"], "Hit ratio fell from 95% to 20% at 14:02");
  EXPECT_EQ(events[0]["author"]["name"], "bobby");  // from users.info
  EXPECT_EQ(
      events[0]["occurred_at"].get<std::string>().substr(0, 19),
      testing::iso(std::chrono::sys_seconds(std::chrono::seconds(std::stoll(ts)))).substr(0, 19));
  EXPECT_FALSE(standin_.calls_to("conversations.history").empty());
}

TEST_P(SlackReactionsE2E, OtherReactionsAreIgnoredAndRepeatsAreOneEvent) {
  slack_->command("/incident", "start Repeats", "C0REACT");
  const std::string ts = ts_minutes_ago(3);
  standin_.add_message("C0REACT", ts, "U0BOB", "Rolled back the canary");
  EXPECT_TRUE(deliver_event(reaction_added("Ev2", "eyes", "C0REACT", ts)).acknowledged);
  EXPECT_TRUE(deliver_event(reaction_added("Ev3", "pushpin", "C0REACT", ts)).acknowledged);
  EXPECT_TRUE(deliver_event(reaction_added("Ev3", "pushpin", "C0REACT", ts), 1).acknowledged);
  EXPECT_TRUE(deliver_event(reaction_added("Ev4", "pushpin", "C0REACT", ts)).acknowledged);
  ASSERT_EQ(bobs_events(1).size(), 1u);
  ASSERT_TRUE(wait_for_outbox_drained()) << "every fetch done";
  EXPECT_EQ(bobs_events(1).size(), 1u);
  EXPECT_EQ(standin_.calls_to("conversations.history").size(), 1u);
}

TEST_P(SlackReactionsE2E, AReactionAcknowledgedBeforeARestartIsStillRecordedOnce) {
  slack_->command("/incident", "start Restart", "C0REACT");
  const std::string ts = ts_minutes_ago(2);
  standin_.add_message("C0REACT", ts, "U0BOB", "Failover to the replica finished");
  standin_.set_down(true);
  EXPECT_TRUE(deliver_event(reaction_added("Ev5", "pushpin", "C0REACT", ts)).acknowledged);
  // Acknowledged, and the fetch has been tried (and failed) before the restart.
  ASSERT_TRUE(scribe_->wait_for_log("attempt 1 failed", 20s)) << scribe_->logs();
  EXPECT_EQ(metric("scribe_outbox_pending"), 1);
  ASSERT_EQ(scribe_->terminate(), 0);

  standin_.set_down(false);
  start();
  const auto events = bobs_events(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["text"], "Failover to the replica finished");
}

}  // namespace
}  // namespace scribe
