// End-to-end: action items through Slack slash commands (signed over HTTP, or in Socket
// Mode) to the real `scribe serve`: a Slack mention with a due date and a kind stores all
// three, a bad number or an unclear part is answered only to the caller with usage and
// stores nothing, and an item's changes are on its audit trail.
#include <chrono>
#include <string>

#include <date/date.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fixture.h"
#include "e2e/socket_fixture.h"

namespace scribe {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using json = nlohmann::json;
using testing::kAlice;
using testing::SlackUser;

// Both Slack modes, HTTP and Socket Mode, through the same test code.
using SlackActionsE2E = testing::SlackModesE2E;
INSTANTIATE_TEST_SUITE_P(Modes, SlackActionsE2E, testing::kBothSlackModes, testing::mode_name);

const SlackUser kDave{"U0DAVE", "dave"};

// Today + `days` as Scribe reads "+Nd" (the default zone is UTC).
std::string utc_day_in(int days) {
  const auto today = date::floor<date::days>(std::chrono::system_clock::now());
  return date::format("%F", today + date::days{days});
}

TEST_P(SlackActionsE2E, MentionDueAndKindAreStoredAndBadNumbersRecordNothing) {
  slack_->command("/incident", "start sev2 Checkout API returning 502s", "C0INC", kAlice);

  const std::string due_before = utc_day_in(14);
  json r =
      slack_->command("/action", "Write runbook <@U0DAVE|dave> due +2w #mitigate", "C0INC", kAlice);
  const std::string due_after = utc_day_in(14);
  EXPECT_EQ(r["response_type"], "in_channel") << r.dump();
  json stored = api_json("/api/incidents/1");
  ASSERT_EQ(stored["actions"].size(), 1u) << stored.dump(2);
  const json& item = stored["actions"][0];
  EXPECT_EQ(item["text"], "Write runbook");
  EXPECT_EQ(item["owner"]["id"], "U0DAVE");
  EXPECT_EQ(item["owner"]["name"], "dave");
  EXPECT_THAT(item["due"].get<std::string>(), AnyOf(due_before, due_after));
  EXPECT_EQ(item["kind"], "mitigate");
  EXPECT_EQ(item["status"], "open");

  // Refused, only to the caller, with usage; the incident is exactly as it was.
  const std::string before = api("/api/incidents/1").body;
  struct Refusal {
    std::string command, text, says;
  };
  for (const Refusal& c : {
           Refusal{"/action", "done -1", "`-1` is not an action item number"},
           Refusal{"/action", "done 99999999999999999999", "is not an action item number"},
           Refusal{"/action", "reopen 1e3", "`1e3` is not an action item number"},
           Refusal{"/action", "Write runbook <@U0DAVE|dave> due +2w #mitigate #process",
                   "`#mitigate` and `#process`"},
           Refusal{"/action", "Write runbook <@U0DAVE|dave> due someday",
                   "`someday` is not a due date"},
           Refusal{"/action", "Write runbook <@U0DAVE|dave> due 9999-12-31", "5 years"},
           Refusal{"/action", "drop the legacy table <@U0DAVE|dave>",
                   "`/action \\\"drop the legacy table\\\" @dave`"},
           Refusal{"/timeline", "edit 2.5 x", "`2.5` is not an event number"},
           Refusal{"/incident", "sev -1", "`-1` is not a severity"},
       }) {
    r = slack_->command(c.command, c.text, "C0INC", kAlice);
    EXPECT_EQ(r["response_type"], "ephemeral") << c.text << ": " << r.dump();
    EXPECT_THAT(r.dump(), HasSubstr(c.says)) << c.text;
    EXPECT_THAT(r.dump(), HasSubstr("Usage")) << c.text;
  }
  EXPECT_EQ(api("/api/incidents/1").body, before);

  // The owner's own view, then the item dropped with a reason, on the audit trail.
  r = slack_->command("/action", "mine", "C0OTHER", kDave);
  EXPECT_EQ(r["response_type"], "ephemeral");
  EXPECT_THAT(r.dump(), HasSubstr("INC-1"));
  EXPECT_THAT(r.dump(), HasSubstr("Write runbook"));
  r = slack_->command("/action", "drop 1 superseded by the new failover tooling", "C0INC", kAlice);
  EXPECT_EQ(r["response_type"], "in_channel") << r.dump();
  restart();
  stored = api_json("/api/incidents/1");
  EXPECT_EQ(stored["actions"][0]["status"], "dropped");
  EXPECT_EQ(stored["actions"][0]["drop_reason"], "superseded by the new failover tooling");
  ASSERT_EQ(stored["action_revisions"].size(), 1u);
  EXPECT_EQ(stored["action_revisions"][0]["field"], "status");
  EXPECT_EQ(stored["action_revisions"][0]["after"],
            "dropped: superseded by the new failover tooling");
  EXPECT_EQ(stored["action_revisions"][0]["changed_by"]["id"], "U0ALICE");
  const HttpResult md = api("/api/incidents/1/postmortem.md");
  EXPECT_THAT(md.body, HasSubstr("won't do: superseded by the new failover tooling"));
  r = slack_->command("/action", "mine", "C0INC", kDave);
  EXPECT_THAT(r.dump(), HasSubstr("You own no open action items"));
}

// GET /api/actions lists items across incidents, filtered by owner and status; GET
// /api/trends counts them with the incidents; bad parameters are refused with 400; both
// need the bearer token.
TEST_P(SlackActionsE2E, ActionsAndTrendsAcrossIncidentsThroughTheApi) {
  slack_->command("/incident", "start sev2 Checkout API returning 502s", "C0ONE", kAlice);
  slack_->command("/action", "Add a canary for config pushes <@U0DAVE|dave> due +1w #detect",
                  "C0ONE", kAlice);
  slack_->command("/action", "Write the rollback runbook <@U0BOB|bob> due +2w #mitigate", "C0ONE",
                  kAlice);
  slack_->command("/incident", "start sev3 Search slow for EU users", "C0TWO", kAlice);
  slack_->command("/action", "Alert on p99 search latency <@U0DAVE|dave> due +3d #detect", "C0TWO",
                  kAlice);
  slack_->command("/action", "done 1", "C0TWO", kAlice);

  const json all = api_json("/api/actions");
  ASSERT_EQ(all["actions"].size(), 3u) << all.dump(2);

  const json daves = api_json("/api/actions?owner=U0DAVE");
  ASSERT_EQ(daves["actions"].size(), 2u) << daves.dump(2);
  for (const json& a : daves["actions"]) EXPECT_EQ(a["owner"]["id"], "U0DAVE") << a.dump();

  const json open_daves = api_json("/api/actions?owner=U0DAVE&status=open");
  ASSERT_EQ(open_daves["actions"].size(), 1u) << open_daves.dump(2);
  EXPECT_EQ(open_daves["actions"][0]["text"], "Add a canary for config pushes");
  EXPECT_EQ(open_daves["actions"][0]["overdue"], false);

  const json done = api_json("/api/actions?status=done");
  ASSERT_EQ(done["actions"].size(), 1u) << done.dump(2);
  EXPECT_EQ(done["actions"][0]["text"], "Alert on p99 search latency");
  EXPECT_EQ(api_json("/api/actions?overdue=true")["actions"].size(), 0u);

  for (const std::string bad :
       {"/api/actions?status=finished", "/api/actions?overdue=maybe", "/api/actions?limit=0",
        "/api/actions?colour=red", "/api/trends?format=pdf", "/api/trends?since=forever"}) {
    EXPECT_EQ(api(bad).status, 400) << bad << ": " << api(bad).body;
  }
  EXPECT_EQ(api("/api/actions", "wrong-token").status, 401);
  EXPECT_EQ(api("/api/trends", "wrong-token").status, 401);

  const json trends = api_json("/api/trends?since=30d");
  EXPECT_EQ(trends["incidents"], 2) << trends.dump(2);
  const json& totals = trends["actions"]["total"];
  EXPECT_EQ(totals["open"], 2) << trends.dump(2);
  EXPECT_EQ(totals["done"], 1) << trends.dump(2);
  EXPECT_EQ(totals["dropped"], 0) << trends.dump(2);
  int sev2 = 0;
  int sev3 = 0;
  for (const json& m : trends["by_month"]) {
    sev2 += m["sev2"].get<int>();
    sev3 += m["sev3"].get<int>();
  }
  EXPECT_EQ(sev2, 1);
  EXPECT_EQ(sev3, 1);
}

}  // namespace
}  // namespace scribe
