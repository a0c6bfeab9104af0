// compute_trends over hand-built rows, and trends_rows over a real SQLite store: counts,
// medians and p90s, the impact-start fallback, action counts by owner and kind, the share
// done by the due date, and recurring causes (tagged, and untagged with the same
// normalised text; a different cause is not recurring).
#include "postmortem/trends.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "unit/test_support.h"

namespace scribe {
namespace {

using std::chrono::minutes;

Incident incident(IncidentId id, Severity sev, Timestamp declared, std::optional<minutes> mitigated,
                  std::optional<minutes> resolved) {
  Incident i;
  i.id = id;
  i.severity = sev;
  i.declared_at = declared;
  if (mitigated) i.mitigated_at = declared + *mitigated;
  if (resolved) i.resolved_at = declared + *resolved;
  return i;
}

ActionItem item(IncidentId inc, std::string owner, ActionKind kind, ActionStatus status,
                std::optional<std::string> due, std::optional<Timestamp> done_at = {}) {
  ActionItem a;
  a.incident_id = inc;
  a.owner = Person{"U" + owner, owner};
  a.kind = kind;
  a.status = status;
  a.due = std::move(due);
  a.done_at = done_at;
  return a;
}

Note cause(IncidentId inc, std::string text) {
  Note n;
  n.incident_id = inc;
  n.section = NoteSection::kCause;
  n.text = std::move(text);
  return n;
}

TEST(Trends, CountsDurationsActionsAndRecurringCauses) {
  const Timestamp now = test::utc(2026, 12, 20, 12, 0);
  const Timestamp since = test::utc(2026, 9, 1, 0, 0);
  TrendsRows rows;
  rows.incidents = {
      incident(1, Severity::kSev1, test::utc(2026, 10, 3, 10, 0), minutes{30}, minutes{90}),
      incident(2, Severity::kSev2, test::utc(2026, 10, 9, 10, 0), std::nullopt, minutes{60}),
      incident(3, Severity::kSev2, test::utc(2026, 11, 1, 10, 0), minutes{10}, minutes{20}),
      incident(4, Severity::kSev4, test::utc(2026, 12, 1, 10, 0), std::nullopt, std::nullopt),
  };
  // #1: impact began 20 min before the declaration, alert 5 min before it.
  rows.impact_started = {{1, test::utc(2026, 10, 3, 9, 40)}};
  rows.detected = {{1, test::utc(2026, 10, 3, 9, 55)}, {3, test::utc(2026, 11, 1, 10, 5)}};
  rows.actions = {
      item(1, "dave", ActionKind::kPrevent, ActionStatus::kDone, "2026-10-10",
           test::utc(2026, 10, 10, 23, 0)),  // done on the due day: on time
      item(1, "dave", ActionKind::kDetect, ActionStatus::kDone, "2026-10-10",
           test::utc(2026, 10, 12, 9, 0)),                                       // late
      item(2, "erin", ActionKind::kDetect, ActionStatus::kOpen, "2026-12-01"),   // overdue
      item(2, "erin", ActionKind::kProcess, ActionStatus::kOpen, "2026-12-30"),  // not yet due
      item(3, "dave", ActionKind::kNone, ActionStatus::kDropped, "2026-11-05"),
  };
  rows.causes = {
      cause(1, "Default config shipped #cause:Config-Default"),
      cause(3, "another default #cause:config-default"),
      cause(2, "Connection pool exhausted!"),
      cause(4, "connection   pool, exhausted"),
      cause(4, "disk full"),
  };

  const Trends t = compute_trends(rows, since, now);
  EXPECT_EQ(t.incidents, 4u);
  ASSERT_EQ(t.by_month_severity.size(), 3u);
  EXPECT_EQ(t.by_month_severity.at("2026-10"), (std::array<int, 4>{1, 1, 0, 0}));
  EXPECT_EQ(t.by_month_severity.at("2026-11"), (std::array<int, 4>{0, 1, 0, 0}));
  EXPECT_EQ(t.by_month_severity.at("2026-12"), (std::array<int, 4>{0, 0, 0, 1}));

  // Detect: #1 15 min (impact 9:40 -> alert 9:55); #2, #4 0 (declared, no impact event);
  // #3 0 (declared before its #detected). Sorted 0 0 0 15: median 0, p90 (rank 4) 15.
  EXPECT_EQ(t.time_to_detect.count, 4u);
  EXPECT_DOUBLE_EQ(*t.time_to_detect.median_minutes, 0.0);
  EXPECT_DOUBLE_EQ(*t.time_to_detect.p90_minutes, 15.0);
  // Mitigate: #1 50, #2 60 (resolution stands in), #3 10; #4 not mitigated.
  EXPECT_EQ(t.time_to_mitigate.count, 3u);
  EXPECT_DOUBLE_EQ(*t.time_to_mitigate.median_minutes, 50.0);
  EXPECT_DOUBLE_EQ(*t.time_to_mitigate.p90_minutes, 60.0);
  EXPECT_EQ(t.impact_minutes.count, 3u);
  // Resolve: #1 110, #2 60, #3 20: median 60.
  EXPECT_EQ(t.time_to_resolve.count, 3u);
  EXPECT_DOUBLE_EQ(*t.time_to_resolve.median_minutes, 60.0);
  EXPECT_DOUBLE_EQ(*t.time_to_resolve.p90_minutes, 110.0);
  EXPECT_EQ(t.impact_start_fallbacks, 3u);

  EXPECT_EQ(t.actions_total.open, 2);
  EXPECT_EQ(t.actions_total.overdue, 1);
  EXPECT_EQ(t.actions_total.done, 2);
  EXPECT_EQ(t.actions_total.dropped, 1);
  EXPECT_EQ(t.actions_by_owner.at("dave").done, 2);
  EXPECT_EQ(t.actions_by_owner.at("dave").dropped, 1);
  EXPECT_EQ(t.actions_by_owner.at("erin").overdue, 1);
  EXPECT_EQ(t.actions_by_kind.at("detect").done, 1);
  EXPECT_EQ(t.actions_by_kind.at("detect").open, 1);
  // Due items done or overdue: the two done and the overdue one; one on time.
  EXPECT_EQ(t.due_considered, 3);
  EXPECT_EQ(t.done_by_due, 1);

  ASSERT_EQ(t.recurring_causes.size(), 2u);
  std::map<std::string, std::vector<IncidentId>> causes;
  for (const auto& c : t.recurring_causes) causes[c.cause] = c.incidents;
  EXPECT_EQ(causes.at("#cause:config-default"), (std::vector<IncidentId>{1, 3}));
  EXPECT_EQ(causes.at("connection pool exhausted"), (std::vector<IncidentId>{2, 4}));
  EXPECT_EQ(causes.count("disk full"), 0u) << "one incident is not a recurrence";

  const std::string md = trends_markdown(t);
  EXPECT_NE(md.find("| 2026-10 | 1 | 1 | 0 | 0 | 2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("3 of 4 incidents have none"), std::string::npos) << md;
  EXPECT_NE(md.find("INC-2, INC-4"), std::string::npos) << md;
  const auto j = nlohmann::json::parse(trends_json(t));
  EXPECT_EQ(j["durations"]["time_to_resolve"]["median_minutes"], 60.0);
  EXPECT_EQ(j["actions"]["by_owner"]["erin"]["overdue"], 1);
  EXPECT_NE(trends_html(t).find("<table"), std::string::npos);
}

TEST(Trends, EmptyAndSingleValues) {
  const Trends empty = compute_trends({}, test::utc(2026, 1, 1, 0, 0), test::utc(2026, 2, 1, 0, 0));
  EXPECT_EQ(empty.incidents, 0u);
  EXPECT_FALSE(empty.time_to_resolve.median_minutes);
  EXPECT_NE(trends_markdown(empty).find("No cause is shared"), std::string::npos);
  EXPECT_EQ(normalise_cause("  The DB -- was,  FULL!! "), "the db was full");
}

TEST(Trends, RowsFromSqliteHonourSinceAndDeletedEvents) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("scribe-trends-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto store = open_store((dir / "t.db").string(), StoreOptions{});
    store->write([](Transaction& tx) {
      Incident old_one;
      old_one.channel = {"slack", "T1", "C1"};
      old_one.declared_at = test::utc(2026, 1, 1, 0, 0);
      const IncidentId a = tx.insert_incident(old_one);
      Incident recent = old_one;
      recent.channel.channel = "C2";
      recent.declared_at = test::utc(2026, 11, 1, 10, 0);
      const IncidentId b = tx.insert_incident(recent);
      for (IncidentId id : {a, b}) {
        TimelineEvent e;
        e.incident_id = id;
        e.kind = EventKind::kImpact;
        e.occurred_at = test::utc(2026, 11, 1, 9, 0);
        e.recorded_at = e.occurred_at;
        tx.append_event(e);
        e.kind = EventKind::kAlert;
        e.occurred_at = test::utc(2026, 11, 1, 9, 30);
        TimelineEvent deleted = tx.append_event(e);
        deleted.deleted = true;
        EventRevision r;
        r.event_id = deleted.id;
        r.change = "delete";
        deleted.revision = 1;
        tx.revise_event(deleted, r);
        Note n;
        n.incident_id = id;
        n.section = NoteSection::kCause;
        n.text = "x #cause:y";
        tx.add_note(n);
        n.section = NoteSection::kLesson;
        tx.add_note(n);
        ActionItem act;
        act.incident_id = id;
        act.text = "t";
        tx.add_action(act);
      }
    });
    TrendsRows rows;
    store->read([&](Transaction& tx) { rows = tx.trends_rows(test::utc(2026, 10, 1, 0, 0)); });
    ASSERT_EQ(rows.incidents.size(), 1u);
    EXPECT_EQ(rows.incidents[0].channel.channel, "C2");
    EXPECT_EQ(rows.actions.size(), 1u);
    EXPECT_EQ(rows.causes.size(), 1u) << "cause notes only";
    ASSERT_EQ(rows.impact_started.size(), 1u);
    EXPECT_EQ(rows.impact_started[0].second, test::utc(2026, 11, 1, 9, 0));
    EXPECT_TRUE(rows.detected.empty()) << "a deleted #alert does not count";
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace scribe
