// End-to-end: recurrence and trends through signed Slack commands on the real `scribe serve`.
// Two incidents with the same cause tag are related, and two with similar untagged cause
// texts; an incident with a different cause is not. `/incident related` and the draft (JSON
// and Markdown) say so, with the earlier incident's items still open. `/incident trends`
// shows what `scribe report --format md` prints.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using testing::json;
using testing::kAlice;
using ::testing::Not;

class RecurrenceE2E : public testing::ScribeE2E {
 protected:
  json say(const std::string& command, const std::string& text, const std::string& channel) {
    return slack_->command(command, text, channel, kAlice);
  }
  // The ids of the incidents in a draft's related_incidents.
  std::vector<int> related_ids(int incident) {
    const json draft = api_json("/api/incidents/" + std::to_string(incident) + "/postmortem.json");
    std::vector<int> ids;
    for (const json& r : draft.value("related_incidents", json::array())) {
      ids.push_back(r["id"].get<int>());
    }
    return ids;
  }
};

TEST_F(RecurrenceE2E, SameTagOrSimilarCauseRelatesIncidentsADifferentCauseDoesNot) {
  // 1 and 2: the same tag, different words.
  say("/incident", "start sev2 Feature flag outage #service:checkout", "C1");
  say("/incident", "cause A flag shipped enabled in production #cause:config-default", "C1");
  say("/action", "Lint flag defaults in CI due 2030-01-10 #prevent", "C1");
  say("/incident", "start sev3 Gateway refusing cards", "C2");
  say("/incident", "cause Timeouts left at the library default #cause:config-default", "C2");
  // 3 and 4: no tags, similar cause texts.
  say("/incident", "start sev2 Search timing out", "C3");
  say("/incident", "cause A reindex job saturated the search cluster's disks", "C3");
  say("/incident", "start sev2 Search slow again", "C4");
  say("/incident", "cause The search cluster disks were saturated by a reindexing job", "C4");
  // 5: a different cause that shares a word or two with 3 and 4.
  say("/incident", "start sev2 Search down", "C5");
  say("/incident", "cause The search cluster certificate expired", "C5");

  EXPECT_EQ(related_ids(2), std::vector<int>{1});
  EXPECT_EQ(related_ids(4), std::vector<int>{3});
  EXPECT_EQ(related_ids(5), std::vector<int>{});
  EXPECT_EQ(related_ids(1), std::vector<int>{}) << "only earlier incidents";

  const json draft = api_json("/api/incidents/2/postmortem.json");
  const json& one = draft["related_incidents"][0];
  EXPECT_EQ(one["shared_cause_tags"], json::array({"#cause:config-default"}));
  EXPECT_EQ(one["services"], json::array({"#service:checkout"}));
  ASSERT_EQ(one["open_actions"].size(), 1u);
  EXPECT_EQ(one["open_actions"][0]["text"], "Lint flag defaults in CI");

  const HttpResult md = api("/api/incidents/4/postmortem.md");
  EXPECT_THAT(md.body, HasSubstr("## Related incidents"));
  EXPECT_THAT(md.body, HasSubstr("INC-3"));
  EXPECT_THAT(md.body, HasSubstr("similar cause"));
  const HttpResult html = api("/api/incidents/4/postmortem.html");
  EXPECT_THAT(html.body, HasSubstr("Related incidents"));
  EXPECT_THAT(api("/api/incidents/5/postmortem.md").body, Not(HasSubstr("Related incidents")));

  // `/incident related`, to the caller.
  json r = say("/incident", "related", "C2");
  EXPECT_EQ(r["response_type"], "ephemeral") << r.dump();
  EXPECT_THAT(r.dump(), HasSubstr("INC-1"));
  EXPECT_THAT(r.dump(), HasSubstr("#cause:config-default"));
  EXPECT_THAT(r.dump(), HasSubstr("Lint flag defaults in CI"));
  r = say("/incident", "related", "C4");
  EXPECT_THAT(r.dump(), HasSubstr("INC-3"));
  EXPECT_THAT(r.dump(), HasSubstr("similar cause"));
  r = say("/incident", "related", "C5");
  EXPECT_THAT(r.dump(), HasSubstr("No earlier incident"));
  EXPECT_THAT(r.dump(), Not(HasSubstr("INC-3")));
}

TEST_F(RecurrenceE2E, IncidentTrendsShowsTheFiguresOfScribeReport) {
  say("/incident", "start sev1 Checkout down", "C1");
  say("/incident", "cause Bad deploy #cause:deploy", "C1");
  say("/action", "Canary deploys due 2030-01-10 #prevent", "C1");
  say("/incident", "start sev3 Checkout slow", "C2");
  say("/incident", "cause Another bad deploy #cause:deploy", "C2");
  const json r = say("/incident", "trends 30d", "C2");
  EXPECT_EQ(r["response_type"], "ephemeral") << r.dump();
  EXPECT_THAT(r.dump(), HasSubstr("2 incidents"));
  const testing::CliResult report =
      testing::run_cli((dir_ / "scribe.db").string(), "report --since 30d --format json");
  ASSERT_EQ(report.status, 0) << report.out;
  const json figures = json::parse(report.out);
  EXPECT_EQ(figures["incidents"], 2) << report.out;
  // The recurring cause both name, in the reply as in the report.
  EXPECT_THAT(report.out, HasSubstr("#cause:deploy"));
  EXPECT_THAT(r.dump(), HasSubstr("#cause:deploy"));
  EXPECT_THAT(say("/incident", "trends soon", "C2").dump(), HasSubstr("not a span"));
}

}  // namespace
}  // namespace scribe
