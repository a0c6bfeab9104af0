// Pins keep their context, end to end: a pinned Slack message (pin_added, permalink and
// files in the payload), a 📌 reaction (the message read back and its permalink asked of
// the stand-in Slack API through the outbox's fetch job) and a 📌 on a Matrix m.image keep
// the message's link and its files as links on the timeline and in the draft (Markdown,
// HTML, JSON, `/timeline list`).
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fixture.h"
#include "e2e/matrix_fixture.h"
#include "e2e/socket_fixture.h"
#include "support/matrix_standin.h"
#include "support/slack_standin.h"

namespace scribe {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kRoom = "!pins:standin.test";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string ts_minutes_ago(int minutes) {
  const auto t = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) -
                 std::chrono::minutes(minutes);
  return std::to_string(t.time_since_epoch().count()) + ".000500";
}

std::int64_t ms_minutes_ago(int minutes) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             (std::chrono::system_clock::now() - std::chrono::minutes(minutes)).time_since_epoch())
      .count();
}

const json kFiles =
    json::array({{{"id", "F0GRAPH"},
                  {"name", "p99 latency.png"},
                  {"mimetype", "image/png"},
                  {"permalink", "https://standin.slack.test/files/U0BOB/F0GRAPH/p99_latency.png"},
                  {"url_private", "https://files.standin.slack.test/F0GRAPH/p99_latency.png"}},
                 {{"id", "F0LOG"},
                  {"name", "db (primary).log"},
                  {"mimetype", "text/plain"},
                  {"permalink", "https://standin.slack.test/files/U0BOB/F0LOG/db_primary.log"}},
                 // Not a web URL: dropped, never a link.
                 {{"id", "F0BAD"}, {"name", "evil"}, {"permalink", "javascript:alert(1)"}}});

class PinsE2E : public testing::SlackE2E {
 protected:
  void SetUp() override {
    standin_.add_user({"U0BOB", "bob", "Bob Builder", "bob", "UTC", 0});
    SlackE2E::SetUp();
  }

  // The timeline rows of INC-`id`'s JSON draft with links, once every outbox job (a
  // reacted-to message's fetch, written before the event was acknowledged) has run; `n`
  // is how many the caller expects, checked by the caller.
  std::vector<json> linked_rows(int id, std::size_t n) {
    EXPECT_TRUE(wait_for_outbox_drained()) << "waiting for " << n << " linked rows";
    std::vector<json> out;
    const json draft = api_json("/api/incidents/" + std::to_string(id) + "/postmortem.json");
    for (const json& row : draft["timeline"]) {
      if (!row["links"].empty()) out.push_back(row);
    }
    return out;
  }
};

// The Slack scenarios run in both Slack modes (events over HTTP, or as Socket Mode
// envelopes) through the same test code.
using SlackPinsE2E = testing::SlackModes<PinsE2E>;
INSTANTIATE_TEST_SUITE_P(Modes, SlackPinsE2E, testing::kBothSlackModes, testing::mode_name);

TEST_P(SlackPinsE2E, APinnedSlackMessageKeepsItsPermalinkAndFiles) {
  slack_->command("/incident", "start Latency spike", "C0PIN");
  const std::string ts = ts_minutes_ago(5);
  const std::string permalink = "https://standin.slack.test/archives/C0PIN/p1700000000000500";
  const json body = {{"team_id", "T0TEAM"},
                     {"type", "event_callback"},
                     {"event_id", "EvPin1"},
                     {"event",
                      {{"type", "pin_added"},
                       {"user", "U0CAROL"},
                       {"channel_id", "C0PIN"},
                       {"item",
                        {{"type", "message"},
                         {"channel", "C0PIN"},
                         {"message",
                          {{"type", "message"},
                           {"user", "U0BOB"},
                           {"text", "p99 went from 300 ms to 2.4 s, graph and log attached"},
                           {"ts", ts},
                           {"permalink", permalink},
                           {"files", kFiles}}}}}}}};
  ASSERT_TRUE(deliver_event(body).acknowledged);

  const std::vector<json> rows = linked_rows(1, 1);
  ASSERT_EQ(rows.size(), 1u);
  const json& links = rows[0]["links"];
  ASSERT_EQ(links.size(), 3u) << links.dump(2);
  EXPECT_EQ(links[0], (json{{"kind", "message"}, {"title", ""}, {"url", permalink}}));
  EXPECT_EQ(links[1]["kind"], "image");
  EXPECT_EQ(links[1]["title"], "p99 latency.png");
  EXPECT_EQ(links[1]["url"], "https://standin.slack.test/files/U0BOB/F0GRAPH/p99_latency.png");
  EXPECT_EQ(links[2]["kind"], "file");
  EXPECT_EQ(links[2]["title"], "db (primary).log");

  const std::string md = api("/api/incidents/1/postmortem.md").body;
  EXPECT_TRUE(contains(md, "p99 went from 300 ms to 2.4 s, graph and log attached · [message](" +
                               permalink +
                               ") · [🖼 p99 latency.png](https://standin.slack.test/"
                               "files/U0BOB/F0GRAPH/p99_latency.png) · [📎 db "
                               "(primary).log](https://standin.slack.test/files/U0BOB/"
                               "F0LOG/db_primary.log) |"))
      << md;
  EXPECT_FALSE(contains(md, "javascript:")) << md;
  const std::string html = api("/api/incidents/1/postmortem.html").body;
  EXPECT_TRUE(contains(html, "<a href=\"" + permalink + "\">message</a>")) << html;
  EXPECT_TRUE(contains(html, "🖼 p99 latency.png</a>")) << html;
  EXPECT_FALSE(contains(html, "javascript:")) << html;

  // The chat: `/timeline list` and the draft.
  const json list = slack_->command("/timeline", "list", "C0PIN");
  EXPECT_TRUE(contains(list.dump(), permalink)) << list;
  const json draft = slack_->command("/incident", "draft", "C0PIN");
  EXPECT_TRUE(contains(draft.dump(), "[message](" + permalink + ")")) << draft;
}

TEST_P(SlackPinsE2E, APushpinReactionFetchesThePermalinkAndKeepsTheFiles) {
  slack_->command("/incident", "start Disk full", "C0REACT");
  const std::string ts = ts_minutes_ago(4);
  standin_.add_message("C0REACT", ts, "U0BOB", "df shows / at 100%");
  standin_.add_files("C0REACT", ts, kFiles);
  const json body = {{"team_id", "T0TEAM"},
                     {"type", "event_callback"},
                     {"event_id", "EvReact1"},
                     {"event",
                      {{"type", "reaction_added"},
                       {"user", "U0CAROL"},
                       {"reaction", "pushpin"},
                       {"item_user", "U0BOB"},
                       {"item", {{"type", "message"}, {"channel", "C0REACT"}, {"ts", ts}}}}}};
  ASSERT_TRUE(deliver_event(body).acknowledged);

  const std::vector<json> rows = linked_rows(1, 1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["text"], "df shows / at 100%");
  const json& links = rows[0]["links"];
  ASSERT_EQ(links.size(), 3u) << links.dump(2);
  EXPECT_EQ(links[0]["kind"], "message");
  EXPECT_EQ(links[0]["url"], testing::standin_permalink("C0REACT", ts));
  EXPECT_EQ(links[1]["kind"], "image");
  EXPECT_EQ(links[2]["kind"], "file");
  EXPECT_EQ(standin_.calls_to("chat.getPermalink").size(), 1u);
}

// Both Matrix modes, application service and bot account, through the same test code.
class MatrixPinsE2E : public testing::MatrixOn<PinsE2E>,
                      public ::testing::WithParamInterface<testing::MatrixMode> {
 protected:
  void SetUp() override { configure(GetParam(), {kRoom}); }
};
INSTANTIATE_TEST_SUITE_P(BothModes, MatrixPinsE2E, testing::kBothMatrixModes,
                         testing::matrix_mode_name);

TEST_P(MatrixPinsE2E, APushpinOnAMatrixImageKeepsItsLinkAndTheImage) {
  auto message = [&](const std::string& event_id, const json& content, std::int64_t ts) {
    return json{{"type", "m.room.message"},        {"room_id", kRoom},
                {"sender", "@alice:standin.test"}, {"event_id", event_id},
                {"origin_server_ts", ts},          {"content", content}};
  };
  const std::int64_t start = ms_minutes_ago(10);
  ASSERT_NO_FATAL_FAILURE(deliver(
      "t1",
      json::array({message(
          "$start", {{"msgtype", "m.text"}, {"body", "!incident start Queue stuck"}}, start)})));
  const json image = message("$shot",
                             {{"msgtype", "m.image"},
                              {"body", "queue depth.png"},
                              {"url", "mxc://standin.test/AbCdEf123"},
                              {"info", {{"mimetype", "image/png"}}}},
                             ms_minutes_ago(8));
  const json pin = {
      {"type", "m.reaction"},
      {"room_id", kRoom},
      {"sender", "@bob:standin.test"},
      {"event_id", "$pin"},
      {"origin_server_ts", ms_minutes_ago(7)},
      {"content",
       {{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", "$shot"}, {"key", "📌"}}}}}};
  ASSERT_NO_FATAL_FAILURE(deliver("t2", json::array({image, pin})));

  const std::vector<json> rows = linked_rows(1, 1);
  ASSERT_EQ(rows.size(), 1u);
  const json& links = rows[0]["links"];
  ASSERT_EQ(links.size(), 2u) << links.dump(2);
  EXPECT_EQ(links[0]["kind"], "message");
  EXPECT_EQ(links[0]["url"], "https://matrix.to/#/%21pins%3Astandin.test/%24shot");
  EXPECT_EQ(links[1]["kind"], "image");
  EXPECT_EQ(links[1]["title"], "queue depth.png");
  EXPECT_EQ(links[1]["url"],
            homeserver_.base_url() + "/_matrix/media/v3/download/standin.test/AbCdEf123");
  const std::string md = api("/api/incidents/1/postmortem.md").body;
  EXPECT_TRUE(contains(md, "[🖼 queue depth.png](" + homeserver_.base_url() +
                               "/_matrix/media/v3/download/standin.test/AbCdEf123)"))
      << md;
}

}  // namespace
}  // namespace scribe
