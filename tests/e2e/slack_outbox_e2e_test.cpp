// End-to-end: Scribe posting to Slack on its own initiative, through its durable outbox,
// against a stand-in Slack Web API started by the test on loopback. Every scenario runs in
// both Slack modes (commands over HTTP, or in Socket Mode with the same stand-in serving
// apps.connections.open) through the same test code.
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"
#include "e2e/socket_fixture.h"
#include "support/slack_standin.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::json;

class SlackOutboxFixture : public testing::SlackE2E {
 protected:
  // A resolved incident whose draft is long enough to need several messages.
  void resolve_a_long_incident(const std::string& channel = "C0OUT") {
    slack_->command("/incident", "start sev2 Payments failing", channel);
    for (int i = 0; i < 60; ++i) {
      slack_->command("/timeline", fmt::format("-{}m step {} of the investigation", 60 - i, i),
                      channel);
    }
    const json r = slack_->command("/incident", "resolved", channel);
    EXPECT_THAT(r.dump(), HasSubstr("resolved"));
  }

  // The long incident's draft is all there, and no message was posted twice.
  static void expect_whole_draft_posted_once(const std::vector<json>& posted) {
    ASSERT_GE(posted.size(), 3u);
    std::set<std::string> contents;
    for (const auto& m : posted) contents.insert(m["blocks"].dump());
    EXPECT_EQ(contents.size(), posted.size()) << "no message was posted twice";
    EXPECT_THAT(draft_from_thread(posted), HasSubstr("step 59 of the investigation"));
  }

  // The code blocks of the thread's replies, joined: the draft as Slack shows it.
  static std::string draft_from_thread(const std::vector<json>& posted) {
    std::string draft;
    for (std::size_t i = 1; i < posted.size(); ++i) {
      for (const auto& block : posted[i]["blocks"]) {
        if (block["type"] != "section") continue;
        std::string text = block["text"]["text"];
        if (!text.starts_with("```")) continue;
        text = text.substr(3, text.size() - 6);  // strip the fences
        draft += text;
      }
    }
    return draft;
  }
};

using SlackOutboxE2E = testing::SlackModes<SlackOutboxFixture>;
INSTANTIATE_TEST_SUITE_P(Modes, SlackOutboxE2E, testing::kBothSlackModes, testing::mode_name);

TEST_P(SlackOutboxE2E, ResolutionPostsTheWholeDraftInAThreadUnderASummary) {
  resolve_a_long_incident();
  ASSERT_TRUE(wait_for_outbox_drained()) << scribe_->logs();
  const auto posted = standin_.posted_messages();
  ASSERT_GE(posted.size(), 3u);
  EXPECT_EQ(posted[0]["channel"], "C0OUT");
  EXPECT_THAT(posted[0]["text"].get<std::string>(), HasSubstr("Postmortem draft of INC-1"));
  EXPECT_FALSE(posted[0].contains("thread_ts"));
  const std::string parent_ts = posted[0]["ts"];
  for (std::size_t i = 1; i < posted.size(); ++i) {
    EXPECT_EQ(posted[i]["thread_ts"], parent_ts) << i;
    EXPECT_EQ(posted[i]["channel"], "C0OUT");
  }
  for (const auto& call : standin_.calls_to("chat.postMessage")) {
    EXPECT_EQ(call.header("authorization"), "Bearer " + standin_.token());
  }
  // Every timeline event is in the posted draft, in order.
  const std::string draft = draft_from_thread(posted);
  std::size_t last = 0;
  for (int i = 0; i < 60; ++i) {
    const auto at = draft.find(fmt::format("step {} of the investigation", i));
    ASSERT_NE(at, std::string::npos) << i;
    EXPECT_GT(at, last);
    last = at;
  }
  EXPECT_THAT(draft, HasSubstr("# Postmortem: INC-1"));
  EXPECT_THAT(draft, HasSubstr("## Action items"));
}

TEST_P(SlackOutboxE2E, AnOutageDuringResolveThenARestartStillDeliversEachMessageOnce) {
  standin_.set_down(true);
  resolve_a_long_incident();
  // The sender tries and fails at least once.
  ASSERT_TRUE(scribe_->wait_for_log("attempt 1 failed", 20s)) << scribe_->logs();
  EXPECT_GT(standin_.refused(), 0u);
  EXPECT_TRUE(standin_.posted_messages().empty());

  ASSERT_EQ(scribe_->terminate(), 0);
  standin_.set_down(false);
  start();  // a new process: only what is in the store remains
  ASSERT_TRUE(wait_for_outbox_drained()) << scribe_->logs();
  const auto posted = standin_.posted_messages();
  expect_whole_draft_posted_once(posted);
  EXPECT_THAT(draft_from_thread(posted), HasSubstr("## Action items"));

  // Nothing more goes out later: everything is recorded as sent, nothing is pending or
  // given up.
  EXPECT_EQ(metric("scribe_outbox_pending"), 0);
  EXPECT_EQ(metric("scribe_outbox_failed"), 0);
  EXPECT_EQ(standin_.posted_messages().size(), posted.size());
}

// Killed while Slack holds a post unanswered: the post is out there but not recorded. After
// the restart the job is in doubt, the sender finds the post by its marker in the channel
// (or thread), and nothing appears twice.
TEST_P(SlackOutboxE2E, AKillDuringAPostThenARestartPostsEachMessageOnce) {
  standin_.set_delay(1500ms);
  resolve_a_long_incident();
  ASSERT_TRUE(standin_.wait_for_calls("chat.postMessage", 2, 20s)) << scribe_->logs();
  scribe_->kill_hard();  // the second post has arrived; its answer has not
  standin_.set_delay(0ms);
  start();
  ASSERT_TRUE(wait_for_outbox_drained()) << scribe_->logs();
  EXPECT_TRUE(scribe_->wait_for_log("an earlier delivery went unrecorded", 5s)) << scribe_->logs();
  const auto posted = standin_.posted_messages();
  expect_whole_draft_posted_once(posted);
  EXPECT_EQ(metric("scribe_outbox_failed"), 0);
}

// The first command of a user also looks up their time zone (users.info, in the
// background); scripted failures are meant for chat.postMessage, so they wait for it.
void let_zone_lookup_pass(testing::SlackStandIn& standin, testing::SlackClient& slack,
                          const std::string& channel) {
  slack.command("/incident", "help", channel);
  ASSERT_TRUE(standin.wait_for_calls("users.info", 1));
}

TEST_P(SlackOutboxE2E, RetryAfterIsRespected) {
  let_zone_lookup_pass(standin_, *slack_, "C0RL");
  standin_.fail_next(1, 429, "", {{"Retry-After", "2"}});
  slack_->command("/incident", "start Short one", "C0RL");
  slack_->command("/incident", "resolved", "C0RL");
  ASSERT_TRUE(standin_.wait_for_calls("chat.postMessage", 2, 15s));
  const auto calls = standin_.calls_to("chat.postMessage");
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls[0].status, 429u);
  EXPECT_EQ(calls[1].status, 200u);
  EXPECT_GE(calls[1].arrived - calls[0].arrived, 2s);
  // The retried message is the same message.
  EXPECT_EQ(calls[0].json["blocks"], calls[1].json["blocks"]);
}

TEST_P(SlackOutboxE2E, ASlowSlackDoesNotSlowAcknowledgements) {
  standin_.set_delay(3s);
  slack_->command("/incident", "start Slow API", "C0SLOW");
  slack_->command("/incident", "resolved", "C0SLOW");  // the outbox now waits on Slack
  ASSERT_TRUE(standin_.wait_for_calls("chat.postMessage", 1, 5s));
  // Meanwhile commands in another channel are answered at once.
  slack_->command("/incident", "start Meanwhile", "C0FAST");
  for (int i = 0; i < 10; ++i) {
    const auto started = std::chrono::steady_clock::now();
    const json r = slack_->command("/timeline", fmt::format("event {}", i), "C0FAST");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
    EXPECT_EQ(r["response_type"], "in_channel");
  }
}

// The thread's first message (the draft's summary) fails for good; its replies (the draft
// in pieces) are neither left waiting forever nor posted silently as messages of their own:
// each goes to the channel marked as a reply to a message that could not be posted.
TEST_P(SlackOutboxE2E, APermanentErrorIsGivenUpNotRetriedAndItsRepliesAreMarked) {
  let_zone_lookup_pass(standin_, *slack_, "C0GONE");
  standin_.fail_next_error(1, "msg_too_long");
  slack_->command("/incident", "start Gone summary", "C0GONE");
  slack_->command("/incident", "resolved", "C0GONE");
  ASSERT_TRUE(wait_for_outbox_drained()) << scribe_->logs();
  EXPECT_EQ(metric("scribe_outbox_failed"), 1);  // the summary alone
  EXPECT_THAT(scribe_->logs(), HasSubstr("msg_too_long"));
  const auto calls = standin_.calls_to("chat.postMessage");
  ASSERT_GE(calls.size(), 2u) << "the summary and at least one piece of the draft";
  EXPECT_EQ(calls.front().status, 200u);  // Slack answers errors with 200 and ok:false
  std::size_t summary_attempts = 0;
  for (const auto& c : calls) {
    if (c.json.value("text", "").find("Postmortem draft of") != std::string::npos) {
      ++summary_attempts;
    }
  }
  EXPECT_EQ(summary_attempts, 1u);
  // Everything after the summary was posted, to the channel, each visibly marked.
  const auto posted = standin_.posted_messages();
  ASSERT_EQ(posted.size(), calls.size() - 1);
  for (const auto& m : posted) {
    EXPECT_EQ(m["channel"], "C0GONE");
    EXPECT_FALSE(m.contains("thread_ts")) << m.dump();
    EXPECT_TRUE(
        m["text"].get<std::string>().starts_with("(reply to a message that could not be posted)"))
        << m["text"];
    EXPECT_THAT(m["blocks"].dump(), HasSubstr("(reply to a message that could not be posted)"));
  }
  EXPECT_THAT(scribe_->logs(), HasSubstr("was given up; posting it to slack C0GONE on its own"));
}

}  // namespace
}  // namespace scribe
