// End-to-end: the buttons under an action-item reminder, clicked in Slack, against the real
// `scribe serve` and a stand-in Slack Web API: a signed block_actions payload marks the
// item done (or snoozes it) and the reminder message is updated in place (chat.update);
// a forged one changes nothing. Clicks run in both Slack modes (a signed POST, or a Socket
// Mode `interactive` envelope) through the same test code; forgeries are HTTP's own, and
// their Socket Mode counterpart is a malformed or foreign envelope.
#include <date/date.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"
#include "e2e/socket_fixture.h"
#include "support/slack_standin.h"
#include "util/percent.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::json;
using testing::SlackClient;

constexpr const char* kChannel = "C0BTN";
constexpr const char* kReminderTs = "1700000000.000100";

class SlackInteractivityFixture : public testing::SlackE2E {
 protected:
  void SetUp() override {
    SlackE2E::SetUp();
    // The reminder Scribe posted earlier, with its "Mark done" and "Snooze 1 day" buttons.
    standin_.add_message(kChannel, kReminderTs, "UBOTSCRIBE",
                         "⏰ @bob, action #1 of INC-1 is due today: Add alert");
  }

  // The payload Slack sends when bob clicks a button of the reminder. Each click has its
  // own trigger_id, as on Slack (Socket Mode takes a repeated one for a redelivery).
  static json block_actions(const std::string& action_id, const std::string& item_id,
                            const std::string& channel = kChannel) {
    static int clicks = 0;
    return {
        {"type", "block_actions"},
        {"team", {{"id", "T0TEAM"}, {"domain", "acme"}}},
        {"user", {{"id", "U0BOB"}, {"username", "bob"}, {"name", "bob"}, {"team_id", "T0TEAM"}}},
        {"api_app_id", "A0SCRIBE"},
        {"container", {{"type", "message"}, {"message_ts", kReminderTs}, {"channel_id", channel}}},
        {"trigger_id", "123.456." + std::to_string(++clicks)},
        {"channel", {{"id", channel}, {"name", "inc-db"}}},
        {"message", {{"type", "message"}, {"ts", kReminderTs}, {"text", "⏰ reminder"}}},
        {"response_url", "https://hooks.slack.invalid/actions/T0TEAM/1/abc"},
        {"actions",
         {{{"type", "button"},
           {"block_id", "b1"},
           {"action_id", action_id},
           {"text", {{"type", "plain_text"}, {"text", "Mark done"}}},
           {"value", item_id},
           {"action_ts", "1700000100.000200"}}}}};
  }

  // Posts `payload` as Slack does: form-encoded `payload=<JSON>`, signed with `secret`.
  HttpResult click(const json& payload, const std::string& secret = kSecret) {
    return post_signed_to("/slack/interactivity", "payload=" + form_encode(payload.dump()),
                          "application/x-www-form-urlencoded", {}, secret);
  }

  // An incident in kChannel with two action items (global ids 1 and 2: the database is new).
  void incident_with_two_items() {
    slack_->command("/incident", "start DB saturation", kChannel);
    slack_->command("/action", "Add alert @bob due +3d #detect", kChannel);
    slack_->command("/action", "Add canary @bob due +7d #prevent", kChannel);
  }

  json actions() { return api_json("/api/incidents/1")["actions"]; }

  // "2026-11-21T10:15:00.123Z", as the API writes times.
  static std::chrono::sys_time<std::chrono::milliseconds> parse_iso(const std::string& text) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
    EXPECT_EQ(std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &y, &mo, &d, &h, &mi, &s, &ms), 7)
        << text;
    return date::sys_days{date::year{y} / mo / d} + std::chrono::hours{h} +
           std::chrono::minutes{mi} + std::chrono::seconds{s} + std::chrono::milliseconds{ms};
  }
};

using SlackInteractivityE2E = testing::SlackModes<SlackInteractivityFixture>;
INSTANTIATE_TEST_SUITE_P(Modes, SlackInteractivityE2E, testing::kBothSlackModes,
                         testing::mode_name);
// Forgeries are refused by the HTTP endpoint's signature check: HTTP only.
using SlackInteractivityHttpE2E = SlackInteractivityFixture;

TEST_P(SlackInteractivityE2E, AMarkDoneMarksTheItemDoneAndUpdatesTheMessage) {
  incident_with_two_items();

  if (!socket_mode()) {
    // Forged: refused, and nothing changes (Socket Mode has no signature to forge).
    const HttpResult forged = click(block_actions("action.done", "1"), "not-the-secret");
    EXPECT_EQ(forged.status, 401) << forged.body;
    EXPECT_EQ(actions()[0]["status"], "open");
  }

  const auto before = std::chrono::steady_clock::now();
  const testing::SlackDelivery r = deliver_interaction(block_actions("action.done", "1"));
  EXPECT_TRUE(r.acknowledged) << r.status << " " << r.body;
  EXPECT_EQ(r.body, "");
  EXPECT_LT(std::chrono::steady_clock::now() - before, 3s) << "Slack wants 200 within 3 s";

  // Committed before the 200 (the acknowledgement).
  const json items = actions();
  EXPECT_EQ(items[0]["status"], "done");
  EXPECT_FALSE(items[0]["done_at"].is_null());
  EXPECT_EQ(items[1]["status"], "open");

  // The reminder is updated in place.
  ASSERT_TRUE(standin_.wait_for_calls("chat.update", 1, 10s)) << scribe_->logs();
  const auto updates = standin_.calls_to("chat.update");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].status, 200u);
  EXPECT_EQ(updates[0].header("authorization"), "Bearer " + standin_.token());
  EXPECT_EQ(updates[0].json["channel"], kChannel);
  EXPECT_EQ(updates[0].json["ts"], kReminderTs);
  EXPECT_EQ(updates[0].json["text"], "☑️ Done: Add alert — marked by @bob");
  for (const auto& block : updates[0].json["blocks"]) {
    EXPECT_NE(block["type"], "actions") << "the buttons are gone";
  }
  EXPECT_TRUE(standin_.calls_to("chat.postMessage").empty()) << "no new message";

  // Clicked again: acknowledged, nothing more happens.
  EXPECT_TRUE(deliver_interaction(block_actions("action.done", "1")).acknowledged);
  ASSERT_TRUE(wait_for_outbox_drained());
  EXPECT_EQ(standin_.calls_to("chat.update").size(), 1u);
}

TEST_P(SlackInteractivityE2E, SnoozeHoldsTheItemBackForADayAndKeepsMarkDone) {
  incident_with_two_items();
  const auto before = std::chrono::system_clock::now();
  const testing::SlackDelivery r = deliver_interaction(block_actions("action.snooze", "2"));
  const auto after = std::chrono::system_clock::now();
  ASSERT_TRUE(r.acknowledged) << r.status << " " << r.body;
  EXPECT_EQ(r.body, "");

  const json items = actions();
  EXPECT_EQ(items[1]["status"], "open");
  EXPECT_TRUE(items[0]["snoozed_until"].is_null());
  ASSERT_TRUE(items[1]["snoozed_until"].is_string()) << items.dump();
  const auto until = parse_iso(items[1]["snoozed_until"]);
  EXPECT_GE(until, std::chrono::floor<std::chrono::milliseconds>(before) + 24h);
  EXPECT_LE(until, std::chrono::ceil<std::chrono::milliseconds>(after) + 24h);

  ASSERT_TRUE(standin_.wait_for_calls("chat.update", 1, 10s)) << scribe_->logs();
  const json update = standin_.calls_to("chat.update").at(0).json;
  EXPECT_EQ(update["ts"], kReminderTs);
  EXPECT_THAT(update["text"].get<std::string>(), HasSubstr("💤 Snoozed until "));
  EXPECT_THAT(update["text"].get<std::string>(), HasSubstr(" UTC by @bob: Add canary"));
  const json& buttons = update["blocks"].back();
  ASSERT_EQ(buttons["type"], "actions");
  ASSERT_EQ(buttons["elements"].size(), 1u);
  EXPECT_EQ(buttons["elements"][0]["action_id"], "action.done");
  EXPECT_EQ(buttons["elements"][0]["value"], "2");

  // "Mark done" on the updated message.
  ASSERT_TRUE(deliver_interaction(block_actions("action.done", "2")).acknowledged);
  EXPECT_EQ(actions()[1]["status"], "done");
  ASSERT_TRUE(standin_.wait_for_calls("chat.update", 2, 10s));
}

TEST_F(SlackInteractivityHttpE2E, ForgedMalformedAndForeignClicksChangeNothing) {
  incident_with_two_items();
  slack_->command("/incident", "start Other trouble", "C0OTHER");

  EXPECT_EQ(click(block_actions("action.done", "1"), "not-the-secret").status, 401);
  EXPECT_EQ(click(block_actions("action.snooze", "1"), "").status, 401);
  // A stale timestamp is a replay.
  const std::string body = "payload=" + form_encode(block_actions("action.done", "1").dump());
  SlackClient signer(scribe_->base_url(), kSecret);
  EXPECT_EQ(
      http_
          .request("POST", scribe_->base_url() + "/slack/interactivity",
                   signer.signed_headers(body, std::chrono::system_clock::now() - 10min), body)
          .status,
      401);
  // Malformed.
  const std::string broken = "payload=" + form_encode("{\"type\": \"block_actions\"");
  EXPECT_EQ(http_
                .request("POST", scribe_->base_url() + "/slack/interactivity",
                         signer.signed_headers(broken), broken)
                .status,
            400);
  // The item belongs to another channel's incident; an unknown button; another payload type.
  EXPECT_EQ(click(block_actions("action.done", "1", "C0OTHER")).status, 200);
  EXPECT_EQ(click(block_actions("other.app", "1")).status, 200);
  EXPECT_EQ(click(json{{"type", "view_submission"}, {"view", {{"id", "V1"}}}}).status, 200);
  EXPECT_EQ(http_.request("GET", scribe_->base_url() + "/slack/interactivity").status, 405);

  const json items = actions();
  EXPECT_EQ(items[0]["status"], "open");
  EXPECT_TRUE(items[0]["snoozed_until"].is_null());
  ASSERT_TRUE(wait_for_outbox_drained());
  EXPECT_TRUE(standin_.calls_to("chat.update").empty());

  const std::string metrics = api("/metrics").body;
  EXPECT_THAT(
      metrics,
      HasSubstr("scribe_http_requests_total{route=\"slack_interactivity\",code=\"2xx\"} 3"));
  EXPECT_THAT(
      metrics,
      HasSubstr("scribe_http_requests_total{route=\"slack_interactivity\",code=\"4xx\"} 5"));
}

// Socket Mode's counterpart of the forgeries above: envelopes that are malformed, or click
// another channel's item, an unknown button or another payload type, are acknowledged (so
// Slack does not redeliver them) and change nothing.
using SlackInteractivitySocketE2E = testing::SlackModes<SlackInteractivityFixture>;
INSTANTIATE_TEST_SUITE_P(SocketMode, SlackInteractivitySocketE2E,
                         ::testing::Values(testing::SlackMode::kSocket), testing::mode_name);

TEST_P(SlackInteractivitySocketE2E, MalformedAndForeignEnvelopesChangeNothing) {
  incident_with_two_items();
  slack_->command("/incident", "start Other trouble", "C0OTHER");
  const std::string before = api("/api/incidents/1").body;

  json no_actions = block_actions("action.done", "1");
  no_actions.erase("actions");
  json no_channel = block_actions("action.done", "1");
  no_channel.erase("channel");
  no_channel.erase("container");
  json bad_value = block_actions("action.done", "1");
  bad_value["actions"][0]["value"] = "one";
  json not_a_string = block_actions("action.done", "1");
  not_a_string["actions"][0]["action_id"] = 7;
  for (const json& payload :
       {json("payload=not json"), json::array({1, 2}), json{{"no", "type"}}, no_actions, no_channel,
        bad_value, not_a_string, block_actions("action.done", "1", "C0OTHER"),
        block_actions("other.app", "1"),
        json{{"type", "view_submission"}, {"view", {{"id", "V1"}}}}}) {
    const testing::SlackDelivery r = deliver_interaction(payload);
    EXPECT_TRUE(r.acknowledged) << payload.dump();
    EXPECT_EQ(r.body, "") << payload.dump();
  }
  EXPECT_EQ(api("/api/incidents/1").body, before);
  ASSERT_TRUE(wait_for_outbox_drained());
  EXPECT_TRUE(standin_.calls_to("chat.update").empty());
  // Still serving: a good click afterwards works.
  EXPECT_TRUE(deliver_interaction(block_actions("action.done", "1")).acknowledged);
  EXPECT_EQ(actions()[0]["status"], "done");
}

}  // namespace
}  // namespace scribe
