// Limits through the real binary: signed slash commands over a full incident, a flooded
// channel and an over-long text are refused with the limit named and change nothing on
// disk; the incident list is read page by page.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"
#include "support/matrix_standin.h"

namespace scribe::testing {
namespace {

using ::testing::HasSubstr;

class LimitsE2E : public ScribeE2E {
 protected:
  void SetUp() override {
    // Low limits, so a test reaches each in a few commands. Each test uses channels of
    // its own, so only the rate test exhausts a bucket.
    env_ = {{"SCRIBE_MAX_EVENTS_PER_INCIDENT", "5"},
            {"SCRIBE_MAX_COMMAND_CHARS", "50"},
            {"SCRIBE_CHANNEL_COMMAND_BURST", "10"},
            {"SCRIBE_CHANNEL_COMMANDS_PER_MINUTE", "1"}};
    ScribeE2E::SetUp();
  }

  // The timeline of incident `ref` as the API shows it (deleted events included).
  std::size_t events_of(const std::string& ref) {
    return api_json("/api/incidents/" + ref)["timeline"].size();
  }

  // Whether the service's log shows `text` within a few seconds: it reaches the test
  // through a pipe, a moment after the request that caused it was answered.
  bool log_shows(const std::string& text) {
    return scribe_->wait_for_log(text, std::chrono::seconds(10));
  }

  static std::string header(const HttpResult& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return {};
  }
};

TEST_F(LimitsE2E, AFullIncidentRefusesMoreEventsAndStoresNothing) {
  slack_->command("/incident", "start Disk full", "C0CAP");  // event 1: the declaration
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(slack_->command("/timeline", fmt::format("step {}", i), "C0CAP")["response_type"],
              "in_channel");
  }
  const json r = slack_->command("/timeline", "one too many", "C0CAP");
  EXPECT_EQ(r["response_type"], "ephemeral");
  const std::string text = r.dump();
  EXPECT_THAT(text, HasSubstr("INC-1 already has 5 timeline events"));
  EXPECT_THAT(text, HasSubstr("limits.events_per_incident"));
  EXPECT_THAT(text, HasSubstr("Nothing was recorded"));
  EXPECT_EQ(events_of("INC-1"), 5u);
  EXPECT_THAT(api("/api/incidents/INC-1").body, ::testing::Not(HasSubstr("one too many")));
  // The incident can still be finished: resolution is not an event the cap refuses.
  EXPECT_EQ(slack_->command("/incident", "resolved", "C0CAP")["response_type"], "in_channel");
  // And the cap is read from the store: a restart changes nothing.
  restart();
  EXPECT_THAT(slack_->command("/timeline", "after restart", "C0CAP").dump(),
              HasSubstr("6 timeline events"));
}

TEST_F(LimitsE2E, AFloodedChannelIsToldWhenToTryAgainAndStoresNothing) {
  slack_->command("/incident", "start Flood", "C0RATE");
  slack_->command("/timeline", "one event", "C0RATE");
  // Reads are commands too (and stay under the incident's cap of 5 events).
  for (int i = 0; i < 8; ++i) {
    EXPECT_THAT(slack_->command("/incident", "status", "C0RATE").dump(), HasSubstr("Flood")) << i;
  }
  const json r = slack_->command("/timeline", "over the rate", "C0RATE");
  EXPECT_EQ(r["response_type"], "ephemeral");
  // One command a minute: the next token is a minute away (less what the test took).
  EXPECT_THAT(r.dump(), ::testing::ContainsRegex("try again in [1-6]?[0-9] s"));
  EXPECT_THAT(r.dump(), HasSubstr("Nothing was recorded"));
  EXPECT_EQ(events_of("INC-1"), 2u);
  EXPECT_THAT(api("/metrics").body,
              HasSubstr("scribe_commands_refused_total{limit=\"channel_rate\"} 1\n"));
  EXPECT_TRUE(log_shows("is over its command rate")) << scribe_->logs();
  EXPECT_THAT(scribe_->logs(), HasSubstr("channel slack/"));
  EXPECT_THAT(api("/api/incidents/INC-1").body, ::testing::Not(HasSubstr("over the rate")));
  // Another channel has a bucket of its own.
  EXPECT_EQ(slack_->command("/incident", "start Elsewhere", "C0CALM")["response_type"],
            "in_channel");
}

TEST_F(LimitsE2E, ATooLongTextIsRefusedWithTheLimitNamed) {
  slack_->command("/incident", "start Long texts", "C0LONG");
  const std::string fifty(50, 'x');
  EXPECT_EQ(slack_->command("/timeline", fifty, "C0LONG")["response_type"], "in_channel");
  const json r = slack_->command("/timeline", fifty + "y", "C0LONG");
  EXPECT_EQ(r["response_type"], "ephemeral");
  EXPECT_THAT(r.dump(), HasSubstr("51 characters long; the limit is 50"));
  EXPECT_THAT(r.dump(), HasSubstr("limits.command_text_chars"));
  // Characters, not bytes: fifty umlauts (100 bytes) fit.
  std::string umlauts;
  for (int i = 0; i < 50; ++i) umlauts += "ü";
  EXPECT_EQ(slack_->command("/timeline", umlauts, "C0LONG")["response_type"], "in_channel");
  const json incident = api_json("/api/incidents/INC-1");
  ASSERT_EQ(incident["timeline"].size(), 3u);
  EXPECT_EQ(incident["timeline"][1]["text"], fifty);
  EXPECT_EQ(incident["timeline"][2]["text"], umlauts);
}

TEST_F(LimitsE2E, TheIncidentListIsReadPageByPage) {
  for (int i = 1; i <= 5; ++i) {
    slack_->command("/incident", fmt::format("start Incident {}", i), fmt::format("C0P{}", i));
  }
  // Newest first, two a page; `next` (and the Link header) lead to the following page.
  HttpResult first = api("/api/incidents?limit=2");
  ASSERT_EQ(first.status, 200) << first.body;
  json page = json::parse(first.body);
  ASSERT_EQ(page["incidents"].size(), 2u);
  EXPECT_EQ(page["incidents"][0]["id"], 5);
  EXPECT_EQ(page["incidents"][1]["id"], 4);
  ASSERT_TRUE(page["next"].is_string());
  EXPECT_EQ(page["next"], "/api/incidents?limit=2&after=4");
  EXPECT_EQ(header(first, "link"), "</api/incidents?limit=2&after=4>; rel=\"next\"");

  // An incident declared meanwhile does not shift the pages already handed out.
  slack_->command("/incident", "start Incident 6", "C0P6");
  std::vector<int> seen = {5, 4};
  std::string next = page["next"];
  int pages = 1;
  while (!next.empty()) {
    const HttpResult r = api(next);
    ASSERT_EQ(r.status, 200) << r.body;
    page = json::parse(r.body);
    ++pages;
    for (const auto& i : page["incidents"]) seen.push_back(i["id"]);
    if (page["next"].is_null()) {
      EXPECT_EQ(header(r, "link"), "");
      next.clear();
    } else {
      next = page["next"];
    }
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<int>{5, 4, 3, 2, 1}));

  // Without parameters: the default page, everything here, no next page.
  page = api_json("/api/incidents");
  EXPECT_EQ(page["incidents"].size(), 6u);
  EXPECT_TRUE(page["next"].is_null());
  // A page that ends exactly at the last incident has no next page either.
  page = api_json("/api/incidents?limit=3&after=4");
  EXPECT_EQ(page["incidents"].size(), 3u);
  EXPECT_TRUE(page["next"].is_null());
}

TEST_F(LimitsE2E, BadPagingValuesAre400WithAClearError) {
  slack_->command("/incident", "start Only one", "C0BAD");
  const std::pair<const char*, const char*> cases[] = {
      {"limit=0", "'limit' must be a whole number from 1 to 500"},
      {"limit=501", "from 1 to 500"},
      {"limit=abc", "from 1 to 500"},
      {"after=-1", "'after' must be the cursor"},
      {"after=x", "'after' must be the cursor"},
      {"limit=2&limit=3", "given twice"},
      {"page=2", "unknown parameter 'page'"},
  };
  for (const auto& [query, says] : cases) {
    const HttpResult r = api(fmt::format("/api/incidents?{}", query));
    EXPECT_EQ(r.status, 400) << query << " " << r.body;
    EXPECT_THAT(json::parse(r.body)["error"].get<std::string>(), HasSubstr(says)) << query;
  }
  // The token is checked first: a bad page without it is 401, not a hint about the API.
  EXPECT_EQ(api("/api/incidents?limit=0", "wrong").status, 401);
}

// The same text limit for a Matrix room's `!commands`: the refusal goes to the room.
class MatrixLimitsE2E : public ScribeE2E {
 protected:
  void SetUp() override {
    // Added to what a subclass set.
    env_["SCRIBE_MAX_COMMAND_CHARS"] = "50";
    env_["SCRIBE_MATRIX_HOMESERVER_URL"] = homeserver_.base_url();
    env_["SCRIBE_MATRIX_AS_TOKEN"] = homeserver_.as_token();
    env_["SCRIBE_MATRIX_HS_TOKEN"] = kHsToken;
    env_["SCRIBE_MATRIX_USER_ID"] = "@scribe:standin.test";
    ScribeE2E::SetUp();
  }

  json message(const std::string& body) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    return {
        {"type", "m.room.message"},        {"room_id", kRoom},
        {"sender", "@alice:standin.test"}, {"event_id", "$limits" + std::to_string(++events_)},
        {"origin_server_ts", now.count()}, {"content", {{"msgtype", "m.text"}, {"body", body}}}};
  }

  static constexpr const char* kHsToken = "hs-token-limits-e2e";
  static constexpr const char* kRoom = "!limits:standin.test";
  MatrixStandIn homeserver_;
  int events_ = 0;
};

TEST_F(MatrixLimitsE2E, ATooLongMessageBodyIsRefusedInTheRoom) {
  const json events = json::array({message("!incident start Long bodies"),
                                   message("!timeline " + std::string(51, 'z')),
                                   message("!timeline " + std::string(60000, 'w'))});
  const PushResult r = homeserver_.push_transaction(scribe_->base_url(), kHsToken, "txn-1", events);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(homeserver_.wait_for_messages(3, kRoom, std::chrono::seconds(15)));
  std::string room;
  for (const auto& m : homeserver_.sent_messages(kRoom)) room += m.content.dump() + "\n";
  EXPECT_THAT(room, HasSubstr("51 characters long; the limit is 50"));
  EXPECT_THAT(room, HasSubstr("60000 characters long; the limit is 50"));
  EXPECT_EQ(api_json("/api/incidents/INC-1")["timeline"].size(), 1u);  // the declaration only
}

// A Matrix room over its command rate: every reply there is a room message, so the room
// is told once per run of refusals when to try again, and the commands after that get no
// answer (and are not recorded).
class MatrixRateE2E : public MatrixLimitsE2E {
 protected:
  void SetUp() override {
    // A burst of 3, then one command every 100 ms: a flood sent at once is refused, and a
    // command a moment later is let in again.
    env_ = {{"SCRIBE_CHANNEL_COMMAND_BURST", "3"}, {"SCRIBE_CHANNEL_COMMANDS_PER_MINUTE", "600"}};
    MatrixLimitsE2E::SetUp();
  }
};

TEST_F(MatrixRateE2E, AFloodedRoomIsToldOnceAndNotAnsweredAgain) {
  json events = json::array(
      {message("!incident start Storm"), message("!timeline one"), message("!timeline two")});
  for (int i = 0; i < 9; ++i) events.push_back(message("!timeline flood " + std::to_string(i)));
  ASSERT_EQ(homeserver_.push_transaction(scribe_->base_url(), kHsToken, "txn-1", events).status,
            200);
  // The room's messages go out in order: once a later answer in it is out, every answer
  // to the flood is. Until a token is back, the status commands are refused silently too.
  bool answered = false;
  for (int i = 0; i < 100 && !answered; ++i) {
    const json status = json::array({message("!incident status")});
    ASSERT_EQ(
        homeserver_
            .push_transaction(scribe_->base_url(), kHsToken, "txn-s" + std::to_string(i), status)
            .status,
        200);
    answered = homeserver_.wait_for_messages(5, kRoom, std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(answered);

  int notices = 0;
  std::string room;
  for (const auto& m : homeserver_.sent_messages(kRoom)) {
    const std::string text = m.content.dump();
    room += text + "\n";
    if (text.find("try again in") != std::string::npos) ++notices;
  }
  EXPECT_EQ(notices, 1) << room;
  // The start, "one", "two", the notice and the status.
  EXPECT_EQ(homeserver_.sent_messages(kRoom).size(), 5u) << room;
  EXPECT_THAT(room, HasSubstr("get no answer"));
  EXPECT_THAT(room, ::testing::Not(HasSubstr("flood")));
  EXPECT_EQ(api_json("/api/incidents/INC-1")["timeline"].size(), 3u);  // start, one, two
  ASSERT_TRUE(scribe_->wait_for_log("is over its command rate", std::chrono::seconds(10)));
}

}  // namespace
}  // namespace scribe::testing
