// End-to-end: the postmortem review through the real `scribe serve`. Signed Slack slash
// commands and Matrix transactions meet the close gate (refused with what is missing,
// nothing changed; `close anyway` by the commander records the reason), `/incident review`
// answers only the caller, the API's drafts carry the review, and `scribe lint` exits 1
// with findings and 0 without, while the service runs on the same database.
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fixture.h"
#include "e2e/matrix_fixture.h"
#include "e2e/socket_fixture.h"
#include "support/matrix_standin.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using json = nlohmann::json;
using testing::CliResult;
using testing::kAlice;
using testing::kBob;
using testing::run_cli;

using ReviewE2E = testing::ScribeE2E;
// The Slack scenarios run in both Slack modes, HTTP and Socket Mode, through the same code.
using SlackReviewE2E = testing::SlackModesE2E;
INSTANTIATE_TEST_SUITE_P(Modes, SlackReviewE2E, testing::kBothSlackModes, testing::mode_name);

TEST_P(SlackReviewE2E, CloseGateReviewAndCloseAnywayThroughSlack) {
  slack_->command("/incident", "start sev2 Checkout API returning 502s", "C0INC", kAlice);
  slack_->command("/timeline", "<@U0BOB|bob> forgot to run the migration", "C0INC", kAlice);
  slack_->command("/incident", "impact latency increased a lot", "C0INC", kAlice);
  slack_->command("/action", "Improve code quality <@U0BOB|bob>", "C0INC", kAlice);
  slack_->command("/incident", "resolved", "C0INC", kAlice);

  // Refused, only to the caller, with what is missing; nothing changed.
  const std::string before = api("/api/incidents/1").body;
  json r = slack_->command("/incident", "close", "C0INC", kAlice);
  EXPECT_EQ(r["response_type"], "ephemeral") << r.dump();
  const std::string refusal = r.dump();
  EXPECT_THAT(refusal, HasSubstr("INC-1 cannot close yet"));
  EXPECT_THAT(refusal, HasSubstr("No summary"));
  EXPECT_THAT(refusal, HasSubstr("Impact has no numbers"));
  EXPECT_THAT(refusal, HasSubstr("No root cause"));
  EXPECT_THAT(refusal, HasSubstr("blame finding"));
  EXPECT_THAT(refusal, HasSubstr("`/incident close anyway &lt;reason&gt;`"));
  EXPECT_EQ(api("/api/incidents/1").body, before);

  // The findings, to the caller only.
  r = slack_->command("/incident", "review", "C0INC", kBob);
  EXPECT_EQ(r["response_type"], "ephemeral") << r.dump();
  EXPECT_THAT(r.dump(), HasSubstr("[blame] timeline #2"));
  EXPECT_THAT(r.dump(), HasSubstr("[unactionable] action #1"));
  EXPECT_THAT(r.dump(), HasSubstr("[vague] Impact note 1"));
  EXPECT_EQ(api("/api/incidents/1").body, before);

  // Every format of the draft carries the review.
  const json draft = api_json("/api/incidents/1/postmortem.json");
  ASSERT_TRUE(draft.contains("review")) << draft.dump(2);
  EXPECT_EQ(draft["review"]["status"], "draft");
  EXPECT_EQ(draft["review"]["owner"]["id"], "U0ALICE");
  EXPECT_TRUE(draft["review"]["approvals"].empty());
  bool blame = false;
  for (const auto& f : draft["review"]["findings"]) {
    if (f["rule"] == "blame" && f["target"]["type"] == "event" && f["target"]["seq"] == 2) {
      blame = true;
    }
  }
  EXPECT_TRUE(blame) << draft["review"].dump(2);
  EXPECT_THAT(api("/api/incidents/1/postmortem.md").body,
              HasSubstr("## Review before the meeting"));
  EXPECT_THAT(api("/api/incidents/1/postmortem.html").body,
              HasSubstr("Review before the meeting</h2>"));

  // Only the commander closes over the objections, with a reason that is kept.
  r = slack_->command("/incident", "close anyway we met; bob fixes the record", "C0INC", kBob);
  EXPECT_EQ(r["response_type"], "ephemeral");
  EXPECT_THAT(r.dump(), HasSubstr("Only the commander"));
  EXPECT_EQ(api("/api/incidents/1").body, before);
  r = slack_->command("/incident", "close anyway meeting held; impact numbers follow", "C0INC",
                      kAlice);
  EXPECT_EQ(r["response_type"], "in_channel") << r.dump();
  const json closed = api_json("/api/incidents/1");
  EXPECT_EQ(closed["incident"]["status"], "closed");
  const json after = api_json("/api/incidents/1/postmortem.json");
  EXPECT_EQ(after["review"]["closed_anyway"], "meeting held; impact numbers follow");
  EXPECT_THAT(after["timeline"].back()["text"].get<std::string>(),
              HasSubstr("Reason: meeting held; impact numbers follow"));
  EXPECT_THAT(api("/api/incidents/1/postmortem.md").body,
              HasSubstr("Closed over open review findings"));
}

TEST_P(SlackReviewE2E, AnApprovedCompletePostmortemClosesAndLintIsClean) {
  slack_->command("/incident", "start sev2 Checkout API returning 502s", "C0INC", kAlice);
  slack_->command("/timeline", "-20m #impact checkout 5xx rose to 18% of requests", "C0INC",
                  kAlice);
  slack_->command("/timeline", "-18m #alert CheckoutErrors fired: 5xx above 5% for 2 minutes",
                  "C0INC", kAlice);
  slack_->command("/incident", "summary A config push made checkout fail for 19 minutes.", "C0INC",
                  kAlice);
  slack_->command("/incident", "impact 4,100 orders failed; 18% of checkout requests got 502.",
                  "C0INC", kAlice);
  slack_->command("/incident", "cause The pushed pool size was 0 and nothing validated it.",
                  "C0INC", kAlice);
  slack_->command("/incident", "trigger The 14:02 config push.", "C0INC", kAlice);
  slack_->command("/incident", "lesson Config is code: it needs the same checks.", "C0INC", kAlice);
  slack_->command("/action",
                  "Validate pool sizes in the config pipeline <@U0BOB|bob> due +7d #prevent",
                  "C0INC", kAlice);
  slack_->command("/action",
                  "Alert on checkout 5xx above 2% for 1 minute <@U0BOB|bob> due +7d #detect",
                  "C0INC", kAlice);
  slack_->command("/incident", "mitigated", "C0INC", kAlice);
  slack_->command("/incident", "resolved", "C0INC", kAlice);

  const std::string db = (dir_ / "scribe.db").string();
  CliResult lint = run_cli(db, "lint INC-1");
  EXPECT_EQ(lint.status, 0) << lint.out;
  EXPECT_THAT(lint.out, HasSubstr("INC-1: 0 findings"));

  // Still one approval short.
  json r = slack_->command("/incident", "close", "C0INC", kAlice);
  EXPECT_EQ(r["response_type"], "ephemeral");
  EXPECT_THAT(r.dump(), HasSubstr("0 of 1 approval"));
  r = slack_->command("/incident", "review request", "C0INC", kAlice);
  EXPECT_EQ(r["response_type"], "in_channel") << r.dump();
  EXPECT_EQ(api_json("/api/incidents/1/postmortem.json")["review"]["status"], "in_review");
  r = slack_->command("/incident", "approve", "C0INC", kAlice);
  EXPECT_EQ(r["response_type"], "ephemeral");
  r = slack_->command("/incident", "approve", "C0INC", kBob);
  EXPECT_EQ(r["response_type"], "in_channel") << r.dump();
  const json review = api_json("/api/incidents/1/postmortem.json")["review"];
  EXPECT_EQ(review["status"], "final");
  ASSERT_EQ(review["approvals"].size(), 1u);
  EXPECT_EQ(review["approvals"][0]["by"]["id"], "U0BOB");

  r = slack_->command("/incident", "close", "C0INC", kAlice);
  EXPECT_EQ(r["response_type"], "in_channel") << r.dump();
  EXPECT_EQ(api_json("/api/incidents/1")["incident"]["status"], "closed");
}

TEST_F(ReviewE2E, LintExitsOneWithFindingsAndTwoForNoIncident) {
  slack_->command("/incident", "start Search timing out", "C0INC", kAlice);
  slack_->command("/timeline", "<@U0BOB|bob> forgot to page the database team", "C0INC", kAlice);
  const std::string db = (dir_ / "scribe.db").string();

  CliResult lint = run_cli(db, "lint INC-1");
  EXPECT_EQ(lint.status, 1) << lint.out;
  EXPECT_THAT(lint.out, HasSubstr("[blame] timeline #2"));
  lint = run_cli(db, "lint 1 --format json");
  EXPECT_EQ(lint.status, 1) << lint.out;
  const json j = json::parse(lint.out);
  EXPECT_EQ(j["status"], "draft");
  EXPECT_FALSE(j["findings"].empty());
  EXPECT_EQ(run_cli(db, "lint INC-99").status, 2);
  EXPECT_EQ(run_cli(db, "lint nonsense").status, 2);

  // `scribe draft` carries the review too.
  const CliResult draft = run_cli(db, "draft INC-1");
  EXPECT_EQ(draft.status, 0);
  EXPECT_THAT(draft.out, HasSubstr("## Review before the meeting"));
}

using ReviewHintE2E = testing::SlackModes<testing::SlackE2E>;
INSTANTIATE_TEST_SUITE_P(Modes, ReviewHintE2E, testing::kBothSlackModes, testing::mode_name);

// A flagged entry: the record is answered in the channel as always, and its author alone
// gets the hint, through chat.postEphemeral; a neutral entry gets none.
TEST_P(ReviewHintE2E, TheAuthorAloneGetsAQuietHint) {
  slack_->command("/incident", "start sev2 Checkout API returning 502s", "C0INC", kAlice);
  json r = slack_->command("/timeline", "alice rolled back the deploy", "C0INC", kAlice);
  EXPECT_EQ(r["response_type"], "in_channel");
  r = slack_->command("/timeline", "<@U0BOB|bob> forgot to run the migration", "C0INC", kAlice);
  EXPECT_EQ(r["response_type"], "in_channel") << "the record is not blocked";
  EXPECT_EQ(api_json("/api/incidents/1")["timeline"].size(), 3u);

  ASSERT_TRUE(standin_.wait_for_calls("chat.postEphemeral", 1)) << scribe_->logs();
  const auto calls = standin_.calls_to("chat.postEphemeral");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].param("channel"), "C0INC");
  EXPECT_EQ(calls[0].param("user"), "U0ALICE");
  EXPECT_THAT(calls[0].body, HasSubstr("timeline #3"));
  EXPECT_THAT(calls[0].body, HasSubstr("[blame]"));
  // Nothing of it went to the channel.
  for (const auto& m : standin_.posted_messages()) {
    EXPECT_THAT(m.dump(), Not(HasSubstr("reviewer's note"))) << m.dump();
  }
}

constexpr const char* kRoom = "!review:standin.test";

// Both Matrix modes, application service and bot account, through the same test code.
class MatrixReviewE2E : public testing::MatrixOn<testing::SlackE2E>,
                        public ::testing::WithParamInterface<testing::MatrixMode> {
 protected:
  void SetUp() override { configure(GetParam(), {kRoom}); }

  // Whether a message sent to the room contains `needle`, waiting for new messages (not
  // sleeping) up to a deadline.
  bool room_says(const std::string& needle) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    for (;;) {
      const auto messages = homeserver_.sent_messages(kRoom);
      for (const auto& m : messages) {
        if (m.content.dump().find(needle) != std::string::npos) return true;
      }
      if (std::chrono::steady_clock::now() > deadline) return false;
      homeserver_.wait_for_messages(messages.size() + 1, kRoom, 500ms);
    }
  }
};
INSTANTIATE_TEST_SUITE_P(BothModes, MatrixReviewE2E, testing::kBothMatrixModes,
                         testing::matrix_mode_name);

TEST_P(MatrixReviewE2E, CloseGateInARoom) {
  say("alice", "!incident start sev3 Search timing out");
  say("alice", "!incident resolved");
  const std::string before = api("/api/incidents/1").body;
  say("alice", "!incident close");
  EXPECT_TRUE(room_says("INC-1 cannot close yet"));
  EXPECT_TRUE(room_says("!incident summary"));
  EXPECT_TRUE(room_says("!incident close anyway"));
  EXPECT_EQ(api("/api/incidents/1").body, before);

  // The reply to `!incident review` is a notice in the room (Matrix has no ephemeral).
  say("bob", "!incident review");
  EXPECT_TRUE(room_says("Review of INC-1"));

  // An accepted command is durable before the transaction is acknowledged.
  say("alice", "!incident summary Search p99 was 4 s for 20 minutes.");
  say("alice", "!incident cause A reindex job saturated the cluster.");
  say("alice", "!incident close");
  EXPECT_EQ(api_json("/api/incidents/1")["incident"]["status"], "closed");
  EXPECT_TRUE(room_says("INC-1 closed: postmortem reviewed"));
}

// In a room the hint is a notice (the application-service API has no private message),
// addressed to the author; the entry is recorded either way.
TEST_P(MatrixReviewE2E, AFlaggedEntryGetsANotice) {
  say("alice", "!incident start sev3 Search timing out");
  say("alice", "!incident impact latency increased a lot");
  EXPECT_EQ(api_json("/api/incidents/1/postmortem.json")["sections"]["impact"].size(), 1u);
  EXPECT_TRUE(room_says("A reviewer's note on your impact note"));
  EXPECT_TRUE(room_says("[vague]"));
  bool notice = false;
  for (const auto& m : homeserver_.sent_messages(kRoom)) {
    if (m.content.dump().find("reviewer's note") != std::string::npos) {
      notice = m.content.value("msgtype", "") == "m.notice";
    }
  }
  EXPECT_TRUE(notice);
}

}  // namespace
}  // namespace scribe
