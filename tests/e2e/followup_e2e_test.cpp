// End-to-end: follow-up that outlives the incident. The real `scribe serve` on a test clock
// (SCRIBE_TEST_CLOCK_FILE), driven by correctly signed Slack slash commands, posting to the
// Slack stand-in: an item due tomorrow on a closed incident is reminded at the configured
// time, in the channel and to its owner directly (conversations.open + chat.postMessage),
// and is silent after `/action done`; a dropped item is never reminded; an item long
// overdue is escalated to the postmortem owner.
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
#include "e2e/matrix_fixture.h"
#include "e2e/socket_fixture.h"
#include "support/matrix_standin.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using testing::kAlice;
using testing::kBob;
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
    // Defaults; a derived fixture may have set its own before.
    env_.try_emplace("SCRIBE_TEST_CLOCK_FILE", clock_file_);
    env_.try_emplace("SCRIBE_REMINDER_TICK_MS", "20");
    env_.try_emplace("SCRIBE_REMINDER_TIME_OF_DAY", "09:00");
    env_.try_emplace("SCRIBE_REMINDER_QUIET_HOURS", "off");
    env_.try_emplace("SCRIBE_REMINDER_DELIVERY", "both");
    env_.try_emplace("SCRIBE_REMINDER_ESCALATE_AFTER_DAYS", "7");
    env_.try_emplace("SCRIBE_REMINDER_DIGEST_DAY", "off");
    env_.try_emplace("SCRIBE_SLACK_BOT_TOKEN", standin_.token());
    env_.try_emplace("SCRIBE_SLACK_API_URL", standin_.base_url());
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

// Both Slack modes, HTTP and Socket Mode, through the same test code.
using SlackFollowUpE2E = testing::SlackModes<FollowUpE2E>;
INSTANTIATE_TEST_SUITE_P(Modes, SlackFollowUpE2E, testing::kBothSlackModes, testing::mode_name);

TEST_P(SlackFollowUpE2E,
       ClosedIncidentItemIsRemindedUntilDoneDroppedNeverAndOwnerGetsDirectMessage) {
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
  r = slack_->command("/incident", "owner <@U0BOB|bob>", "C0INC", kAlice);
  ASSERT_THAT(r.dump(), HasSubstr("@bob now owns the postmortem")) << r.dump();
  slack_->command("/incident", "resolved", "C0INC", kAlice);
  // The postmortem is incomplete (no summary, impact, cause): the close gate wants a reason.
  r = slack_->command("/incident", "close anyway follow-up continues in the action items", "C0INC",
                      kAlice);
  ASSERT_THAT(r.dump(), HasSubstr("closed")) << r.dump();
  ASSERT_EQ(api_json("/api/incidents/1")["incident"]["status"], "closed");

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
  set_clock("2026-12-01T09:30:00Z");
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

  // Overdue by more than 7 days: escalated to the postmortem owner (bob, not the commander
  // alice), in the channel and directly.
  set_clock("2026-12-10T09:00:01Z");
  const json escalation = wait_for_post("C0INC", {"🚨", "<@U0BOB>", "Add queue alert"});
  EXPECT_THAT(escalation.dump(), HasSubstr("8 days overdue")) << escalation.dump();
  wait_for_post("DU0BOB", {"🚨", "Add queue alert"});
  EXPECT_EQ(count_posts("DU0ALICE", {"🚨"}), 0u);
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

// The same follow-up for a Matrix room, delivered to the owner only ("direct"): the bot
// opens a direct room with the owner (createRoom, is_direct, the owner invited), records
// it in its m.direct account data, and reuses it for later reminders, also after a restart.
// Both Matrix modes, application service and bot account, through the same test code.
class MatrixFollowUpE2E : public testing::MatrixOn<FollowUpE2E>,
                          public ::testing::WithParamInterface<testing::MatrixMode> {
 protected:
  static constexpr const char* kRoom = "!ops:standin.test";
  static constexpr const char* kBot = testing::kMatrixBot;
  static constexpr const char* kDaveMx = "@dave:standin.test";

  void SetUp() override {
    env_["SCRIBE_REMINDER_DELIVERY"] = "direct";
    configure(GetParam(), {kRoom});
  }

  // `user` types `body` in kRoom at the fixture's first clock time; returns once stored.
  void say(const std::string& user, const std::string& body) {
    ASSERT_NO_FATAL_FAILURE(deliver("txn-f" + std::to_string(event_counter_ + 1),
                                    json::array({message(user, body, 1764576000000LL)})));
  }

  // Waits until a message in `room` contains every one of `what`.
  bool wait_for_message(const std::string& room, const std::vector<std::string>& what) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto sent = homeserver_.sent_messages(room);
      for (const auto& m : sent) {
        bool all = true;
        for (const auto& w : what) all = all && m.content.dump().find(w) != std::string::npos;
        if (all) return true;
      }
      homeserver_.wait_for_messages(sent.size() + 1, room, 200ms);
    }
    ADD_FAILURE() << "no message in " << room << " with " << ::testing::PrintToString(what) << "\n"
                  << scribe_->logs();
    return false;
  }
};
INSTANTIATE_TEST_SUITE_P(BothModes, MatrixFollowUpE2E, testing::kBothMatrixModes,
                         testing::matrix_mode_name);

TEST_P(MatrixFollowUpE2E, ADirectReminderGoesToADirectRoomWithTheOwnerMadeOnceAndReused) {
  say("alice", "!incident start sev2 Queue backlog");
  say("alice", std::string("!action Drain the queue ") + kDaveMx + " due 2026-12-02 #mitigate");
  say("alice", std::string("!action Add a backlog alert ") + kDaveMx + " due 2026-12-03 #detect");
  const json incident = api_json("/api/incidents/1");
  ASSERT_EQ(incident["actions"].size(), 2u) << incident.dump();
  ASSERT_EQ(incident["actions"][0]["owner"]["id"], kDaveMx) << incident.dump();

  // The day before #1 is due: a direct room with dave is created and the reminder sent there.
  set_clock("2026-12-01T09:00:01Z");
  ASSERT_TRUE(homeserver_.wait_for("/createRoom", 1, 15s)) << scribe_->logs();
  auto rooms = homeserver_.created_rooms();
  ASSERT_EQ(rooms.size(), 1u);
  const std::string dm = rooms[0].room_id;
  EXPECT_TRUE(rooms[0].is_direct);
  EXPECT_EQ(rooms[0].invited, std::vector<std::string>{kDaveMx});
  EXPECT_EQ(rooms[0].creator, kBot);
  ASSERT_TRUE(wait_for_message(dm, {"Drain the queue", "due tomorrow"}));
  // Recorded where Matrix clients keep direct rooms, so any later process finds it.
  EXPECT_EQ(homeserver_.account_data(kBot, "m.direct"), json({{kDaveMx, json::array({dm})}}));

  // The next day: #1 due today, #2 due tomorrow, both in the same room, no new room.
  set_clock("2026-12-02T09:00:01Z");
  ASSERT_TRUE(wait_for_message(dm, {"Drain the queue", "due today"}));
  ASSERT_TRUE(wait_for_message(dm, {"Add a backlog alert", "due tomorrow"}));
  EXPECT_EQ(homeserver_.created_rooms().size(), 1u);

  // A restarted Scribe (nothing remembered in memory) finds the room in m.direct.
  restart();
  set_clock("2026-12-03T09:00:01Z");
  ASSERT_TRUE(wait_for_message(dm, {"Add a backlog alert", "due today"}));
  EXPECT_EQ(homeserver_.created_rooms().size(), 1u);

  // "direct": the reminders went to dave alone, not to the incident's room.
  for (const auto& m : homeserver_.sent_messages(kRoom)) {
    EXPECT_EQ(m.content.dump().find("due tomorrow"), std::string::npos) << m.content.dump();
  }
  for (const auto& m : homeserver_.sent_messages(dm)) EXPECT_EQ(m.sender, kBot);
}

}  // namespace
}  // namespace scribe
