// End-to-end: Slack's Events API against the real `scribe serve`: URL verification, and a
// pinned message becoming a timeline event with its own time and author, once.
#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::json;
using testing::SlackClient;

class SlackEventsE2E : public testing::ScribeE2E {
 protected:
  HttpResult post_event(const json& body, std::vector<std::string> extra_headers = {},
                        const std::string& secret = kSecret) {
    SlackClient signer(scribe_->base_url(), secret);
    auto headers = signer.signed_headers(body.dump(), std::nullopt, "application/json");
    headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
    return http_.request("POST", scribe_->base_url() + "/slack/events", headers, body.dump());
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

TEST_F(SlackEventsE2E, UrlVerificationAnswersTheChallenge) {
  const json body = {
      {"token", "legacy"}, {"challenge", "3eZbrw1aBm2rZgRNFdxV"}, {"type", "url_verification"}};
  const HttpResult r = post_event(body);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["challenge"], "3eZbrw1aBm2rZgRNFdxV");
  EXPECT_EQ(post_event(body, {}, "not-the-secret").status, 401);
}

TEST_F(SlackEventsE2E, APinnedMessageBecomesAnEventWithItsOwnTimeAndAuthorOnce) {
  slack_->command("/incident", "start DB saturation", "C0PIN");
  // The message was written 12 minutes ago; it is pinned now.
  const auto written =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - 12min;
  const std::string ts = std::to_string(written.time_since_epoch().count()) + ".000300";
  const json event =
      pin_added("Ev0001", "C0PIN", ts, "DB CPU at 100% &amp; climbing, <@U0ALICE|alice> paged");

  const HttpResult first = post_event(event);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body, "recorded\n");
  // Slack retries the same event (it thought we were too slow): stored once.
  EXPECT_EQ(
      post_event(event, {"X-Slack-Retry-Num: 1", "X-Slack-Retry-Reason: http_timeout"}).status,
      200);
  EXPECT_EQ(
      post_event(event, {"X-Slack-Retry-Num: 2", "X-Slack-Retry-Reason: http_timeout"}).status,
      200);
  // Unpinned and pinned again later: a new event id, the same message, still one event.
  EXPECT_EQ(post_event(pin_added("Ev0002", "C0PIN", ts, "DB CPU at 100% &amp; climbing")).status,
            200);

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

TEST_F(SlackEventsE2E, APinInAChannelWithoutAnIncidentIsAcknowledgedAndIgnored) {
  const HttpResult r = post_event(pin_added("Ev0004", "C0QUIET", "1700000000.000100", "hello"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(api_json("/api/incidents")["incidents"].size(), 0u);
}

}  // namespace
}  // namespace scribe
