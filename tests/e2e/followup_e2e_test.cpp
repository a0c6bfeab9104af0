// End-to-end: follow-up that outlives the incident. The real `scribe serve` on a test clock
// (SCRIBE_TEST_CLOCK_FILE), driven by correctly signed Slack slash commands, posting to the
// Slack stand-in: an item due tomorrow on a closed incident is reminded at the configured
// time, in the channel and to its owner directly (conversations.open + chat.postMessage),
// and is silent after `/action done`; a dropped item is never reminded; an item long
// overdue is escalated to the commander.
//
// Silence is shown against a witness, never by waiting: reminders of one pass are enqueued
// in one transaction in the order of the items, and each destination (the channel, an
// owner's direct conversation) is delivered in order. So once a later item's reminder has
// arrived somewhere, an earlier item's reminder to the same place would have arrived first.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <date/date.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fixture.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using testing::kAlice;
using testing::SlackUser;
using namespace std::chrono_literals;

const SlackUser kDave{"U0DAVE", "dave"};

std::chrono::sys_seconds at(const std::string& iso_text) {
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (std::sscanf(iso_text.c_str(), "%4d-%2u-%2uT%2u:%2u:%2uZ", &y, &mo, &d, &h, &mi, &sec) != 6) {
    throw std::runtime_error("bad time " + iso_text);
  }
  return date::sys_days{date::year{y} / date::month{mo} / date::day{d}} + std::chrono::hours{h} +
         std::chrono::minutes{mi} + std::chrono::seconds{sec};
}

class FollowUpE2E : public testing::SlackE2E {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("scribe-followup-{}-{}", getpid(), std::random_device{}());
    std::filesystem::create_directories(dir_);
    clock_file_ = (dir_ / "clock").string();
    set_clock("2026-12-01T08:00:00Z");
    env_["SCRIBE_TEST_CLOCK_FILE"] = clock_file_;
    env_["SCRIBE_REMINDER_TICK_MS"] = "20";
    env_["SCRIBE_REMINDER_TIME_OF_DAY"] = "09:00";
    env_["SCRIBE_REMINDER_QUIET_HOURS"] = "off";
    env_["SCRIBE_REMINDER_DELIVERY"] = "both";
    env_["SCRIBE_REMINDER_ESCALATE_AFTER_DAYS"] = "7";
    env_["SCRIBE_REMINDER_DIGEST_DAY"] = "off";
    env_["SCRIBE_SLACK_BOT_TOKEN"] = standin_.token();
    env_["SCRIBE_SLACK_API_URL"] = standin_.base_url();
    start();
  }

  // Moves the service's clock (written whole, then renamed into place) and signs with it.
  void set_clock(const std::string& iso_text) {
    const std::string tmp = clock_file_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << iso_text << "\n";
    }
    std::filesystem::rename(tmp, clock_file_);
    if (slack_) slack_->sign_at(at(iso_text));
  }

  // The chat.postMessage payloads posted to `channel` so far.
  std::vector<json> posts_to(const std::string& channel) const {
    std::vector<json> out;
    for (const json& p : standin_.posted_messages()) {
      if (p.value("channel", "") == channel) out.push_back(p);
    }
    return out;
  }

  static bool mentions(const json& post, const std::string& what) {
    return post.dump().find(what) != std::string::npos;
  }

  // Waits until a post to `channel` contains every one of `what`; returns it.
  json wait_for_post(const std::string& channel, const std::vector<std::string>& what) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const json& p : posts_to(channel)) {
        bool all = true;
        for (const auto& w : what) all = all && mentions(p, w);
        if (all) return p;
      }
      standin_.wait_for_calls("chat.postMessage", standin_.calls_to("chat.postMessage").size() + 1,
                              200ms);
    }
    ADD_FAILURE() << "no post to " << channel << " with " << ::testing::PrintToString(what) << "\n"
                  << scribe_->logs();
    return json();
  }

  std::size_t count_posts(const std::string& channel, const std::vector<std::string>& what) {
    std::size_t n = 0;
    for (const json& p : posts_to(channel)) {
      bool all = true;
      for (const auto& w : what) all = all && mentions(p, w);
      if (all) ++n;
    }
    return n;
  }

  std::string clock_file_;
};

TEST_F(FollowUpE2E, ClosedIncidentItemIsRemindedUntilDoneDroppedNeverAndOwnerGetsDirectMessage) {
  slack_->sign_at(at("2026-12-01T08:00:00Z"));
  slack_->command("/incident", "start sev2 Checkout API returning 502s", "C0INC", kAlice);
  slack_->command("/action", "Fix retry storm <@U0DAVE|dave> due 2026-12-02 #prevent", "C0INC",
                  kAlice);
  slack_->command("/action", "Remove legacy flag <@U0DAVE|dave> due 2026-12-02 #process", "C0INC",
                  kAlice);
  slack_->command("/action", "Add queue alert <@U0DAVE|dave> due 2026-12-02 #detect", "C0INC",
                  kAlice);
  json r =
      slack_->command("/action", "drop 2 the flag was removed with the service", "C0INC", kAlice);
  EXPECT_EQ(r["response_type"], "in_channel") << r.dump();
  slack_->command("/incident", "resolved", "C0INC", kAlice);
  r = slack_->command("/incident", "close", "C0INC", kAlice);
  ASSERT_THAT(r.dump(), HasSubstr("closed")) << r.dump();
  ASSERT_EQ(api_json("/api/incidents/1")["status"], "closed");

  // 09:00 the day before the due date: "due tomorrow", in the channel and to dave directly.
  set_clock("2026-12-01T09:00:01Z");
  const json witness = wait_for_post("C0INC", {"#3", "Add queue alert", "due tomorrow"});
  EXPECT_THAT(witness.dump(), HasSubstr("<@U0DAVE>"));
  EXPECT_EQ(count_posts("C0INC", {"Fix retry storm", "due tomorrow (2026-12-02)"}), 1u);
  wait_for_post("DU0DAVE", {"Add queue alert", "due tomorrow"});
  EXPECT_EQ(count_posts("DU0DAVE", {"Fix retry storm", "due tomorrow"}), 1u);
  const auto opens = standin_.calls_to("conversations.open");
  ASSERT_FALSE(opens.empty());
  for (const auto& call : opens) EXPECT_EQ(call.param("users"), "U0DAVE");
  // The dropped item #2 (between #1 and #3) was never reminded, anywhere.
  for (const json& p : standin_.posted_messages()) {
    EXPECT_FALSE(mentions(p, "Remove legacy flag") && mentions(p, "due")) << p.dump();
  }

  // Done on the closed incident, from its channel.
  slack_->sign_at(at("2026-12-01T09:30:00Z"));
  r = slack_->command("/action", "done 1", "C0INC", kDave);
  EXPECT_THAT(r.dump(), HasSubstr("done")) << r.dump();
  EXPECT_EQ(api_json("/api/incidents/1")["actions"][0]["status"], "done");

  // On the due date only the open item #3 is reminded; #1 (done) and #2 (dropped) are silent.
  set_clock("2026-12-02T09:00:01Z");
  wait_for_post("C0INC", {"#3", "Add queue alert", "due today"});
  wait_for_post("DU0DAVE", {"Add queue alert", "due today"});
  for (const json& p : standin_.posted_messages()) {
    EXPECT_FALSE(mentions(p, "Fix retry storm") && mentions(p, "due today")) << p.dump();
    EXPECT_FALSE(mentions(p, "Remove legacy flag") && mentions(p, "due")) << p.dump();
  }

  // Overdue by more than 7 days: escalated to the commander, in the channel and directly.
  set_clock("2026-12-10T09:00:01Z");
  const json escalation = wait_for_post("C0INC", {"🚨", "<@U0ALICE>", "Add queue alert"});
  EXPECT_THAT(escalation.dump(), HasSubstr("8 days overdue")) << escalation.dump();
  wait_for_post("DU0ALICE", {"🚨", "Add queue alert"});
  EXPECT_EQ(count_posts("C0INC", {"🚨"}), 1u);
  for (const json& p : standin_.posted_messages()) {
    EXPECT_FALSE(mentions(p, "🚨") && mentions(p, "Fix retry storm")) << p.dump();
  }

  // Exactly once across a restart: the same time again sends nothing new. The witness is a
  // later overdue nudge of #3 (daily), sent after the restart.
  const std::size_t escalations = count_posts("C0INC", {"🚨"});
  restart();
  slack_->sign_at(at("2026-12-10T09:00:01Z"));
  set_clock("2026-12-11T09:00:01Z");
  wait_for_post("C0INC", {"#3", "Add queue alert", "overdue", "9 days ago"});
  EXPECT_EQ(count_posts("C0INC", {"🚨"}), escalations);
}

}  // namespace
}  // namespace scribe
