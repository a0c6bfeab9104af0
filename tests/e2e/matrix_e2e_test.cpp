// End-to-end: Scribe as a Matrix application service. A stand-in homeserver started by
// the test pushes transactions to the real `scribe serve` and records what Scribe sends
// back through the client-server API.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"
#include "support/matrix_standin.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::json;

constexpr const char* kHsToken = "hs-token-e2e-7d1f";
constexpr const char* kRoom = "!incident:standin.test";

class MatrixE2E : public testing::SlackE2E {
 protected:
  void SetUp() override {
    env_["SCRIBE_MATRIX_HOMESERVER_URL"] = homeserver_.base_url();
    env_["SCRIBE_MATRIX_AS_TOKEN"] = homeserver_.as_token();
    env_["SCRIBE_MATRIX_HS_TOKEN"] = kHsToken;
    env_["SCRIBE_MATRIX_USER_ID"] = "@scribe:standin.test";
    SlackE2E::SetUp();
  }

  // A `!command` typed by `user` at `ts_ms`.
  json message(const std::string& user, const std::string& body, std::int64_t ts_ms,
               const std::string& room = kRoom) {
    return {{"type", "m.room.message"},
            {"room_id", room},
            {"sender", "@" + user + ":standin.test"},
            {"event_id", "$e" + std::to_string(++event_counter_)},
            {"origin_server_ts", ts_ms},
            {"content", {{"msgtype", "m.text"}, {"body", body}}}};
  }

  testing::PushResult push(const std::string& txn, const json& events,
                           const std::string& token = kHsToken) {
    return homeserver_.push_transaction(scribe_->base_url(), token, txn, events);
  }

  static std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  testing::MatrixStandIn homeserver_;
  int event_counter_ = 0;
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

TEST_F(MatrixE2E, AnIncidentInARoomDraftsLikeTheSameIncidentInSlack) {
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
    const auto r =
        push("txn-" + std::to_string(++n), json::array({message(user, "!" + line, now_ms())}));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json, json::object());
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

TEST_F(MatrixE2E, AnInviteMakesTheBotJoin) {
  const json invite = {{"type", "m.room.member"},
                       {"room_id", "!new:standin.test"},
                       {"sender", "@alice:standin.test"},
                       {"state_key", "@scribe:standin.test"},
                       {"event_id", "$invite1"},
                       {"origin_server_ts", now_ms()},
                       {"content", {{"membership", "invite"}}}};
  ASSERT_EQ(push("txn-invite", json::array({invite})).status, 200);
  ASSERT_TRUE(homeserver_.wait_for("join", 1, 10s));
  EXPECT_THAT(homeserver_.joins(), ::testing::Contains("!new:standin.test"));
}

TEST_F(MatrixE2E, RateLimitingIsRetriedAfterRetryAfterMs) {
  homeserver_.fail_next(
      1, 429,
      R"({"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":1500})");
  ASSERT_EQ(push("txn-rl", json::array({message("alice", "!incident start Rate limits", now_ms())}))
                .status,
            200);
  ASSERT_TRUE(homeserver_.wait_for_messages(1, kRoom, 15s));
  const auto sends = homeserver_.calls_to("/send/m.room.message/");
  ASSERT_GE(sends.size(), 2u);
  EXPECT_GE(sends[1].arrived - sends[0].arrived, 1500ms);
  EXPECT_EQ(sends[0].path, sends[1].path) << "the retry reuses the transaction id";
}

}  // namespace
}  // namespace scribe
