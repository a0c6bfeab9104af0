#include "postmortem/json.h"

#include <chrono>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "postmortem/draft.h"
#include "test_support.h"

namespace scribe {
namespace {

using nlohmann::json;
using test::event;
using test::kAlice;
using test::kBob;
using test::ts;

// Mitigated, not resolved; one impact event, one summary note, two actions.
IncidentRecord record() {
  IncidentRecord r;
  r.incident.id = 42;
  r.incident.title = "Checkout errors";
  r.incident.severity = Severity::kSev1;
  r.incident.status = IncidentStatus::kMitigated;
  r.incident.commander = kAlice;
  r.incident.declared_at = ts("2026-11-20 14:05:30.250");
  r.incident.mitigated_at = ts("2026-11-20 14:30:00");
  r.events.push_back(event(2, "2026-11-20 14:00:00", kBob, EventKind::kImpact, "5xx at 12%"));
  r.events.push_back(event(1, "2026-11-20 14:05:30.250", kAlice, EventKind::kDeclared, "Declared"));
  r.events.push_back(event(3, "2026-11-20 14:30:00", kAlice, EventKind::kMitigated, "Rolled back"));
  Note n;
  n.section = NoteSection::kSummary;
  n.author = kAlice;
  n.text = "Bad deploy.";
  n.created_at = ts("2026-11-20 14:40:00");
  r.notes.push_back(n);
  n.section = NoteSection::kWentWell;
  n.text = "Fast rollback.";
  r.notes.push_back(n);
  ActionItem a;
  a.seq = 1;
  a.text = "Add a canary";
  a.owner = kBob;
  a.due = "2026-11-27";
  a.kind = ActionKind::kPrevent;
  r.actions.push_back(a);
  ActionItem b;
  b.seq = 2;
  b.text = "Improve alerting";
  b.status = ActionStatus::kDone;
  b.done_at = ts("2026-11-21 09:00:00");
  r.actions.push_back(b);
  return r;
}

json parsed(IncidentRecord r = record()) {
  const std::string text = render_json(assemble_draft(std::move(r), ts("2026-11-20 15:00:00")));
  return json::parse(text);
}

TEST(PostmortemJson, Incident) {
  const json j = parsed();
  const json& inc = j.at("incident");
  EXPECT_EQ(inc.at("id"), 42);
  EXPECT_EQ(inc.at("ref"), "INC-42");
  EXPECT_EQ(inc.at("title"), "Checkout errors");
  EXPECT_EQ(inc.at("severity"), "sev1");
  EXPECT_EQ(inc.at("status"), "mitigated");
  EXPECT_EQ(inc.at("commander"), (json{{"id", "U1"}, {"name", "Alice"}}));
  EXPECT_EQ(inc.at("declared_at"), "2026-11-20T14:05:30.250Z");
  EXPECT_EQ(inc.at("mitigated_at"), "2026-11-20T14:30:00.000Z");
  EXPECT_TRUE(inc.at("resolved_at").is_null());
  EXPECT_TRUE(inc.at("closed_at").is_null());
  EXPECT_EQ(j.at("generated_at"), "2026-11-20T15:00:00.000Z");
}

TEST(PostmortemJson, ParticipantsAndTotalDuration) {
  const json j = parsed();
  ASSERT_EQ(j.at("participants").size(), 2u);
  EXPECT_EQ(j["participants"][0].at("name"), "Alice");
  EXPECT_EQ(j["participants"][1].at("id"), "U2");
  const json& total = j.at("total_duration");
  EXPECT_EQ(total.at("from"), "2026-11-20T14:00:00.000Z");
  EXPECT_EQ(total.at("to"), "2026-11-20T15:00:00.000Z");
  EXPECT_EQ(total.at("ongoing"), true);
  EXPECT_EQ(total.at("seconds"), 3600);
  EXPECT_EQ(total.at("display"), "1h 00m 00s");
}

TEST(PostmortemJson, CustomerImpactApartFromTotalDuration) {
  const json j = parsed();  // impact began 14:00, mitigated 14:30, not resolved
  const json& ci = j.at("customer_impact");
  EXPECT_EQ(ci.at("from").at("name"), "impact began");
  EXPECT_EQ(ci.at("from").at("at"), "2026-11-20T14:00:00.000Z");
  EXPECT_EQ(ci.at("to").at("name"), "mitigated");
  EXPECT_EQ(ci.at("to").at("at"), "2026-11-20T14:30:00.000Z");
  EXPECT_EQ(ci.at("ongoing"), false);
  EXPECT_EQ(ci.at("seconds"), 1800);
  EXPECT_EQ(ci.at("display"), "30m 00s");
  EXPECT_TRUE(ci.at("remark").is_null());
  EXPECT_EQ(j.at("total_duration").at("seconds"), 3600);
}

TEST(PostmortemJson, Sections) {
  const json s = parsed().at("sections");
  for (const char* key :
       {"summary", "impact", "cause", "why", "went_well", "went_wrong", "lucky", "lessons"}) {
    ASSERT_TRUE(s.contains(key)) << key;
    EXPECT_TRUE(s[key].is_array()) << key;
  }
  ASSERT_EQ(s["summary"].size(), 1u);
  EXPECT_EQ(s["summary"][0].at("text"), "Bad deploy.");
  EXPECT_EQ(s["summary"][0].at("author").at("name"), "Alice");
  EXPECT_EQ(s["summary"][0].at("created_at"), "2026-11-20T14:40:00.000Z");
  EXPECT_EQ(s["went_well"][0].at("text"), "Fast rollback.");
  EXPECT_TRUE(s["impact"].empty());
}

TEST(PostmortemJson, Durations) {
  const json j = parsed();
  EXPECT_EQ(j.at("impact_events"), json::array({2}));
  const json& d = j.at("durations");
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].at("id"), "time_to_detect");
  EXPECT_EQ(d[0].at("measure"), "Time to detect");
  EXPECT_EQ(d[0].at("from").at("name"), "impact began");
  EXPECT_EQ(d[0].at("from").at("at"), "2026-11-20T14:00:00.000Z");
  EXPECT_EQ(d[0].at("to").at("at"), "2026-11-20T14:05:30.250Z");
  EXPECT_EQ(d[0].at("to").at("fallback"), "declared; no #detected or #alert event");
  EXPECT_EQ(d[0].at("seconds"), 330);
  EXPECT_EQ(d[0].at("display"), "5m 30s");
  EXPECT_TRUE(d[0].at("remark").is_null());
  EXPECT_EQ(d[1].at("seconds"), 1800);
  EXPECT_TRUE(d[1].at("to").at("fallback").is_null());
  EXPECT_EQ(d[2].at("id"), "time_to_resolve");
  EXPECT_TRUE(d[2].at("seconds").is_null());
  EXPECT_TRUE(d[2].at("to").at("at").is_null());
  EXPECT_EQ(d[2].at("to").at("missing"), "not resolved yet");
  EXPECT_EQ(d[2].at("display"), "unknown — not resolved yet");
}

TEST(PostmortemJson, Timeline) {
  const json t = parsed().at("timeline");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].at("seq"), 2);
  EXPECT_EQ(t[0].at("occurred_at"), "2026-11-20T14:00:00.000Z");
  EXPECT_EQ(t[0].at("offset_seconds"), 0);
  EXPECT_EQ(t[0].at("author"), (json{{"id", "U2"}, {"name", "Bob"}}));
  EXPECT_EQ(t[0].at("kind"), "impact");
  EXPECT_EQ(t[0].at("text"), "5xx at 12%");
  EXPECT_EQ(t[1].at("offset_seconds"), 330);
  EXPECT_EQ(t[2].at("kind"), "mitigated");
}

TEST(PostmortemJson, Actions) {
  const json a = parsed().at("actions");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].at("seq"), 1);
  EXPECT_EQ(a[0].at("text"), "Add a canary");
  EXPECT_EQ(a[0].at("owner").at("name"), "Bob");
  EXPECT_EQ(a[0].at("due"), "2026-11-27");
  EXPECT_EQ(a[0].at("kind"), "prevent");
  EXPECT_EQ(a[0].at("status"), "open");
  EXPECT_TRUE(a[0].at("done_at").is_null());
  EXPECT_TRUE(a[1].at("owner").is_null());
  EXPECT_TRUE(a[1].at("due").is_null());
  EXPECT_TRUE(a[1].at("kind").is_null());
  EXPECT_EQ(a[1].at("status"), "done");
  EXPECT_EQ(a[1].at("done_at"), "2026-11-21T09:00:00.000Z");
}

TEST(PostmortemJson, KeysKeepTheirOrder) {
  const std::string text = render_json(assemble_draft(record(), ts("2026-11-20 15:00:00")));
  const std::size_t incident = text.find("\"incident\"");
  const std::size_t timeline = text.find("\"timeline\"");
  const std::size_t generated = text.find("\"generated_at\"");
  EXPECT_LT(incident, timeline);
  EXPECT_LT(timeline, generated);
}

TEST(PostmortemJson, CompactWhenAsked) {
  const Draft d = assemble_draft(record(), ts("2026-11-20 15:00:00"));
  const std::string compact = render_json(d, -1);
  EXPECT_EQ(compact.find('\n'), std::string::npos);
  EXPECT_EQ(json::parse(compact), json::parse(render_json(d)));
}

TEST(PostmortemJson, InvalidUtf8IsRepairedNotFatal) {
  IncidentRecord r = record();
  r.events[0].text = std::string("bad \xff\xfe byte");
  std::string text;
  ASSERT_NO_THROW(text = render_json(assemble_draft(std::move(r), ts("2026-11-20 15:00:00"))));
  const json j = json::parse(text);
  EXPECT_EQ(j["timeline"][0]["text"], "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");
}

TEST(PostmortemJson, TenThousandEvents) {
  IncidentRecord r = record();
  for (int i = 0; i < 10'000; ++i) {
    TimelineEvent e = event(i + 10, "2026-11-20 14:31:00", kBob, EventKind::kNote, "x");
    e.occurred_at += std::chrono::seconds{i};
    r.events.push_back(std::move(e));
  }
  const json j = json::parse(render_json(assemble_draft(std::move(r), ts("2026-11-21 00:00:00"))));
  ASSERT_EQ(j.at("timeline").size(), 10'003u);
  EXPECT_EQ(j["timeline"][10'002].at("seq"), 10'009);
  EXPECT_EQ(j["timeline"][10'002].at("offset_seconds"), 31 * 60 + 9'999);
}

}  // namespace
}  // namespace scribe
