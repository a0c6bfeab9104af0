// Slack interactivity: the `payload` JSON of a button click read into ButtonPresses, and
// POST /slack/interactivity over a real SQLite store: signature, malformed bodies, and a
// click that marks an action item done and queues the update of its message.
#include "adapters/slack/interactivity_endpoint.h"

#include <date/tz.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "adapters/slack/signature.h"
#include "commands/outgoing.h"
#include "storage/store.h"
#include "support/await_response.h"
#include "support/slack_client.h"
#include "test_support.h"
#include "util/percent.h"

namespace scribe::slack {
namespace {

using nlohmann::json;
using test::utc;
using ::testing::HasSubstr;

const Timestamp kNow = utc(2026, 11, 20, 14, 30);
constexpr const char* kSecret = "unit-signing-secret";

// A block_actions payload as Slack sends it for a click on a reminder's button.
json block_actions(const std::string& action_id, const std::string& value,
                   const std::string& channel = "C0INC") {
  return {{"type", "block_actions"},
          {"team", {{"id", "T0TEAM"}, {"domain", "acme"}}},
          {"user", {{"id", "U0BOB"}, {"username", "bob"}, {"name", "bob"}, {"team_id", "T0TEAM"}}},
          {"api_app_id", "A0SCRIBE"},
          {"token", "legacy"},
          {"container",
           {{"type", "message"},
            {"message_ts", "1700000000.000100"},
            {"channel_id", channel},
            {"is_ephemeral", false}}},
          {"trigger_id", "123.456.abc"},
          {"channel", {{"id", channel}, {"name", "inc-db"}}},
          {"message", {{"type", "message"}, {"ts", "1700000000.000100"}, {"text", "⏰ reminder"}}},
          {"response_url", "https://hooks.slack.com/actions/T0TEAM/1/abc"},
          {"actions",
           {{{"type", "button"},
             {"block_id", "b1"},
             {"action_id", action_id},
             {"text", {{"type", "plain_text"}, {"text", "Mark done"}}},
             {"value", value},
             {"action_ts", "1700000100.000200"}}}}};
}

// ---- parse_interactivity_payload ----

TEST(SlackInteractivityPayload, AClickOnMarkDoneBecomesAButtonPress) {
  const InteractivityResult r =
      parse_interactivity_payload(block_actions("action.done", "42").dump(), kNow);
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.type, "block_actions");
  ASSERT_EQ(r.presses.size(), 1u);
  const ButtonPress& p = r.presses[0];
  EXPECT_EQ(p.channel, (ChannelRef{"slack", "T0TEAM", "C0INC"}));
  EXPECT_EQ(p.user, (Person{"U0BOB", "bob"}));
  EXPECT_EQ(p.action, "action.done");
  EXPECT_EQ(p.value, "42");
  EXPECT_EQ(p.message_id, "1700000000.000100");
  EXPECT_EQ(p.received_at, kNow);
}

TEST(SlackInteractivityPayload, SnoozeAndFallbacksForChannelTsUserAndTeam) {
  json payload = block_actions("action.snooze", "7");
  payload.erase("channel");
  payload.erase("team");
  payload["container"].erase("message_ts");
  payload["user"] = {{"id", "U0CAROL"}, {"name", "carol"}, {"team_id", "T0OTHER"}};
  const InteractivityResult r = parse_interactivity_payload(payload.dump(), kNow);
  ASSERT_TRUE(r) << r.error;
  ASSERT_EQ(r.presses.size(), 1u);
  EXPECT_EQ(r.presses[0].action, "action.snooze");
  EXPECT_EQ(r.presses[0].channel, (ChannelRef{"slack", "T0OTHER", "C0INC"}));
  EXPECT_EQ(r.presses[0].message_id, "1700000000.000100");  // from message.ts
  EXPECT_EQ(r.presses[0].user, (Person{"U0CAROL", "carol"}));

  payload["user"] = {{"id", "U0DAVE"}};
  EXPECT_EQ(parse_interactivity_payload(payload.dump(), kNow).presses.at(0).user,
            (Person{"U0DAVE", "U0DAVE"}));
}

TEST(SlackInteractivityPayload, OtherButtonsAndOtherPayloadTypesAreLeftOut) {
  json payload = block_actions("action.done", "42");
  payload["actions"].push_back({{"type", "button"}, {"action_id", "other.app"}, {"value", "x"}});
  payload["actions"].push_back({{"type", "static_select"}, {"action_id", "pick"}});
  InteractivityResult r = parse_interactivity_payload(payload.dump(), kNow);
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.presses.size(), 1u);

  // Someone else's button, from a view without channel or message: nothing to do, not malformed.
  json foreign = {{"type", "block_actions"},
                  {"user", {{"id", "U0BOB"}}},
                  {"actions", {{{"action_id", "other.app"}, {"value", "1"}}}}};
  r = parse_interactivity_payload(foreign.dump(), kNow);
  ASSERT_TRUE(r) << r.error;
  EXPECT_TRUE(r.presses.empty());

  for (const char* type : {"view_submission", "shortcut", "message_action", "view_closed"}) {
    r = parse_interactivity_payload(json{{"type", type}}.dump(), kNow);
    ASSERT_TRUE(r) << type << ": " << r.error;
    EXPECT_EQ(r.type, type);
    EXPECT_TRUE(r.presses.empty());
  }
}

TEST(SlackInteractivityPayload, MalformedPayloadsAreRefused) {
  const auto refused = [](const std::string& text, const std::string& says) {
    const InteractivityResult r = parse_interactivity_payload(text, kNow);
    EXPECT_FALSE(r) << text;
    EXPECT_THAT(r.error, HasSubstr(says)) << text;
    EXPECT_TRUE(r.presses.empty());
  };
  refused("", "not a JSON object");
  refused("{\"type\": \"block_actions\"", "not a JSON object");
  refused("[1, 2]", "not a JSON object");
  refused("{}", "without a type");
  refused(R"({"type": 7})", "without a type");
  refused(R"({"type": "block_actions"})", "without actions");
  refused(R"({"type": "block_actions", "actions": {}})", "without actions");

  json p = block_actions("action.done", "42");
  p["actions"][0].erase("value");
  refused(p.dump(), "action.done without a value");
  p = block_actions("action.done", "42");
  p["actions"][0]["value"] = 42;
  refused(p.dump(), "without a value");
  p = block_actions("action.done", "42");
  p.erase("channel");
  p["container"].erase("channel_id");
  refused(p.dump(), "without a channel");
  p = block_actions("action.snooze", "42");
  p["container"].erase("message_ts");
  p.erase("message");
  refused(p.dump(), "without the message's ts");
  p = block_actions("action.done", "42");
  p.erase("user");
  refused(p.dump(), "without a user");
}

// ---- InteractivityEndpoint ----

class SlackInteractivityEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_interactivity_", dir_));
    store_ = open_store((dir_ / "scribe.db").string());
    HandlerOptions options;
    options.platforms = test::platforms();
    options.outbox_wake = [this] { ++wakes_; };
    handler_ = std::make_unique<CommandHandler>(*store_, date::locate_zone("UTC"), options);
    endpoint_ = std::make_unique<InteractivityEndpoint>(kSecret, *handler_, [] { return kNow; });

    // INC-1 in C0INC with action item #1 (global id 1).
    Invocation inv;
    inv.channel = ChannelRef{"slack", "T0TEAM", "C0INC"};
    inv.user = Person{"U0ALICE", "alice"};
    inv.received_at = kNow - std::chrono::hours{1};
    inv.command = "incident";
    inv.text = "start DB down";
    handler_->handle(inv);
    inv.command = "action";
    inv.text = "Add alert @bob due +3d #detect";
    handler_->handle(inv);
    ASSERT_EQ(item().status, ActionStatus::kOpen);
  }

  void TearDown() override {
    endpoint_.reset();
    handler_.reset();
    store_.reset();
    test::remove_temp_dir(dir_);
  }

  static std::string form(const json& payload) { return "payload=" + form_encode(payload.dump()); }

  HttpResponse call(const HttpRequest& r) {
    return test::await_response([&](Respond respond) { endpoint_->handle(r, std::move(respond)); });
  }

  HttpResponse post(const std::string& body, const std::string& secret = kSecret,
                    const std::string& content_type = "application/x-www-form-urlencoded") {
    const std::string timestamp = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(kNow.time_since_epoch()).count());
    HttpRequest request;
    request.method = "POST";
    request.target = "/slack/interactivity";
    request.headers = {{"content-type", content_type},
                       {std::string(kTimestampHeader), timestamp},
                       {std::string(kSignatureHeader), compute_signature(secret, timestamp, body)}};
    request.body = body;
    return call(request);
  }

  ActionItem item() {
    std::optional<ActionItem> out;
    store_->read([&](Transaction& tx) { out = tx.find_action_by_id(1); });
    EXPECT_TRUE(out.has_value());
    return out.value_or(ActionItem{});
  }

  std::vector<OutboxMessage> outbox() {
    std::vector<OutboxMessage> out;
    store_->read([&](Transaction& tx) {
      for (std::int64_t id = 1;; ++id) {
        auto m = tx.find_outbox(id);
        if (!m) break;
        out.push_back(*m);
      }
    });
    return out;
  }

  // Asserts that `body` is answered `status` and that nothing changed.
  void expect_unchanged(int status, const std::string& body, const std::string& secret = kSecret,
                        const std::string& content_type = "application/x-www-form-urlencoded") {
    const HttpResponse r = post(body, secret, content_type);
    EXPECT_EQ(r.status, status) << body << "\n" << r.body;
    const ActionItem now = item();
    EXPECT_EQ(now.status, ActionStatus::kOpen) << body;
    EXPECT_EQ(now.snoozed_until, std::nullopt) << body;
    EXPECT_TRUE(outbox().empty()) << body;
    EXPECT_EQ(wakes_, 0);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CommandHandler> handler_;
  std::unique_ptr<InteractivityEndpoint> endpoint_;
  int wakes_ = 0;
};

TEST_F(SlackInteractivityEndpointTest, ASignedMarkDoneMarksTheItemDoneAndQueuesTheUpdate) {
  const HttpResponse r = post(form(block_actions("action.done", "1")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  const ActionItem done = item();
  EXPECT_EQ(done.status, ActionStatus::kDone);
  EXPECT_EQ(done.done_at, kNow);
  EXPECT_EQ(done.done_by, (Person{"U0BOB", "bob"}));
  EXPECT_EQ(wakes_, 1);
  const auto queued = outbox();
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].channel, (ChannelRef{"slack", "T0TEAM", "C0INC"}));
  EXPECT_EQ(queued[0].kind, JobKind::kUpdate);
  const OutgoingMessage m = outgoing_from_json(queued[0].content).value.value();
  EXPECT_EQ(m.replaces, "1700000000.000100");
  EXPECT_EQ(m.body.text, "☑️ Done: Add alert — marked by @bob");
  EXPECT_TRUE(m.buttons.empty());

  // Clicked again: 200, and nothing more happens.
  EXPECT_EQ(post(form(block_actions("action.done", "1"))).status, 200);
  EXPECT_EQ(outbox().size(), 1u);
  EXPECT_EQ(wakes_, 1);
}

TEST_F(SlackInteractivityEndpointTest, SnoozeSetsSnoozedUntilADayLater) {
  const HttpResponse r = post(form(block_actions("action.snooze", "1")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(item().status, ActionStatus::kOpen);
  EXPECT_EQ(item().snoozed_until, kNow + std::chrono::hours{24});
  const auto queued = outbox();
  ASSERT_EQ(queued.size(), 1u);
  const OutgoingMessage m = outgoing_from_json(queued[0].content).value.value();
  EXPECT_EQ(m.body.text, "💤 Snoozed until 2026-11-21 14:30:00 UTC by @bob: Add alert");
  ASSERT_EQ(m.buttons.size(), 1u);
  EXPECT_EQ(m.buttons[0].action, "action.done");
}

TEST_F(SlackInteractivityEndpointTest, BadSignaturesAreRefusedAndChangeNothing) {
  const std::string body = form(block_actions("action.done", "1"));
  expect_unchanged(401, body, "not-the-secret");
  HttpRequest unsigned_request;
  unsigned_request.method = "POST";
  unsigned_request.headers = {{"content-type", "application/x-www-form-urlencoded"}};
  unsigned_request.body = body;
  EXPECT_EQ(call(unsigned_request).status, 401);
  expect_unchanged(401, body, "");
}

TEST_F(SlackInteractivityEndpointTest, MalformedBodiesAre400AndChangeNothing) {
  expect_unchanged(415, form(block_actions("action.done", "1")), kSecret, "application/json");
  expect_unchanged(400, "payload=%ZZ");
  expect_unchanged(400, "");
  expect_unchanged(400, "payload=");
  expect_unchanged(400, "other=" + form_encode(block_actions("action.done", "1").dump()));
  expect_unchanged(400, "payload=" + form_encode("{\"type\": \"block_actions\""));
  expect_unchanged(400, "payload=" + form_encode("{\"type\": \"block_actions\"}"));
  json no_value = block_actions("action.done", "1");
  no_value["actions"][0].erase("value");
  expect_unchanged(400, form(no_value));
}

TEST_F(SlackInteractivityEndpointTest, OtherActionsPayloadsAndChannelsAreAcknowledgedAndIgnored) {
  HttpResponse r = post(form(block_actions("other.app", "1")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  expect_unchanged(200, form(json{{"type", "view_submission"}, {"view", {{"id", "V1"}}}}));
  expect_unchanged(200, form(json{{"type", "shortcut"}, {"callback_id", "x"}}));
  // The item is not in this channel's incident: refused.
  expect_unchanged(200, form(block_actions("action.done", "1", "C0OTHER")));
  expect_unchanged(200, form(block_actions("action.snooze", "1", "C0OTHER")));
  // No such item.
  expect_unchanged(200, form(block_actions("action.done", "99")));
  expect_unchanged(200, form(block_actions("action.done", "one")));
}

}  // namespace
}  // namespace scribe::slack
