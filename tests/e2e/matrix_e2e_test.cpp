// End-to-end: Scribe in Matrix, as an application service (a stand-in homeserver pushes
// transactions to the real `scribe serve`) and as a bot account (the real `scribe serve`
// long-polls the stand-in's /sync). Scenarios that exist in both modes are parametrised
// over them and run through the same test code; the stand-in records what Scribe sends
// back through the client-server API.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"
#include "e2e/matrix_fixture.h"
#include "support/matrix_standin.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::json;

constexpr const char* kHsToken = testing::kMatrixHsToken;
constexpr const char* kRoom = "!incident:standin.test";

using Mode = testing::MatrixMode;
using testing::matrix_mode_name;

class MatrixE2E : public testing::MatrixOn<testing::SlackE2E> {
 protected:
  void SetUp() override { configure(Mode::kAppService); }

  // Starts Scribe in `mode`. A bot account is already in kRoom, where a command was typed
  // before Scribe first started: it must never run (no history is replayed).
  void configure(Mode mode) {
    MatrixOn::configure(mode, {kRoom},
                        {{kRoom, "@alice:standin.test", "!incident start Typed before Scribe"},
                         {kRoom, "@alice:standin.test", "!timeline history, not a command"}});
  }
};

// The scenarios both Matrix modes must pass alike.
class MatrixModesE2E : public MatrixE2E, public ::testing::WithParamInterface<Mode> {
 protected:
  void SetUp() override { configure(GetParam()); }
};

// A bot account: Scribe syncs.
class MatrixBotE2E : public MatrixE2E {
 protected:
  void SetUp() override { configure(Mode::kBotAccount); }
};

// What a postmortem says, without what differs by platform or by when it was typed:
// ids, and the receipt times of milestones.
json comparable(const json& draft) {
  json out;
  for (const auto& row : draft["timeline"]) {
    const bool milestone = row["kind"] == "declared" || row["kind"] == "commander" ||
                           row["kind"] == "severity" || row["kind"] == "mitigated" ||
                           row["kind"] == "resolved";
    out["timeline"].push_back({{"kind", row["kind"]},
                               {"text", row["text"]},
                               {"author", row["author"]["name"]},
                               {"at", milestone ? json(nullptr) : row["occurred_at"]}});
  }
  out["sections"] = json::object();
  for (const auto& [name, notes] : draft["sections"].items()) {
    for (const auto& n : notes) out["sections"][name].push_back(n["text"]);
  }
  for (const auto& a : draft["actions"]) {
    out["actions"].push_back(
        {{"text", a["text"]}, {"due", a["due"]}, {"kind", a["kind"]}, {"status", a["status"]}});
  }
  out["title"] = draft["incident"]["title"];
  out["severity"] = draft["incident"]["severity"];
  return out;
}

TEST_P(MatrixModesE2E, AnIncidentInARoomDraftsLikeTheSameIncidentInSlack) {
  const auto base = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const auto at = [&](int minutes_ago) {
    return testing::iso(base - std::chrono::minutes(minutes_ago));
  };
  // One scenario, typed by the same people on both platforms.
  const std::vector<std::pair<std::string, std::string>> scenario = {
      {"alice", "incident start sev2 Search is timing out"},
      {"alice", "timeline " + at(30) + " #impact Search p99 rose from 200 ms to 4 s"},
      {"alice", "timeline " + at(26) + " #alert SearchLatencyHigh fired"},
      {"bob", "timeline " + at(20) + " #action Restarted the search pods"},
      {"bob", "incident cause A reindex job saturated the cluster"},
      {"bob", "incident lesson Reindex jobs need a rate limit"},
      {"alice", "action Add a rate limit to reindexing due 2030-01-15 #prevent"},
      {"bob", "incident mitigated"},
      {"bob", "incident resolved"},
  };
  for (const auto& [user, line] : scenario) {
    const auto space = line.find(' ');
    slack_->command("/" + line.substr(0, space), line.substr(space + 1), "C0SAME",
                    testing::SlackUser{"U0" + user, user});
  }
  int n = 0;
  for (const auto& [user, line] : scenario) {
    ASSERT_NO_FATAL_FAILURE(
        deliver("txn-" + std::to_string(++n), json::array({message(user, "!" + line, now_ms())})));
  }
  const json slack_draft = api_json("/api/incidents/1/postmortem.json");
  const json matrix_draft = api_json("/api/incidents/2/postmortem.json");
  const json matrix_incident = api_json("/api/incidents/2");
  EXPECT_EQ(matrix_incident["incident"]["channel"]["platform"], "matrix");
  EXPECT_EQ(matrix_incident["incident"]["channel"]["channel"], kRoom);
  EXPECT_EQ(comparable(matrix_draft), comparable(slack_draft));

  // The room got the answers, and the draft on resolution, through the client-server API.
  ASSERT_TRUE(homeserver_.wait_for_messages(scenario.size() + 2, kRoom, 15s));
  bool saw_draft_table = false;
  for (const auto& m : homeserver_.sent_messages(kRoom)) {
    EXPECT_EQ(m.content["format"], "org.matrix.custom.html");
    if (m.content.value("formatted_body", "").find("<table>") != std::string::npos) {
      saw_draft_table = true;
    }
  }
  EXPECT_TRUE(saw_draft_table) << "the draft's tables are rendered as HTML";
  for (const auto& call : homeserver_.calls_to("/send/m.room.message/")) {
    EXPECT_EQ(call.header("authorization"), "Bearer " + homeserver_.as_token());
    // An application service acts as its bot user; a bot account is that user.
    EXPECT_EQ(call.param("user_id"), GetParam() == Mode::kAppService ? "@scribe:standin.test" : "");
  }
}

TEST_F(MatrixE2E, AReplayedTransactionIsProcessedOnceAlsoAfterARestart) {
  const json events = json::array({message("alice", "!incident start Replays", now_ms()),
                                   message("alice", "!timeline first event", now_ms())});
  ASSERT_EQ(push("txn-once", events).status, 200);
  ASSERT_EQ(push("txn-once", events).status, 200);
  restart();
  ASSERT_EQ(push("txn-once", events).status, 200);
  const json incident = api_json("/api/incidents/1");
  int first = 0;
  for (const auto& e : incident["timeline"]) first += e["text"] == "first event" ? 1 : 0;
  EXPECT_EQ(first, 1);
  EXPECT_EQ(incident_count(), 1u);
}

TEST_F(MatrixE2E, AWrongHsTokenIsRefusedWithTheSpecsErrorAndChangesNothing) {
  const auto r =
      push("txn-x", json::array({message("mallory", "!incident start Forged", now_ms())}),
           "not-the-token");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.json["errcode"], "M_FORBIDDEN");
  EXPECT_EQ(incident_count(), 0u);
}

TEST_P(MatrixModesE2E, AnInviteMakesTheBotJoin) {
  ASSERT_NO_FATAL_FAILURE(invite_bot("!new:standin.test", /*encrypted=*/false));
  ASSERT_TRUE(homeserver_.wait_for("join", 1, 10s));
  EXPECT_THAT(homeserver_.joins(), ::testing::Contains("!new:standin.test"));
  ASSERT_TRUE(wait_for_outbox_drained());
  EXPECT_TRUE(homeserver_.sent_messages("!new:standin.test").empty())
      << "an unencrypted room gets no notice";
}

// A room Scribe cannot read is told so once, with what to do instead: not again for later
// encrypted messages, nor after a restart.
TEST_P(MatrixModesE2E, AnEncryptedRoomGetsOneNoticeAlsoAfterARestart) {
  const std::string sealed = "!sealed:standin.test";
  ASSERT_NO_FATAL_FAILURE(invite_bot(sealed, /*encrypted=*/true));
  ASSERT_TRUE(homeserver_.wait_for_messages(1, sealed, 15s)) << scribe_->logs();
  EXPECT_THAT(homeserver_.joins(), ::testing::Contains(sealed));
  const auto notices = homeserver_.sent_messages(sealed);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].content["msgtype"], "m.notice");
  EXPECT_THAT(notices[0].content["body"].get<std::string>(), HasSubstr("end-to-end encrypted"));
  EXPECT_THAT(notices[0].content["body"].get<std::string>(), HasSubstr("without encryption"));

  const json cipher = {{"type", "m.room.encrypted"},
                       {"room_id", sealed},
                       {"sender", "@bob:standin.test"},
                       {"event_id", "$cipher" + std::to_string(++event_counter_)},
                       {"origin_server_ts", now_ms()},
                       {"content", {{"algorithm", "m.megolm.v1.aes-sha2"}, {"ciphertext", "x"}}}};
  ASSERT_NO_FATAL_FAILURE(deliver("txn-cipher-1", json::array({cipher})));
  ASSERT_NO_FATAL_FAILURE(restart());
  if (GetParam() == Mode::kBotAccount) {
    ASSERT_TRUE(homeserver_.wait_for_sync_since(homeserver_.stream_position()));
  }
  json again = cipher;
  again["event_id"] = "$cipher" + std::to_string(++event_counter_);
  ASSERT_NO_FATAL_FAILURE(deliver("txn-cipher-2", json::array({again})));
  ASSERT_TRUE(wait_for_outbox_drained());
  EXPECT_EQ(homeserver_.sent_messages(sealed).size(), 1u);
}

// Outbound: a rate-limited send. Only the send is refused (a bot account keeps syncing).
TEST_P(MatrixModesE2E, RateLimitingIsRetriedAfterRetryAfterMs) {
  homeserver_.fail_next_to(
      "/send/", 1, 429,
      R"({"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":1500})");
  ASSERT_NO_FATAL_FAILURE(
      deliver("txn-rl", json::array({message("alice", "!incident start Rate limits", now_ms())})));
  ASSERT_TRUE(homeserver_.wait_for_messages(1, kRoom, 15s));
  const auto sends = homeserver_.calls_to("/send/m.room.message/");
  ASSERT_GE(sends.size(), 2u);
  EXPECT_GE(sends[1].arrived - sends[0].arrived, 1500ms);
  EXPECT_EQ(sends[0].path, sends[1].path) << "the retry reuses the transaction id";
}

INSTANTIATE_TEST_SUITE_P(BothModes, MatrixModesE2E, testing::kBothMatrixModes, matrix_mode_name);

// ---- a bot account only ----

TEST_F(MatrixBotE2E, CommandsAreRecordedOnceAndAnsweredAndNoHistoryIsReplayed) {
  // configure() typed "!incident start" and a "!timeline" before Scribe first started.
  EXPECT_EQ(incident_count(), 0u) << "history was replayed as commands";
  EXPECT_TRUE(homeserver_.sent_messages(kRoom).empty());
  EXPECT_THAT(scribe_->logs(), HasSubstr("starting from now"));

  ASSERT_NO_FATAL_FAILURE(
      deliver("", json::array({message("alice", "!incident start Synced", now_ms()),
                               message("bob", "!timeline first", now_ms())})));
  ASSERT_EQ(incident_count(), 1u);
  EXPECT_EQ(events_with_text(1, "first"), 1);
  EXPECT_EQ(api_json("/api/incidents/1")["incident"]["channel"]["channel"], kRoom);
  ASSERT_TRUE(wait_for_outbox_drained());
  const auto replies = homeserver_.sent_messages(kRoom);
  ASSERT_EQ(replies.size(), 2u) << "one answer per command";
  EXPECT_THAT(replies[1].content["body"].get<std::string>(), HasSubstr("first"));
  // Scribe's own answers come back through /sync, and are not commands.
  ASSERT_NO_FATAL_FAILURE(deliver("", json::array({message("bob", "not a command", now_ms())})));
  ASSERT_TRUE(wait_for_outbox_drained());
  EXPECT_EQ(homeserver_.sent_messages(kRoom).size(), 2u);
  // Only what Scribe reads is asked for: a filter with the event types, no presence.
  const auto syncs = homeserver_.calls_to("/sync");
  ASSERT_FALSE(syncs.empty());
  const json filter = json::parse(syncs.back().param("filter"));
  EXPECT_THAT(filter["room"]["timeline"]["types"], ::testing::Contains("m.room.message"));
  EXPECT_EQ(filter["presence"]["not_types"], json::array({"*"}));
  EXPECT_EQ(syncs.back().param("timeout"), "30000");
}

// kill -9 at any moment, even with a command in flight, then a restart: every command typed
// before, during and after is recorded and answered exactly once.
TEST_F(MatrixBotE2E, ACrashInTheMiddleNeitherSkipsNorRepeatsACommand) {
  ASSERT_NO_FATAL_FAILURE(
      deliver("", json::array({message("alice", "!incident start Crash", now_ms()),
                               message("alice", "!timeline one", now_ms())})));
  // Typed while Scribe is being killed, and while it is down.
  homeserver_.add_room_event(kRoom, message("alice", "!timeline two", now_ms()));
  scribe_->kill_hard();
  homeserver_.add_room_event(kRoom, message("bob", "!timeline three", now_ms()));
  homeserver_.add_room_event(kRoom, message("bob", "!timeline four", now_ms()));
  start();
  ASSERT_TRUE(homeserver_.wait_for_sync_since(homeserver_.stream_position())) << scribe_->logs();
  EXPECT_THAT(scribe_->logs(), HasSubstr("resumes from its stored position"));
  for (const char* text : {"one", "two", "three", "four"}) {
    EXPECT_EQ(events_with_text(1, text), 1) << text;
  }
  EXPECT_EQ(incident_count(), 1u);
  ASSERT_TRUE(wait_for_outbox_drained());
  EXPECT_EQ(homeserver_.sent_messages(kRoom).size(), 5u) << "one answer per command";
  // And a graceful restart in the middle too.
  ASSERT_NO_FATAL_FAILURE(restart());
  ASSERT_NO_FATAL_FAILURE(deliver("", json::array({message("bob", "!timeline five", now_ms())})));
  for (const char* text : {"one", "two", "three", "four", "five"}) {
    EXPECT_EQ(events_with_text(1, text), 1) << text;
  }
  ASSERT_TRUE(wait_for_outbox_drained());
  EXPECT_EQ(homeserver_.sent_messages(kRoom).size(), 6u);
}

TEST_F(MatrixBotE2E, ARevokedTokenMakesReadyzFalseWithAClearLog) {
  EXPECT_EQ(http_.request("GET", scribe_->base_url() + "/readyz").status, 200);
  homeserver_.revoke_token();
  ASSERT_TRUE(scribe_->wait_for_log("refused the bot account's access token", 15s))
      << scribe_->logs();
  EXPECT_THAT(scribe_->logs(), HasSubstr("M_UNKNOWN_TOKEN"));
  EXPECT_THAT(scribe_->logs(), HasSubstr("scribe matrix-login"));
  const HttpResult ready = http_.request("GET", scribe_->base_url() + "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_THAT(ready.body, HasSubstr("matrix access token refused"));
  EXPECT_EQ(http_.request("GET", scribe_->base_url() + "/healthz").status, 200);
}

TEST_F(MatrixBotE2E, ARateLimitedSyncWaitsRetryAfterMs) {
  homeserver_.fail_next(
      1, 429,
      R"({"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":1200})");
  // Ends the pending long poll; a plain message has no answer, so the next call is a /sync.
  homeserver_.add_room_event(kRoom, message("bob", "just talking", now_ms()));
  ASSERT_TRUE(scribe_->wait_for_log("rate limited", 15s)) << scribe_->logs();
  ASSERT_NO_FATAL_FAILURE(
      deliver("", json::array({message("alice", "!incident start After the limit", now_ms())})));
  EXPECT_EQ(incident_count(), 1u);
  const auto syncs = homeserver_.calls_to("/sync");
  std::size_t limited = syncs.size();
  for (std::size_t i = 0; i < syncs.size(); ++i) {
    if (syncs[i].status == 429) limited = i;
  }
  ASSERT_LT(limited + 1, syncs.size());
  EXPECT_GE(syncs[limited + 1].arrived - syncs[limited].arrived, 1200ms);
  EXPECT_EQ(syncs[limited + 1].param("since"), syncs[limited].param("since"))
      << "the same position is asked again";
}

TEST_F(MatrixBotE2E, AnOutageIsWaitedOutAndNothingTypedMeanwhileIsLost) {
  homeserver_.set_down(true);
  homeserver_.add_room_event(kRoom,
                             message("alice", "!incident start During the outage", now_ms()));
  ASSERT_TRUE(scribe_->wait_for_log("retrying in", 15s)) << scribe_->logs();
  homeserver_.set_down(false);
  ASSERT_TRUE(homeserver_.wait_for_sync_since(homeserver_.stream_position(), 30s))
      << scribe_->logs();
  EXPECT_EQ(incident_count(), 1u);
}

// A room whose timeline comes back `limited` (more than a response holds) has its gap read
// with /messages: no command is skipped.
TEST_F(MatrixBotE2E, ALimitedTimelineIsFilledFromMessages) {
  ASSERT_NO_FATAL_FAILURE(
      deliver("", json::array({message("alice", "!incident start Busy room", now_ms())})));
  scribe_->kill_hard();
  // 130 commands while Scribe is down: more than the 100 a sync response holds.
  for (int i = 1; i <= 130; ++i) {
    homeserver_.add_room_event(kRoom,
                               message("bob", "!timeline burst " + std::to_string(i), now_ms()));
  }
  env_["SCRIBE_CHANNEL_COMMANDS_PER_MINUTE"] = "off";  // this test floods one room on purpose
  start();
  ASSERT_TRUE(homeserver_.wait_for_sync_since(homeserver_.stream_position(), 30s))
      << scribe_->logs();
  EXPECT_FALSE(homeserver_.calls_to("/messages").empty());
  for (int i = 1; i <= 130; ++i) {
    EXPECT_EQ(events_with_text(1, "burst " + std::to_string(i)), 1) << i;
  }
}

TEST_F(MatrixBotE2E, MatrixLoginPrintsTheTokenAndTakesThePasswordFromStdinOrTheEnvironment) {
  homeserver_.add_login("scribe", "correct horse", "syt_new_token");
  const std::string args =
      "matrix-login --homeserver '" + homeserver_.base_url() + "' --user scribe";
  const auto piped = testing::run_shell("(printf 'correct horse\\n' | '" +
                                        std::string(SCRIBE_BINARY) + "' " + args + " 2>/dev/null)");
  EXPECT_EQ(piped.status, 0) << piped.out;
  EXPECT_EQ(piped.out, "syt_new_token\n");
  const auto from_env =
      testing::run_shell("SCRIBE_MATRIX_PASSWORD='correct horse' '" + std::string(SCRIBE_BINARY) +
                         "' " + args + " </dev/null");
  EXPECT_EQ(from_env.status, 0) << from_env.out;
  EXPECT_THAT(from_env.out, HasSubstr("syt_new_token"));
  EXPECT_THAT(from_env.out, HasSubstr("@scribe:standin.test"));
  const auto wrong =
      testing::run_shell("printf 'wrong\\n' | '" + std::string(SCRIBE_BINARY) + "' " + args);
  EXPECT_EQ(wrong.status, 1);
  EXPECT_THAT(wrong.out, HasSubstr("M_FORBIDDEN"));
  EXPECT_THAT(wrong.out, ::testing::Not(HasSubstr("wrong"))) << "the password is never echoed";
  const auto login = homeserver_.calls_to("/login");
  ASSERT_FALSE(login.empty());
  EXPECT_EQ(login[0].json["type"], "m.login.password");
  EXPECT_EQ(login[0].json["identifier"]["user"], "scribe");
}

}  // namespace
}  // namespace scribe
