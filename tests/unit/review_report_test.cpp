// How the review is shown (Markdown section, JSON, lines for chat and the command line)
// and the close gate's objections per severity.
#include "postmortem/review_report.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "postmortem/html.h"
#include "postmortem/markdown.h"
#include "test_support.h"

namespace scribe {
namespace {

using test::kAlice;
using test::kBob;
using test::kCarol;
using test::ts;
using testing::HasSubstr;
using testing::Not;

const Timestamp kNow = ts("2026-11-20 15:00:00");

Note note(NoteSection section, std::string text, std::int64_t id) {
  Note n;
  n.id = id;
  n.incident_id = 1;
  n.section = section;
  n.text = std::move(text);
  n.author = kAlice;
  n.created_at = ts("2026-11-20 14:30:00");
  return n;
}

ActionItem action(int seq, std::string text, ActionKind kind) {
  ActionItem a;
  a.id = seq;
  a.incident_id = 1;
  a.seq = seq;
  a.text = std::move(text);
  a.owner = kBob;
  a.due = "2026-12-01";
  a.kind = kind;
  a.created_by = kAlice;
  a.created_at = ts("2026-11-20 14:35:00");
  return a;
}

TimelineEvent event(int seq, std::string at, EventKind kind, std::string text) {
  TimelineEvent e;
  e.id = seq;
  e.incident_id = 1;
  e.seq = seq;
  e.kind = kind;
  e.occurred_at = ts(at.c_str());
  e.recorded_at = e.occurred_at;
  e.author = kAlice;
  e.text = std::move(text);
  return e;
}

// A resolved incident whose record a sev3 gate accepts but a sev1/sev2 gate does not.
IncidentRecord record(Severity severity) {
  IncidentRecord r;
  r.incident.id = 1;
  r.incident.title = "Checkout 502s";
  r.incident.severity = severity;
  r.incident.status = IncidentStatus::kResolved;
  r.incident.commander = kAlice;
  r.incident.declared_at = ts("2026-11-20 14:08:00");
  r.incident.resolved_at = ts("2026-11-20 14:40:00");
  r.events = {event(1, "2026-11-20 14:08:00", EventKind::kDeclared, "Incident declared"),
              event(2, "2026-11-20 14:10:00", EventKind::kNote, "bob forgot to run the tests"),
              event(3, "2026-11-20 14:40:00", EventKind::kResolved, "Resolved")};
  r.events[1].author = kBob;  // a participant, so "bob" is a person
  r.notes = {note(NoteSection::kSummary, "A config push made checkout fail for 24 minutes.", 1),
             note(NoteSection::kCause, "The pool size was 0 and nothing validated it.", 2)};
  return r;
}

PostmortemReview review_of(const IncidentRecord& r) {
  return review_postmortem(r, Reviewer(ReviewSettings{}), kNow);
}

TEST(ReviewReport, TargetsInWords) {
  EXPECT_EQ(describe_target(FindingTarget{}), "the incident");
  FindingTarget e{TargetType::kEvent, 3, std::nullopt, 0, 9};
  EXPECT_EQ(describe_target(e), "timeline #3");
  FindingTarget a{TargetType::kAction, 2, std::nullopt, 0, 4};
  EXPECT_EQ(describe_target(a), "action #2");
  FindingTarget n{TargetType::kNote, std::nullopt, NoteSection::kImpact, 1, 5};
  EXPECT_EQ(describe_target(n), "Impact note 1");
}

TEST(ReviewReport, StateComesFromTheRecord) {
  IncidentRecord r = record(Severity::kSev2);
  r.incident.postmortem_status = PostmortemStatus::kInReview;
  r.incident.postmortem_owner = kCarol;
  r.approvals = {Approval{1, kBob, ts("2026-11-20 16:00:00")}};
  const PostmortemReview review = review_of(r);
  EXPECT_EQ(review.status, PostmortemStatus::kInReview);
  EXPECT_EQ(review.owner, kCarol);
  EXPECT_EQ(review.approvals, r.approvals);
  // The same findings as the review itself.
  const auto direct = review_incident(r, ReviewSettings{}, kNow);
  ASSERT_EQ(review.findings.size(), direct.size());
  for (std::size_t i = 0; i < direct.size(); ++i) {
    EXPECT_EQ(review.findings[i].code, direct[i].code);
    EXPECT_EQ(review.findings[i].target, direct[i].target);
  }
  // Without a named owner the commander owns it.
  r.incident.postmortem_owner.reset();
  EXPECT_EQ(review_of(r).owner, kAlice);
}

TEST(ReviewReport, JsonKeepsTheIssueShape) {
  IncidentRecord r = record(Severity::kSev2);
  r.approvals = {Approval{1, kBob, ts("2026-11-20 16:00:00")}};
  const auto j = review_to_json(review_of(r));
  EXPECT_EQ(j["status"], "draft");
  EXPECT_EQ(j["owner"]["id"], kAlice.id);
  ASSERT_EQ(j["approvals"].size(), 1u);
  EXPECT_EQ(j["approvals"][0]["by"]["name"], "Bob");
  EXPECT_EQ(j["approvals"][0]["at"], "2026-11-20T16:00:00.000Z");
  EXPECT_TRUE(j["closed_anyway"].is_null());
  ASSERT_TRUE(j["findings"].is_array());
  ASSERT_FALSE(j["findings"].empty());
  bool blame = false;
  for (const auto& f : j["findings"]) {
    for (const char* key : {"rule", "code", "target", "excerpt", "message", "suggestion"}) {
      EXPECT_TRUE(f.contains(key)) << key << " in " << f.dump();
    }
    EXPECT_TRUE(f["target"].contains("type"));
    if (f["rule"] == "blame") {
      blame = true;
      EXPECT_EQ(f["target"]["type"], "event");
      EXPECT_EQ(f["target"]["seq"], 2);
      EXPECT_THAT(f["excerpt"].get<std::string>(), HasSubstr("forgot"));
    }
    if (f["target"]["type"] == "incident") {
      EXPECT_FALSE(f["target"].contains("seq"));
    }
  }
  EXPECT_TRUE(blame) << j.dump(2);
}

TEST(ReviewReport, MarkdownSectionListsFindingsAndState) {
  IncidentRecord r = record(Severity::kSev2);
  r.incident.closed_anyway = "meeting held; impact numbers pending from finance";
  const std::string md = render_review_markdown(review_of(r), "!");
  EXPECT_THAT(md, HasSubstr("## Review before the meeting"));
  EXPECT_THAT(md, HasSubstr("Postmortem status: **draft**"));
  EXPECT_THAT(md, HasSubstr("Approvals: none yet"));
  EXPECT_THAT(md, HasSubstr("Closed over open review findings"));
  EXPECT_THAT(md, HasSubstr("**blame** · timeline \\#2"));
  EXPECT_THAT(md, HasSubstr("`!incident review`"));
}

TEST(ReviewReport, MarkdownSectionWithoutFindingsSaysSo) {
  PostmortemReview clean;
  clean.owner = kAlice;
  const std::string md = render_review_markdown(clean);
  EXPECT_THAT(md, HasSubstr("No findings"));
  EXPECT_THAT(md, HasSubstr("Postmortem owner: Alice"));
}

TEST(ReviewReport, UserTextCannotBreakTheDocument) {
  PostmortemReview review;
  review.owner = Person{"U1", "<b>mallory</b>"};
  Finding f;
  f.rule = ReviewRule::kBlame;
  f.code = "blame_word";
  f.target = FindingTarget{TargetType::kEvent, 1, std::nullopt, 0, 1};
  f.excerpt = "bob forgot <script>alert(1)</script> | [x](javascript:alert(1))\n# heading";
  f.message = "Blame";
  f.suggestion = "Ask the system question.";
  review.findings = {f};
  const std::string md = render_review_markdown(review);
  EXPECT_THAT(md, Not(HasSubstr("\n# heading")));
  EXPECT_THAT(md, Not(HasSubstr("[x](javascript")));
  const std::string html = markdown_to_html(md);
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, Not(HasSubstr("<b>mallory")));
  EXPECT_THAT(html, Not(HasSubstr("href=\"javascript")));
  EXPECT_THAT(html, HasSubstr("bob forgot &lt;script&gt;"));
}

TEST(ReviewReport, AChatDraftKeepsItsBudgetWithManyFindings) {
  IncidentRecord r = record(Severity::kSev2);
  for (int i = 0; i < 2000; ++i) {
    r.actions.push_back(
        action(i + 1, "Improve code quality " + std::to_string(i), ActionKind::kNone));
  }
  const PostmortemReview review = review_of(r);
  ASSERT_GT(review.findings.size(), 2000u);
  const std::string section = render_review_markdown(review, "/", 2500);
  EXPECT_LT(section.size(), 3500u);
  EXPECT_THAT(section, HasSubstr("more: `/incident review` or `scribe lint` lists them all."));
  const Draft draft = assemble_draft(r, kNow);
  const std::string chat = render_reviewed_markdown(draft, review, "/", kChatDraftBytes);
  EXPECT_LT(chat.size(), kChatDraftBytes + 2000);
  EXPECT_THAT(chat, HasSubstr("## Review before the meeting"));
  // Without a budget every finding is there.
  const std::string whole = render_reviewed_markdown(draft, review);
  EXPECT_THAT(whole, HasSubstr("action \\#2000"));
  EXPECT_THAT(whole, Not(HasSubstr("lists them all")));
}

TEST(ReviewReport, FindingLinesForChat) {
  const auto lines = finding_lines(review_of(record(Severity::kSev3)).findings);
  ASSERT_FALSE(lines.empty());
  EXPECT_THAT(lines.front(), HasSubstr("[blame] timeline #2: “"));
}

TEST(CloseGate, Sev3NeedsSummaryAndCause) {
  IncidentRecord r = record(Severity::kSev3);
  const CloseGateSettings gate;
  EXPECT_TRUE(close_objections(r, review_of(r), gate).empty());
  r.notes.clear();
  const auto objections = close_objections(r, review_of(r), gate, "!");
  ASSERT_EQ(objections.size(), 2u);
  EXPECT_THAT(objections[0], HasSubstr("No summary: `!incident summary"));
  EXPECT_THAT(objections[1], HasSubstr("No root cause: `!incident cause"));
}

TEST(CloseGate, Sev2NeedsTheWholePostmortemAndAnApproval) {
  IncidentRecord r = record(Severity::kSev2);
  const CloseGateSettings gate;
  auto objections = close_objections(r, review_of(r), gate);
  ASSERT_EQ(objections.size(), 4u) << testing::PrintToString(objections);
  EXPECT_THAT(objections[0], HasSubstr("No impact"));
  EXPECT_THAT(objections[1], HasSubstr("#prevent"));
  EXPECT_THAT(objections[2], HasSubstr("1 blame finding"));
  EXPECT_THAT(objections[3], HasSubstr("0 of 1 approval"));

  // Impact without numbers is not enough.
  r.notes.push_back(note(NoteSection::kImpact, "some users were affected for a while", 3));
  objections = close_objections(r, review_of(r), gate);
  EXPECT_THAT(objections[0], HasSubstr("Impact has no numbers"));

  // Fixed: numbers, a prevent item, no blame, an approval by someone who is neither the
  // commander nor the owner. A dropped prevent item or the commander's approval would not do.
  r.notes.back().text = "4,100 orders failed over 24 minutes";
  r.actions = {action(1, "Validate pool sizes in the config pipeline", ActionKind::kPrevent)};
  r.actions[0].status = ActionStatus::kDropped;
  r.events[1].text = "the test step was skipped by the deploy script";
  r.approvals = {Approval{1, kAlice, kNow}};
  objections = close_objections(r, review_of(r), gate);
  ASSERT_EQ(objections.size(), 2u) << testing::PrintToString(objections);
  EXPECT_THAT(objections[0], HasSubstr("#prevent"));
  EXPECT_THAT(objections[1], HasSubstr("0 of 1 approval"));
  r.actions[0].status = ActionStatus::kOpen;
  r.incident.postmortem_owner = kCarol;
  r.approvals.push_back(Approval{1, kCarol, kNow});  // the owner: does not count
  objections = close_objections(r, review_of(r), gate);
  ASSERT_EQ(objections.size(), 1u) << testing::PrintToString(objections);
  r.approvals.push_back(Approval{1, kBob, kNow});
  objections = close_objections(r, review_of(r), gate);
  EXPECT_TRUE(objections.empty()) << testing::PrintToString(objections);

  // Reopened after the approval: it no longer counts.
  TimelineEvent reopened = event(4, "2026-11-20 15:30:00", EventKind::kReopened, "Reopened");
  r.events.push_back(reopened);
  objections = close_objections(r, review_of(r), gate);
  ASSERT_EQ(objections.size(), 1u) << testing::PrintToString(objections);
  EXPECT_THAT(objections[0], HasSubstr("0 of 1 approval"));
  r.approvals.push_back(Approval{1, kBob, ts("2026-11-20 15:45:00")});
  EXPECT_TRUE(close_objections(r, review_of(r), gate).empty());
}

TEST(CloseGate, RequirementsFromNames) {
  std::string bad;
  auto r = close_requirements_from_names({"summary", "no_blame", "approval", "approval"}, &bad);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->summary);
  EXPECT_TRUE(r->no_blame);
  EXPECT_FALSE(r->cause);
  EXPECT_EQ(r->approvals, 2);
  EXPECT_FALSE(close_requirements_from_names({"summary", "sumary"}, &bad).has_value());
  EXPECT_EQ(bad, "sumary");
  // Nothing required: anything closes.
  CloseGateSettings open;
  open.by_severity[Severity::kSev3] = *close_requirements_from_names({});
  IncidentRecord empty = record(Severity::kSev3);
  empty.notes.clear();
  EXPECT_TRUE(close_objections(empty, review_of(empty), open).empty());
}

}  // namespace
}  // namespace scribe
