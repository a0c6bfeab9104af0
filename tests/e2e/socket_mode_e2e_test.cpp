// End-to-end: Slack Socket Mode. The real `scribe serve` with an app-level token opens its
// connections through a stand-in apps.connections.open and a stand-in TLS WebSocket server
// (a CA made by the test), which plays envelopes and records the acknowledgements: each
// envelope is acknowledged once its effect is stored, with the reply the HTTP mode gives;
// a refresh leaves no gap; a dropped connection comes back; a redelivered or slowly
// acknowledged envelope is recorded once.
#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/socket_fixture.h"
#include "util/percent.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::json;
using testing::kAlice;
using testing::kBob;
using testing::SlackClient;

class SocketModeE2E : public testing::ScribeE2E, public testing::SocketModeSupport {
 protected:
  void SetUp() override {
    // HTTP stays on too (signing secret set), so one process answers both ways.
    enable_socket_mode(env_, /*http_too=*/http_too_);
    ScribeE2E::SetUp();
  }

  void started() override {
    ASSERT_TRUE(wait_for_metric("scribe_slack_socket_connections", [](long long n) {
      return n >= 2;
    })) << scribe_->logs();
  }

  // Sends `command text` over Socket Mode; the acknowledgement.
  json socket_ack(const std::string& command, const std::string& text,
                  const std::string& channel = "C0INC", const testing::SlackUser& user = kAlice,
                  const std::string& envelope_id = "") {
    return socket_command_ack(SlackClient::form_body(command, text, channel, user), envelope_id);
  }

  std::size_t timeline_size(int incident = 1) {
    return api_json("/api/incidents/" + std::to_string(incident))["timeline"].size();
  }

  bool http_too_ = true;
};

class SocketOnlyE2E : public SocketModeE2E {
 protected:
  void SetUp() override {
    http_too_ = false;
    SocketModeE2E::SetUp();
  }
};

TEST_F(SocketModeE2E, ASlashCommandIsRecordedOnceAndItsAckCarriesTheHttpReply) {
  const json ack = socket_ack("/incident", "start sev2 Checkout API returning 502s");
  ASSERT_TRUE(ack.contains("payload")) << ack.dump();
  EXPECT_EQ(ack["payload"]["response_type"], "in_channel");
  EXPECT_THAT(ack["payload"]["text"].get<std::string>(), HasSubstr("INC-1"));
  // Acknowledged only once stored: the API shows it right away.
  EXPECT_EQ(incident_count(), 1u);
  EXPECT_EQ(timeline_size(), 1u);

  // The same command through both ways gets the same reply, word for word.
  for (const auto& [command, text, channel] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/incident", "help", "C0INC"},
           {"/incident", "stauts", "C0INC"},
           {"/timeline", "#detcted users report errors", "C0INC"},
           {"/timeline", "db is down", "C0QUIET"},
           {"/incident", "status", "C0QUIET"}}) {
    const json over_socket = socket_ack(command, text, channel)["payload"];
    const json over_http = slack_->command(command, text, channel, kAlice);
    EXPECT_EQ(over_socket, over_http) << command << " " << text;
  }
  // A change through each way: the same reply, and both recorded.
  const json noted_socket = socket_ack("/timeline", "Rolled back", "C0INC")["payload"];
  const json noted_http = slack_->command("/timeline", "Rolled back", "C0INC", kAlice);
  // They differ only in the event's number.
  std::string socket_text = noted_socket["text"].get<std::string>();
  ASSERT_NE(socket_text.find("#2 "), std::string::npos) << socket_text;
  socket_text.replace(socket_text.find("#2 "), 3, "#3 ");
  EXPECT_EQ(socket_text, noted_http["text"]);
  EXPECT_EQ(noted_socket["response_type"], noted_http["response_type"]);
  EXPECT_EQ(timeline_size(), 3u);
  EXPECT_EQ(incident_count(), 1u);
}

TEST_F(SocketModeE2E, EventsAndInteractionsGoThroughTheSamePaths) {
  socket_ack("/incident", "start DB saturation", "C0PIN");
  socket_ack("/action", "Add alert @bob due +3d #detect", "C0PIN");

  // A pinned message becomes a timeline event; the envelope is acknowledged after it.
  const std::string ts = "1700000000.000300";
  const json event = {
      {"token", "legacy"},
      {"team_id", "T0TEAM"},
      {"api_app_id", "A0SCRIBE"},
      {"type", "event_callback"},
      {"event_id", "Ev0SOCKET1"},
      {"event_time", 1700000000},
      {"event",
       {{"type", "pin_added"},
        {"user", "U0CAROL"},
        {"channel_id", "C0PIN"},
        {"item",
         {{"type", "message"},
          {"channel", "C0PIN"},
          {"message",
           {{"type", "message"}, {"user", "U0BOB"}, {"text", "DB CPU at 100%"}, {"ts", ts}}}}},
        {"event_ts", "1700000100.000200"}}}};
  const std::string pin = sockets_.send_envelope(-1, "events_api", event);
  ASSERT_FALSE(pin.empty());
  const auto pin_ack = sockets_.wait_for_ack(pin);
  ASSERT_TRUE(pin_ack) << scribe_->logs();
  EXPECT_FALSE(pin_ack->contains("payload"));
  const json timeline = api_json("/api/incidents/1")["timeline"];
  EXPECT_THAT(timeline.dump(), HasSubstr("DB CPU at 100%"));
  const std::size_t events = timeline.size();
  // The same event again (Slack retrying it in a new envelope): acknowledged, not stored.
  const std::string again = sockets_.send_envelope(-1, "events_api", event);
  ASSERT_TRUE(sockets_.wait_for_ack(again));
  EXPECT_EQ(timeline_size(), events);

  // "Mark done" on an action item's reminder.
  const json click = {
      {"type", "block_actions"},
      {"team", {{"id", "T0TEAM"}}},
      {"user", {{"id", "U0BOB"}, {"username", "bob"}, {"name", "bob"}}},
      {"container",
       {{"type", "message"}, {"message_ts", "1700000000.000100"}, {"channel_id", "C0PIN"}}},
      {"trigger_id", "777.888.socket"},
      {"channel", {{"id", "C0PIN"}}},
      {"actions",
       {{{"type", "button"}, {"action_id", "action.done"}, {"value", "1"}, {"block_id", "b"}}}}};
  EXPECT_EQ(api_json("/api/incidents/1")["actions"][0]["status"], "open");
  const std::string pressed = sockets_.send_envelope(-1, "interactive", click);
  const auto press_ack = sockets_.wait_for_ack(pressed);
  ASSERT_TRUE(press_ack) << scribe_->logs();
  EXPECT_EQ(*press_ack, json::object({{"envelope_id", pressed}}));
  EXPECT_EQ(api_json("/api/incidents/1")["actions"][0]["status"], "done");

  // A malformed interaction is acknowledged (so it is not redelivered) and changes nothing.
  const std::string bad = sockets_.send_envelope(-1, "interactive", json{{"no", "type"}});
  EXPECT_TRUE(sockets_.wait_for_ack(bad));
  EXPECT_EQ(timeline_size(), events);
}

TEST_F(SocketModeE2E, ARefreshOpensTheReplacementBeforeClosingAndLeavesNoGap) {
  const auto before = sockets_.open_connections();
  ASSERT_EQ(before.size(), 2u);
  socket_ack("/incident", "start Refresh test");
  sockets_.reset_min_open();

  // Slack asks for both connections to be refreshed, one after the other.
  for (const int old : before) {
    // An envelope just before the request to disconnect: answered on its own connection
    // before that one is closed, not left for Slack to redeliver.
    const std::string last = sockets_.send_envelope(
        old, "slash_commands",
        testing::form_fields(SlackClient::form_body("/timeline", "last on " + std::to_string(old),
                                                    "C0INC", kAlice)));
    ASSERT_TRUE(sockets_.disconnect(old, "refresh_requested"));
    // A command sent while the refresh is under way, on whatever connection is newest.
    const json ack = socket_ack("/timeline", "during refresh of " + std::to_string(old));
    EXPECT_TRUE(ack.contains("payload")) << ack.dump();
    ASSERT_TRUE(sockets_.wait_for_closed(old)) << scribe_->logs();
    const auto acked = sockets_.acks_for(last);
    ASSERT_EQ(acked.size(), 1u) << scribe_->logs();
    EXPECT_EQ(acked[0].connection, old);
    EXPECT_TRUE(acked[0].message.contains("payload"));
  }
  ASSERT_TRUE(sockets_.wait_for_open(2));
  const auto after = sockets_.open_connections();
  for (const int id : after) EXPECT_EQ(std::count(before.begin(), before.end(), id), 0) << id;
  // Never without a connection; each old one closed only after a newer one had opened.
  EXPECT_GE(sockets_.min_open(), 2u);
  for (const int old : before) {
    bool replaced_first = false;
    for (const int id : after) {
      if (*sockets_.opened_at(id) <= *sockets_.closed_at(old)) replaced_first = true;
    }
    EXPECT_TRUE(replaced_first) << "connection " << old;
  }
  EXPECT_EQ(timeline_size(), 5u);
  // A warning is a refresh too.
  const int warned = sockets_.open_connections().front();
  ASSERT_TRUE(sockets_.disconnect(warned, "warning"));
  ASSERT_TRUE(sockets_.wait_for_closed(warned));
  ASSERT_TRUE(sockets_.wait_for_open(2));
}

TEST_F(SocketModeE2E, ADroppedConnectionIsReplaced) {
  socket_ack("/incident", "start Drop test");
  const auto before = sockets_.open_connections();
  ASSERT_EQ(before.size(), 2u);
  ASSERT_TRUE(sockets_.drop(before.back()));
  ASSERT_TRUE(sockets_.wait_for_closed(before.back()));
  ASSERT_TRUE(wait_for_metric("scribe_slack_socket_opened_total", [](long long n) {
    return n >= 3;
  })) << scribe_->logs();
  ASSERT_TRUE(sockets_.wait_for_open(2));
  // Both at once: Scribe comes back on its own.
  for (const int id : sockets_.open_connections()) sockets_.drop(id);
  ASSERT_TRUE(wait_for_metric("scribe_slack_socket_opened_total", [](long long n) {
    return n >= 5;
  })) << scribe_->logs();
  const json ack = socket_ack("/timeline", "after the drops");
  EXPECT_THAT(ack["payload"]["text"].get<std::string>(), ::testing::Not(HasSubstr("⚠️")));
  EXPECT_EQ(timeline_size(), 2u);
}

// A short idle timeout: pings after 1 s of silence, replacement after 2 s.
class SocketHalfOpenE2E : public SocketModeE2E {
 protected:
  void SetUp() override {
    env_["SCRIBE_SLACK_SOCKET_IDLE_TIMEOUT_SECONDS"] = "2";
    SocketModeE2E::SetUp();
  }
};

TEST_F(SocketHalfOpenE2E, AHalfOpenConnectionIsReplacedAndALiveOneIsKept) {
  const auto before = sockets_.open_connections();
  ASSERT_EQ(before.size(), 2u);
  // The newest connection goes silent: no reads, so no pongs. The TCP connection stays up.
  ASSERT_TRUE(sockets_.stop_reading(before.back()));
  ASSERT_TRUE(wait_for_metric("scribe_slack_socket_opened_total", [](long long n) {
    return n >= 3;
  })) << scribe_->logs();
  ASSERT_TRUE(
      wait_for_metric("scribe_slack_socket_connections", [](long long n) { return n == 2; }));
  // The other one answered Scribe's pings all along: still the same connection.
  const auto after = sockets_.open_connections();
  EXPECT_EQ(std::count(after.begin(), after.end(), before.front()), 1);
  EXPECT_GT(after.back(), before.back());
  const json ack = socket_ack("/incident", "start After a half-open connection");
  EXPECT_THAT(ack["payload"]["text"].get<std::string>(), HasSubstr("INC-1"));
}

TEST_F(SocketModeE2E, ARedeliveredEnvelopeIsRecordedOnce) {
  socket_ack("/incident", "start Redelivery test");
  const std::string body =
      SlackClient::form_body("/timeline", "#action Failed over to replica", "C0INC", kAlice);
  const json first = socket_command_ack(body, "env-redelivered-1");
  // The same envelope again, on the other connection (Slack redelivers where it likes).
  const auto open = sockets_.open_connections();
  ASSERT_EQ(open.size(), 2u);
  const std::string id = sockets_.send_envelope(open.front(), "slash_commands",
                                                testing::form_fields(body), "env-redelivered-1");
  const auto second = sockets_.wait_for_ack(id, 2);
  ASSERT_TRUE(second);
  EXPECT_EQ(first["payload"], (*second)["payload"]) << "answered as the first time";
  // The same invocation (trigger_id) in a new envelope: also answered as before.
  const json third = socket_command_ack(body, "env-redelivered-2");
  EXPECT_EQ(first["payload"], third["payload"]);
  EXPECT_EQ(timeline_size(), 2u);
  // Also after a restart (the keys are on disk).
  restart();
  const json fourth = socket_command_ack(body, "env-redelivered-1");
  EXPECT_EQ(first["payload"], fourth["payload"]);
  EXPECT_EQ(timeline_size(), 2u);
}

TEST_F(SocketModeE2E, ASlowAcknowledgementPathStillHasExactlyOneEffect) {
  socket_ack("/incident", "start Slow path test");
  // The stand-in stops reading for a while: acknowledgements wait in the socket buffers.
  sockets_.set_read_delay(6s);
  // Let the read under way finish, so the next one starts with the delay.
  const std::string warmup = sockets_.send_envelope(
      -1, "slash_commands",
      testing::form_fields(SlackClient::form_body("/incident", "help", "C0INC", kAlice)));
  ASSERT_TRUE(sockets_.wait_for_ack(warmup, 1, 20s));
  const std::string body =
      SlackClient::form_body("/timeline", "#impact Slow acks", "C0INC", kAlice);
  const std::string id =
      sockets_.send_envelope(-1, "slash_commands", testing::form_fields(body), "env-slow-1");
  // Slack gives up after 3 s without an acknowledgement and sends the envelope again.
  EXPECT_FALSE(sockets_.wait_for_ack(id, 1, 3s)) << "the stand-in is not reading yet";
  sockets_.send_envelope(-1, "slash_commands", testing::form_fields(body), "env-slow-1");
  sockets_.set_read_delay(0ms);
  const auto both = sockets_.wait_for_ack(id, 2, 30s);
  ASSERT_TRUE(both) << scribe_->logs();
  const auto acks = sockets_.acks_for(id);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].message["payload"], acks[1].message["payload"]);
  EXPECT_EQ(timeline_size(), 2u);
}

TEST_F(SocketOnlyE2E, WithoutHttpReadinessFollowsTheConnectionsAndHttpIsRefused) {
  EXPECT_EQ(http_.request("GET", scribe_->base_url() + "/readyz").status, 200);
  // /slack/* answers that Slack over HTTP is not configured.
  const HttpResult r = post_signed_to("/slack/commands",
                                      SlackClient::form_body("/incident", "help", "C0INC", kAlice),
                                      "application/x-www-form-urlencoded");
  EXPECT_EQ(r.status, 503) << r.body;

  // Slack unreachable: the connections go and do not come back; not ready.
  api_.set_down(true);
  for (const int id : sockets_.open_connections()) sockets_.drop(id);
  ASSERT_TRUE(
      wait_for_metric("scribe_slack_socket_connections", [](long long n) { return n == 0; }));
  const HttpResult down = http_.request("GET", scribe_->base_url() + "/readyz");
  EXPECT_EQ(down.status, 503);
  EXPECT_THAT(down.body, HasSubstr("Socket Mode"));
  // Slack back: reconnected (with backoff), ready again.
  api_.set_down(false);
  ASSERT_TRUE(wait_for_metric("scribe_slack_socket_connections", [](long long n) {
    return n >= 1;
  })) << scribe_->logs();
  EXPECT_EQ(http_.request("GET", scribe_->base_url() + "/readyz").status, 200);
}

TEST_F(SocketOnlyE2E, SigtermClosesTheConnectionsCleanly) {
  socket_ack("/incident", "start Shutdown test");
  const auto open = sockets_.open_connections();
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(scribe_->terminate(), 0) << scribe_->logs();
  for (const int id : open) EXPECT_TRUE(sockets_.wait_for_closed(id, 5s)) << id;
  start();  // for TearDown symmetry
}

TEST_F(SocketOnlyE2E, AWrongAppTokenIsLoggedAndNotReady) {
  env_["SCRIBE_SLACK_APP_TOKEN"] = "xapp-1-wrong";
  scribe_.reset();
  std::map<std::string, std::string> env = env_;
  env["SCRIBE_DB"] = (dir_ / "scribe.db").string();
  env["SCRIBE_API_TOKEN"] = kToken;
  testing::ScribeProcess scribe(SCRIBE_BINARY, env);
  EXPECT_TRUE(scribe.wait_for_log("invalid_auth", 10s)) << scribe.logs();
  EXPECT_EQ(http_.request("GET", scribe.base_url() + "/readyz").status, 503);
  EXPECT_EQ(scribe.terminate(), 0);
  env_["SCRIBE_SLACK_APP_TOKEN"] = kAppToken;
  start();
}

}  // namespace
}  // namespace scribe
