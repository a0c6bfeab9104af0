// Time zones end to end: `/incident tz` (validated, durable, audited), incidents that cross
// midnight and a daylight-saving change rendered with the right local times and durations
// in every format, and a Slack user's own zone (users.info, from the stand-in Slack API)
// used to read their backdated times. The service's wall clock is held with libfaketime.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fixture.h"
#include "e2e/socket_fixture.h"

namespace scribe {
namespace {

using json = nlohmann::json;
using testing::CliResult;
using testing::run_shell;
using testing::SlackClient;
using testing::SlackStandInUser;
using testing::SlackUser;

const SlackUser kAlice{"U0ALICE", "alice"};
const SlackUser kBob{"U0BOB", "bob"};
const std::string kSource = SCRIBE_SOURCE_DIR;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The reply's text and its detail lines, as one string to search.
std::string all_text(const json& reply) {
  std::string out = reply.value("text", "");
  if (reply.contains("blocks")) out += "\n" + reply["blocks"].dump();
  return out;
}

class TimeZoneFixture : public testing::SlackE2E {
 protected:
  // A slash command at the service's (fake) time, over the test's Slack mode (over HTTP
  // signed at that time); its JSON reply (a failure unless 200 with JSON).
  json say(const SlackUser& user, const std::string& command, const std::string& text,
           const std::string& channel = "C0TZ") {
    return command_at_held_time(user, command, text, channel);
  }

  void expect_schema_valid(const std::string& draft_json) {
    const std::filesystem::path path = dir_ / "draft.json";
    std::ofstream(path, std::ios::binary) << draft_json;
    const CliResult schema =
        run_shell("python3 '" + kSource + "/tests/support/check_draft.py' schema '" + kSource +
                  "/postmortem/schema/draft.schema.json' '" + path.string() + "'");
    EXPECT_EQ(schema.status, 0) << schema.out;
  }
};

// Both Slack modes, HTTP and Socket Mode, through the same test code.
using TimeZoneE2E = testing::SlackModes<TimeZoneFixture>;
INSTANTIATE_TEST_SUITE_P(Modes, TimeZoneE2E, testing::kBothSlackModes, testing::mode_name);

TEST_P(TimeZoneE2E, ABadZoneIsRefusedAndChangesNothingAGoodOneIsKeptAcrossARestart) {
  clock_at("2026-11-20 12:00:00");
  start_with_fake_clock();
  json r = say(kAlice, "/incident", "tz Mars/Olympus_Mons");
  EXPECT_EQ(r.value("response_type", ""), "ephemeral") << r;
  EXPECT_TRUE(contains(all_text(r), "is not a time zone in the tz database")) << r;
  EXPECT_TRUE(contains(all_text(r), "nothing was changed")) << r;
  r = say(kAlice, "/incident", "tz");
  EXPECT_TRUE(contains(all_text(r), "the service's time zone, UTC")) << r;

  // Spelt in lower case: found all the same, stored as the database spells it.
  r = say(kAlice, "/incident", "tz europe/berlin");
  EXPECT_EQ(r.value("response_type", ""), "in_channel") << r;
  EXPECT_TRUE(contains(all_text(r), "time zone is now Europe/Berlin (was UTC), set by @alice"))
      << r;

  ASSERT_EQ(scribe_->terminate(), 0) << scribe_->logs();
  start_with_fake_clock();
  r = say(kBob, "/incident", "tz");
  EXPECT_TRUE(contains(all_text(r), "This channel's time zone is Europe/Berlin")) << r;
  EXPECT_TRUE(contains(all_text(r), "Europe/Berlin set by @alice at 2026-11-20 12:00:00 UTC")) << r;
  // Another channel keeps the service's zone.
  r = say(kBob, "/incident", "tz", "C0OTHER");
  EXPECT_TRUE(contains(all_text(r), "the service's time zone, UTC")) << r;
}

// Berlin's clocks go back from 03:00 CEST to 02:00 CET at 01:00 UTC on 2026-10-25; the
// incident begins before UTC midnight (on the 24th) and ends after the change.
TEST_P(TimeZoneE2E, BerlinAcrossMidnightAndTheEndOfSummerTime) {
  clock_at("2026-10-24 23:50:00");  // 01:50 CEST on the 25th
  start_with_fake_clock();
  say(kAlice, "/incident", "tz Europe/Berlin");
  say(kAlice, "/incident", "start sev2 Checkout errors");
  json r = say(kAlice, "/timeline", "01:40 #impact checkout fails for 30% of requests");
  // 01:40 CEST = 23:40 UTC on the 24th.
  EXPECT_TRUE(contains(all_text(r), "2026-10-24 23:40:00 UTC (2026-10-25 01:40:00 CEST)")) << r;
  EXPECT_TRUE(contains(all_text(r), "read as 01:40 Europe/Berlin")) << r;

  clock_at("2026-10-25 01:35:00");  // 02:35 CET, after the change
  // 02:10 happened twice tonight; the later one (CET, 01:10 UTC) is the most recent.
  r = say(kAlice, "/timeline", "02:10 #detected alert on checkout 5xx");
  EXPECT_TRUE(contains(all_text(r), "2026-10-25 01:10:00 UTC (2026-10-25 02:10:00 CET)")) << r;
  EXPECT_TRUE(contains(all_text(r), "happened twice in Europe/Berlin")) << r;
  r = say(kAlice, "/incident", "mitigated 02:30 rolled back");
  EXPECT_TRUE(contains(all_text(r), "2026-10-25 01:30:00 UTC (2026-10-25 02:30:00 CET)")) << r;

  clock_at("2026-10-25 02:00:00");  // 03:00 CET
  say(kAlice, "/incident", "resolved");

  const std::string md = api("/api/incidents/1/postmortem.md").body;
  // 01:40 CEST → 02:30 CET looks like 50 minutes on the wall but is 1h 50m.
  EXPECT_TRUE(contains(md,
                       "- **Customer impact:** 1h 50m 00s (impact began 2026-10-24 23:40:00 UTC "
                       "(2026-10-25 01:40:00 CEST) → mitigated 2026-10-25 01:30:00 UTC "
                       "(2026-10-25 02:30:00 CET))"))
      << md;
  EXPECT_TRUE(contains(md, "- **Declared:** 2026-10-24 23:50:00 UTC (2026-10-25 01:50:00 CEST)"))
      << md;
  EXPECT_TRUE(contains(md,
                       "All times UTC, from 2026-10-24 to 2026-10-25, local time in "
                       "Europe/Berlin in brackets."))
      << md;
  // The UTC dates differ, so each row shows its date, and the local time with its offset name.
  EXPECT_TRUE(contains(md, "2026-10-24 23:40:00 (2026-10-25 01:40:00 CEST) | +00:00:00 |")) << md;
  // 01:40 CEST → 02:10 CET is 1h 30m, not the 30m the wall clocks suggest.
  EXPECT_TRUE(contains(md, "2026-10-25 01:10:00 (2026-10-25 02:10:00 CET) | +01:30:00 |")) << md;
  // 23:40 UTC → 02:00 UTC.
  EXPECT_TRUE(contains(md,
                       "- **Incident duration:** 2h 20m 00s (first timeline event to "
                       "resolution)"))
      << md;
  EXPECT_TRUE(contains(md, "Times are UTC, with the channel's local time (Europe/Berlin)")) << md;

  const std::string html = api("/api/incidents/1/postmortem.html").body;
  EXPECT_TRUE(contains(html, "2026-10-25 02:10:00 CET")) << html;

  const std::string js = api("/api/incidents/1/postmortem.json").body;
  const json j = json::parse(js);
  EXPECT_EQ(j["incident"]["time_zone"], "Europe/Berlin");
  EXPECT_EQ(j["customer_impact"]["seconds"], 6600);
  bool summer = false, winter = false;
  for (const json& row : j["timeline"]) {
    if (row["occurred_at"] == "2026-10-24T23:40:00.000Z") {
      EXPECT_EQ(row["occurred_at_local"], "2026-10-25T01:40:00.000+02:00");
      summer = true;
    }
    if (row["occurred_at"] == "2026-10-25T01:10:00.000Z") {
      EXPECT_EQ(row["occurred_at_local"], "2026-10-25T02:10:00.000+01:00");
      winter = true;
    }
  }
  EXPECT_TRUE(summer && winter) << j["timeline"].dump(2);
  expect_schema_valid(js);

  // The chat: the timeline list shows both.
  r = say(kBob, "/timeline", "list");
  EXPECT_TRUE(contains(all_text(r), "local Europe/Berlin in brackets")) << r;
  EXPECT_TRUE(contains(all_text(r), "2026-10-25 01:10:00 (2026-10-25 02:10:00 CET)")) << r;
}

// New York's clocks go back from 02:00 EDT to 01:00 EST at 06:00 UTC on 2026-11-01; the
// incident begins before local midnight (on 31 October, local) and is mitigated in the
// repeated hour.
TEST_P(TimeZoneE2E, NewYorkAcrossLocalMidnightAndTheRepeatedHour) {
  clock_at("2026-11-01 03:30:00");  // 23:30 EDT on 31 October
  start_with_fake_clock();
  say(kAlice, "/incident", "tz America/New_York");
  say(kAlice, "/incident", "start sev3 Queue backlog");
  json r = say(kAlice, "/timeline", "11:20pm #impact 4,000 jobs waiting");
  EXPECT_TRUE(contains(all_text(r), "2026-11-01 03:20:00 UTC (2026-10-31 23:20:00 EDT)")) << r;

  clock_at("2026-11-01 06:40:00");  // 01:40 EST, the second 01:40 of the night
  r = say(kAlice, "/incident", "mitigated 01:30 drained");
  // Read as the later 01:30 (EST), 06:30 UTC: 3h 10m after impact, not 2h 10m.
  EXPECT_TRUE(contains(all_text(r), "2026-11-01 06:30:00 UTC (2026-11-01 01:30:00 EST)")) << r;
  clock_at("2026-11-01 06:45:00");
  say(kAlice, "/incident", "resolved");

  const std::string md = api("/api/incidents/1/postmortem.md").body;
  EXPECT_TRUE(contains(md,
                       "- **Customer impact:** 3h 10m 00s (impact began 2026-11-01 03:20:00 UTC "
                       "(2026-10-31 23:20:00 EDT) → mitigated 2026-11-01 06:30:00 UTC "
                       "(2026-11-01 01:30:00 EST))"))
      << md;
  // One UTC date, but two local ones: the local times show their dates.
  EXPECT_TRUE(contains(md,
                       "All times UTC on 2026-11-01, local time in America/New_York in "
                       "brackets."))
      << md;
  EXPECT_TRUE(contains(md, "| 03:20:00 (2026-10-31 23:20:00 EDT) |")) << md;
  EXPECT_TRUE(contains(md, "| 06:30:00 (2026-11-01 01:30:00 EST) |")) << md;
  EXPECT_TRUE(contains(md, "(first timeline event to resolution)")) << md;
  // 03:20 → 06:45 UTC.
  EXPECT_TRUE(contains(md, "- **Incident duration:** 3h 25m 00s")) << md;

  const json j = api_json("/api/incidents/1/postmortem.json");
  EXPECT_EQ(j["customer_impact"]["seconds"], 3 * 3600 + 10 * 60);
  EXPECT_EQ(j["total_duration"]["seconds"], 3 * 3600 + 25 * 60);
  EXPECT_EQ(j["timeline"][0]["occurred_at_local"], "2026-10-31T23:20:00.000-04:00");
  expect_schema_valid(j.dump());
}

// A user whose Slack profile says Europe/Berlin, in a channel on the service's UTC: their
// first backdate falls back to the channel's zone (the look-up is not waited for) and says
// so; once users.info has answered, their "14:05" is 14:05 in Berlin, 13:05 UTC.
TEST_P(TimeZoneE2E, ASlackUsersOwnZoneReadsTheirBackdatedTimes) {
  standin_.add_user(SlackStandInUser{"U0BOB", "bob", "Bob", "", "Europe/Berlin", 3600});
  standin_.add_user(SlackStandInUser{"U0ALICE", "alice", "Alice", "", "UTC", 0});
  clock_at("2026-11-20 15:00:00");
  start_with_fake_clock();
  say(kAlice, "/incident", "start sev3 Search slow");

  json r = say(kBob, "/timeline", "14:05 first report from support");
  EXPECT_TRUE(contains(all_text(r), "2026-11-20 14:05:00 UTC")) << r;
  EXPECT_TRUE(contains(all_text(r), "read as 14:05 UTC")) << r;
  EXPECT_TRUE(contains(all_text(r), "since yours is not known to Scribe yet")) << r;

  ASSERT_TRUE(standin_.wait_for_calls("users.info", 2));
  ASSERT_TRUE(scribe_->wait_for_log("time zone of Slack user U0BOB: Europe/Berlin",
                                    std::chrono::seconds(10)))
      << scribe_->logs();
  r = say(kBob, "/timeline", "14:05 search p99 at 2.4 s");
  EXPECT_TRUE(contains(all_text(r), "2026-11-20 13:05:00 UTC")) << r;
  EXPECT_TRUE(contains(all_text(r),
                       "read as 14:05 Europe/Berlin (2026-11-20 13:05:00 UTC): your "
                       "own time zone; this channel's is UTC"))
      << r;
  // Relative times mean the same everywhere: no zone is named.
  r = say(kBob, "/timeline", "-10m cache warmed");
  EXPECT_TRUE(contains(all_text(r), "2026-11-20 14:50:00 UTC")) << r;
  EXPECT_FALSE(contains(all_text(r), "read as")) << r;
  // Alice's zone is the channel's: her 14:05 is UTC and nothing is said about it.
  r = say(kAlice, "/timeline", "14:05 alice's note");
  EXPECT_TRUE(contains(all_text(r), "2026-11-20 14:05:00 UTC")) << r;
  EXPECT_FALSE(contains(all_text(r), "read as")) << r;

  // The look-up is cached: no further users.info calls for either.
  const std::size_t calls = standin_.calls_to("users.info").size();
  say(kBob, "/timeline", "14:06 another");
  say(kAlice, "/timeline", "list");
  EXPECT_EQ(standin_.calls_to("users.info").size(), calls);
}

}  // namespace
}  // namespace scribe
