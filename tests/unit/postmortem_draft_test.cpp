#include "postmortem/draft.h"

#include <chrono>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "test_support.h"

namespace scribe {
namespace {

using std::chrono::seconds;
using test::kAlice;
using test::kBob;
using test::kCarol;
using test::kDave;
using test::ts;

// As the store returns it: numbered, in incident 7, recorded when it happened.
TimelineEvent event(int seq, const char* when, const Person& author, EventKind kind,
                    std::string text) {
  TimelineEvent e = test::event(seq, when, author, kind, std::move(text));
  e.id = seq;
  e.incident_id = 7;
  e.recorded_at = e.occurred_at;
  return e;
}

Note note(NoteSection section, const char* when, const Person& author, std::string text) {
  Note n;
  n.incident_id = 7;
  n.section = section;
  n.created_at = ts(when);
  n.author = author;
  n.text = std::move(text);
  return n;
}

// Declared 14:05:30 by Alice; nothing else unless a test adds it.
IncidentRecord base_record() {
  IncidentRecord r;
  r.incident.id = 7;
  r.incident.title = "Checkout errors";
  r.incident.severity = Severity::kSev2;
  r.incident.commander = kAlice;
  r.incident.declared_at = ts("2026-11-20 14:05:30");
  r.events.push_back(event(1, "2026-11-20 14:05:30", kAlice, EventKind::kDeclared, "Declared"));
  return r;
}

void resolve(IncidentRecord& r, const char* when) {
  r.incident.status = IncidentStatus::kResolved;
  r.incident.resolved_at = ts(when);
  r.events.push_back(event(100, when, kAlice, EventKind::kResolved, "Resolved"));
}

const KeyDuration& row(const Draft& d, std::string_view id) {
  for (const auto& k : d.durations) {
    if (k.id == id) return k;
  }
  ADD_FAILURE() << "no duration " << id;
  static const KeyDuration none{};
  return none;
}

const Timestamp kNow = ts("2026-11-20 16:00:00");

TEST(PostmortemDraft, AllDurationsPresent) {
  IncidentRecord r = base_record();
  r.events.insert(r.events.begin(),
                  event(3, "2026-11-20 14:00:00", kBob, EventKind::kImpact, "5xx at 12%"));
  r.events.insert(r.events.begin() + 1,
                  event(2, "2026-11-20 14:03:10", kBob, EventKind::kAlert, "Pager fired"));
  r.incident.mitigated_at = ts("2026-11-20 14:30:00");
  resolve(r, "2026-11-20 15:00:00");
  const Draft d = assemble_draft(r, kNow);

  ASSERT_EQ(d.durations.size(), 4u);
  EXPECT_EQ(d.durations[0].id, "time_to_detect");
  EXPECT_EQ(d.durations[3].id, "declared_to_resolved");
  EXPECT_EQ(row(d, "time_to_detect").seconds, seconds{190});
  EXPECT_TRUE(row(d, "time_to_detect").to.fallback.empty());
  EXPECT_EQ(row(d, "time_to_mitigate").seconds, seconds{30 * 60});
  EXPECT_EQ(row(d, "time_to_resolve").seconds, seconds{3600});
  EXPECT_EQ(row(d, "declared_to_resolved").seconds, seconds{54 * 60 + 30});
  for (const auto& k : d.durations) {
    EXPECT_TRUE(k.remark.empty()) << k.id;
    EXPECT_TRUE(k.from.missing.empty() && k.to.missing.empty()) << k.id;
  }
  EXPECT_FALSE(d.ongoing);
  EXPECT_EQ(d.started_at, ts("2026-11-20 14:00:00"));
  EXPECT_EQ(d.ended_at, ts("2026-11-20 15:00:00"));
  EXPECT_EQ(d.duration, seconds{3600});
}

TEST(PostmortemDraft, DetectedFallsBackToTheDeclaration) {
  IncidentRecord r = base_record();
  r.events.insert(r.events.begin(),
                  event(2, "2026-11-20 14:00:00", kBob, EventKind::kImpact, "errors"));
  const Draft d = assemble_draft(r, kNow);
  const KeyDuration& ttd = row(d, "time_to_detect");
  EXPECT_EQ(ttd.to.at, ts("2026-11-20 14:05:30"));
  EXPECT_EQ(ttd.to.fallback, "declared; no #detected or #alert event");
  EXPECT_EQ(ttd.seconds, seconds{330});
}

TEST(PostmortemDraft, DeclarationBeforeALateDetectedEventCountsAsDetection) {
  IncidentRecord r = base_record();
  r.events.insert(r.events.begin(),
                  event(2, "2026-11-20 14:00:00", kBob, EventKind::kImpact, "errors"));
  r.events.push_back(event(3, "2026-11-20 14:06:00", kBob, EventKind::kDetected, "noticed"));
  const Draft d = assemble_draft(r, kNow);
  const KeyDuration& ttd = row(d, "time_to_detect");
  EXPECT_EQ(ttd.to.at, ts("2026-11-20 14:05:30"));
  EXPECT_EQ(ttd.to.fallback, "declared; before the first #detected or #alert event");
}

TEST(PostmortemDraft, MitigatedFallsBackToResolved) {
  IncidentRecord r = base_record();
  r.events.insert(r.events.begin(),
                  event(2, "2026-11-20 14:00:00", kBob, EventKind::kImpact, "errors"));
  resolve(r, "2026-11-20 14:45:00");
  const Draft d = assemble_draft(r, kNow);
  const KeyDuration& ttm = row(d, "time_to_mitigate");
  EXPECT_EQ(ttm.to.at, ts("2026-11-20 14:45:00"));
  EXPECT_EQ(ttm.to.fallback, "resolved; no separate mitigation");
  EXPECT_EQ(ttm.seconds, seconds{45 * 60});
}

TEST(PostmortemDraft, CustomerImpactAcrossMidnight) {
  IncidentRecord r = base_record();
  r.incident.declared_at = ts("2026-11-20 23:52:00");
  r.events.clear();
  r.events.push_back(event(1, "2026-11-20 23:52:00", kAlice, EventKind::kDeclared, "Declared"));
  r.events.push_back(event(2, "2026-11-20 23:47:30", kBob, EventKind::kImpact, "logins fail"));
  r.events.push_back(event(3, "2026-11-20 23:58:00", kBob, EventKind::kImpact, "and signups"));
  r.incident.mitigated_at = ts("2026-11-21 00:31:15");
  resolve(r, "2026-11-21 02:00:00");
  const Draft d = assemble_draft(r, ts("2026-11-21 03:00:00"));
  EXPECT_EQ(d.customer_impact.id, "customer_impact");
  EXPECT_EQ(d.customer_impact.from.at, ts("2026-11-20 23:47:30"));  // the earliest #impact
  EXPECT_EQ(d.customer_impact.to.at, ts("2026-11-21 00:31:15"));
  EXPECT_EQ(d.customer_impact.to.name, "mitigated");
  EXPECT_EQ(d.customer_impact.seconds, seconds{43 * 60 + 45});
  EXPECT_FALSE(d.impact_ongoing);
  // The incident's own duration is a different, longer span.
  EXPECT_EQ(d.duration, seconds{2 * 3600 + 12 * 60 + 30});
}

TEST(PostmortemDraft, CustomerImpactRunsToNowWhileNotMitigated) {
  IncidentRecord r = base_record();
  r.events.insert(r.events.begin(),
                  event(2, "2026-11-20 14:00:00", kBob, EventKind::kImpact, "errors"));
  const Draft d = assemble_draft(r, kNow);
  EXPECT_TRUE(d.impact_ongoing);
  EXPECT_EQ(d.customer_impact.to.at, kNow);
  EXPECT_EQ(d.customer_impact.to.fallback, "not mitigated yet");
  EXPECT_EQ(d.customer_impact.seconds, seconds{2 * 3600});
}

TEST(PostmortemDraft, CustomerImpactUnknownWithoutImpactEventEvenWhenResolved) {
  IncidentRecord r = base_record();
  resolve(r, "2026-11-20 15:00:00");
  const Draft d = assemble_draft(r, kNow);
  EXPECT_FALSE(d.customer_impact.seconds);
  EXPECT_FALSE(d.impact_ongoing);
  EXPECT_EQ(d.customer_impact.from.missing, "no #impact event marks when impact began");
  EXPECT_EQ(d.customer_impact.to.name, "resolved");
}

TEST(PostmortemDraft, CustomerImpactMitigatedBeforeImpactBeganIsZeroWithARemark) {
  IncidentRecord r = base_record();
  r.events.push_back(event(2, "2026-11-20 14:20:00", kBob, EventKind::kImpact, "late note"));
  r.incident.mitigated_at = ts("2026-11-20 14:10:00");
  const Draft d = assemble_draft(r, kNow);
  EXPECT_EQ(d.customer_impact.seconds, seconds{0});
  EXPECT_EQ(d.customer_impact.remark, "mitigated 10m 00s before impact began");
}

TEST(PostmortemDraft, UnknownWithoutImpactEvent) {
  IncidentRecord r = base_record();
  resolve(r, "2026-11-20 15:00:00");
  const Draft d = assemble_draft(r, kNow);
  for (const char* id : {"time_to_detect", "time_to_mitigate", "time_to_resolve"}) {
    const KeyDuration& k = row(d, id);
    EXPECT_FALSE(k.seconds) << id;
    EXPECT_FALSE(k.from.at) << id;
    EXPECT_EQ(k.from.missing, "no #impact event marks when impact began") << id;
  }
  EXPECT_EQ(row(d, "declared_to_resolved").seconds, seconds{54 * 60 + 30});
}

TEST(PostmortemDraft, UnknownWhileNotMitigatedOrResolved) {
  IncidentRecord r = base_record();
  r.events.insert(r.events.begin(),
                  event(2, "2026-11-20 14:00:00", kBob, EventKind::kImpact, "errors"));
  const Draft d = assemble_draft(r, kNow);
  EXPECT_TRUE(d.ongoing);
  EXPECT_EQ(d.ended_at, kNow);
  EXPECT_EQ(d.duration, seconds{2 * 3600});  // 14:00 to `now`, 16:00
  EXPECT_TRUE(row(d, "time_to_detect").seconds.has_value());
  EXPECT_FALSE(row(d, "time_to_mitigate").seconds);
  EXPECT_EQ(row(d, "time_to_mitigate").to.missing, "not mitigated yet");
  EXPECT_FALSE(row(d, "time_to_resolve").seconds);
  EXPECT_EQ(row(d, "time_to_resolve").to.missing, "not resolved yet");
  EXPECT_EQ(row(d, "declared_to_resolved").to.missing, "not resolved yet");
}

TEST(PostmortemDraft, MitigatedButNotResolved) {
  IncidentRecord r = base_record();
  r.events.insert(r.events.begin(),
                  event(2, "2026-11-20 14:00:00", kBob, EventKind::kImpact, "errors"));
  r.incident.status = IncidentStatus::kMitigated;
  r.incident.mitigated_at = ts("2026-11-20 14:20:00");
  const Draft d = assemble_draft(r, kNow);
  EXPECT_EQ(row(d, "time_to_mitigate").seconds, seconds{20 * 60});
  EXPECT_FALSE(row(d, "time_to_resolve").seconds);
}

TEST(PostmortemDraft, NegativeSpanCountsAsZeroWithARemark) {
  IncidentRecord r = base_record();
  // The alert fired two minutes before users were affected.
  r.events.insert(r.events.begin(),
                  event(2, "2026-11-20 14:00:00", kBob, EventKind::kAlert, "disk 90%"));
  r.events.insert(r.events.begin() + 1,
                  event(3, "2026-11-20 14:02:00", kBob, EventKind::kImpact, "writes fail"));
  const Draft d = assemble_draft(r, kNow);
  const KeyDuration& ttd = row(d, "time_to_detect");
  EXPECT_EQ(ttd.seconds, seconds{0});
  EXPECT_EQ(ttd.remark, "detected 2m 00s before impact began");
}

TEST(PostmortemDraft, ResolvedAtLeftFromBeforeAReopenIsIgnored) {
  IncidentRecord r = base_record();
  resolve(r, "2026-11-20 15:00:00");
  r.incident.status = IncidentStatus::kOpen;  // reopened
  const Draft d = assemble_draft(r, kNow);
  EXPECT_TRUE(d.ongoing);
  EXPECT_EQ(d.ended_at, kNow);
  EXPECT_FALSE(row(d, "declared_to_resolved").seconds);
}

TEST(PostmortemDraft, TimelineIsSortedWithOffsetsFromTheEarliestEvent) {
  IncidentRecord r = base_record();
  // Out of order on purpose, with a deleted event and a same-second tie broken by seq.
  r.events.push_back(event(4, "2026-11-20 13:58:00.700", kBob, EventKind::kNote, "first"));
  r.events.push_back(event(3, "2026-11-20 14:10:00", kCarol, EventKind::kNote, "tie b"));
  r.events.push_back(event(2, "2026-11-20 14:10:00", kCarol, EventKind::kNote, "tie a"));
  TimelineEvent gone = event(5, "2026-11-20 13:00:00", kDave, EventKind::kNote, "deleted");
  gone.deleted = true;
  r.events.push_back(gone);
  const Draft d = assemble_draft(r, kNow);
  ASSERT_EQ(d.timeline.size(), 4u);
  EXPECT_EQ(d.timeline[0].event.text, "first");
  EXPECT_EQ(d.timeline[0].offset, seconds{0});
  EXPECT_EQ(d.timeline[1].event.seq, 1);
  // Offsets are between shown (whole-second) times: 13:58:00 → 14:05:30.
  EXPECT_EQ(d.timeline[1].offset, seconds{7 * 60 + 30});
  EXPECT_EQ(d.timeline[2].event.text, "tie a");
  EXPECT_EQ(d.timeline[3].event.text, "tie b");
  EXPECT_EQ(d.started_at, ts("2026-11-20 13:58:00.700"));
  for (const auto& p : d.participants) EXPECT_NE(p.name, "Dave");  // only a deleted event
}

TEST(PostmortemDraft, WithoutEventsTheDeclarationStartsTheIncident) {
  IncidentRecord r = base_record();
  r.events.clear();
  const Draft d = assemble_draft(r, kNow);
  EXPECT_TRUE(d.timeline.empty());
  EXPECT_EQ(d.started_at, r.incident.declared_at);
  EXPECT_EQ(d.duration, seconds{16 * 3600 - (14 * 3600 + 5 * 60 + 30)});
}

TEST(PostmortemDraft, ParticipantsCommanderFirstThenByFirstAppearance) {
  IncidentRecord r = base_record();
  r.incident.commander = kCarol;  // took over later; still heads the list
  r.events.push_back(event(2, "2026-11-20 14:10:00", kBob, EventKind::kNote, "x"));
  // A backdated event makes Dave appear before Bob, though it was recorded later.
  r.events.push_back(event(3, "2026-11-20 14:07:00", kDave, EventKind::kNote, "y"));
  // Same person under a new display name: one entry, first name kept.
  r.events.push_back(
      event(4, "2026-11-20 14:20:00", Person{"U2", "Robert"}, EventKind::kNote, "z"));
  r.notes.push_back(note(NoteSection::kLesson, "2026-11-20 14:30:00", Person{"", "Eve"}, "l"));
  ActionItem a;
  a.seq = 1;
  a.text = "fix";
  a.created_by = kAlice;
  a.created_at = ts("2026-11-20 14:40:00");
  a.owner = Person{"U9", "Frank"};
  r.actions.push_back(a);
  const Draft d = assemble_draft(r, kNow);

  std::vector<std::string> names;
  for (const auto& p : d.participants) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Carol", "Alice", "Dave", "Bob", "Eve", "Frank"}));
}

TEST(PostmortemDraft, NotesGroupedBySectionInOrder) {
  IncidentRecord r = base_record();
  r.notes.push_back(note(NoteSection::kCause, "2026-11-20 15:00:00", kBob, "cause 1"));
  r.notes.push_back(note(NoteSection::kSummary, "2026-11-20 15:01:00", kBob, "summary"));
  r.notes.push_back(note(NoteSection::kCause, "2026-11-20 15:02:00", kBob, "cause 2"));
  r.notes.push_back(note(NoteSection::kWentWell, "2026-11-20 15:03:00", kBob, "well"));
  r.notes.push_back(note(NoteSection::kLesson, "2026-11-20 15:04:00", kBob, "lesson"));
  const Draft d = assemble_draft(r, kNow);
  ASSERT_EQ(d.sections.cause.size(), 2u);
  EXPECT_EQ(d.sections.cause[0].text, "cause 1");
  EXPECT_EQ(d.sections.cause[1].text, "cause 2");
  EXPECT_EQ(d.sections.summary.size(), 1u);
  EXPECT_EQ(d.sections.went_well.size(), 1u);
  EXPECT_EQ(d.sections.lessons.size(), 1u);
  EXPECT_TRUE(d.sections.why.empty());
  EXPECT_TRUE(d.sections.impact.empty());
}

TEST(PostmortemDraft, ImpactEventsPointIntoTheTimeline) {
  IncidentRecord r = base_record();
  r.events.push_back(event(2, "2026-11-20 14:10:00", kBob, EventKind::kImpact, "EU down"));
  r.events.push_back(event(3, "2026-11-20 14:20:00", kBob, EventKind::kNote, "note"));
  r.events.push_back(event(4, "2026-11-20 14:30:00", kBob, EventKind::kImpact, "US down"));
  const Draft d = assemble_draft(r, kNow);
  ASSERT_EQ(d.impact_events.size(), 2u);
  EXPECT_EQ(d.timeline[d.impact_events[0]].event.text, "EU down");
  EXPECT_EQ(d.timeline[d.impact_events[1]].event.text, "US down");
}

TEST(PostmortemDraft, ActionsSortedBySeq) {
  IncidentRecord r = base_record();
  for (int seq : {3, 1, 2}) {
    ActionItem a;
    a.seq = seq;
    a.text = "a" + std::to_string(seq);
    r.actions.push_back(a);
  }
  const Draft d = assemble_draft(std::move(r), kNow);
  ASSERT_EQ(d.actions.size(), 3u);
  EXPECT_EQ(d.actions[0].seq, 1);
  EXPECT_EQ(d.actions[2].seq, 3);
  EXPECT_EQ(d.ref, "INC-7");
}

}  // namespace
}  // namespace scribe
