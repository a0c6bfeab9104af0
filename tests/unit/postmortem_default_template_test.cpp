// The default Markdown draft is a Mustache template (postmortem/templates/default.md.mustache).
// These tests hold it to the built-in writer it replaced (render_markdown_reference plus the
// review section): byte for byte, over incidents chosen to reach every branch of the layout.
#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "postmortem/draft.h"
#include "postmortem/json.h"
#include "postmortem/markdown.h"
#include "postmortem/review.h"
#include "postmortem/review_report.h"
#include "postmortem/template.h"
#include "test_support.h"

namespace scribe {
namespace {

using test::kAlice;
using test::kBob;
using test::kCarol;
using test::ts;

// Markdown-special, Unicode, bidi and line-break characters, for every typed field.
const std::string kNasty =
    "# *bold* _it_ `code` [link](http://x) <b>&amp; | pipe \\ ~~s~~ 1. Ünïcødé 😀 "
    "\u202Ertl\u202C\r\nsecond line\n\n- third";

using test::note;

// An item with an id, as stored (the changes to items name it).
ActionItem action(int seq, std::string text, std::optional<Person> owner,
                  std::optional<std::string> due, ActionKind kind, ActionStatus status) {
  ActionItem a = test::action(seq, std::move(text), std::move(owner), std::move(due), kind, status);
  a.id = seq * 10;
  return a;
}

IncidentRecord empty_record() {
  IncidentRecord r;
  r.incident.id = 1;
  r.incident.declared_at = ts("2026-11-20 14:05:30");
  return r;
}

IncidentRecord full_record(const std::string& text, const std::string& zone) {
  IncidentRecord r;
  r.zone = zone;
  r.incident.id = 42;
  r.incident.title = "Checkout " + text;
  r.incident.severity = Severity::kSev1;
  r.incident.status = IncidentStatus::kResolved;
  r.incident.commander = Person{"U9", text};
  // Across midnight UTC and, in Europe/Berlin, the end of summer time (2026-10-25 01:00 UTC).
  r.incident.declared_at = ts("2026-10-24 23:50:00");
  r.incident.mitigated_at = ts("2026-10-25 00:40:00");
  r.incident.resolved_at = ts("2026-10-25 01:30:00");
  auto add = [&](int seq, const char* when, const Person& who, EventKind kind, std::string t) {
    r.events.push_back(test::event(seq, when, who, kind, std::move(t)));
  };
  // Impact began before the declaration (a backdated milestone).
  add(1, "2026-10-24 23:40:00", kBob, EventKind::kImpact, "errors at 12% " + text);
  add(2, "2026-10-24 23:50:00", kAlice, EventKind::kDeclared, "Incident declared");
  add(3, "2026-10-24 23:55:00", Person{"U7", text}, EventKind::kNote, text);
  add(4, "2026-10-25 00:10:00", kCarol, EventKind::kAlert, "alert fired late");
  add(5, "2026-10-25 00:40:00", kAlice, EventKind::kMitigated, "rolled back");
  add(6, "2026-10-25 01:30:00", kAlice, EventKind::kResolved, "resolved");
  // A pinned message with its permalink and files, one of them with an unsafe URL.
  r.events[2].links = {{EventLink::Kind::kMessage, "", "https://chat.example/p/1"},
                       {EventLink::Kind::kMessage, "Grafana " + text, "https://g.example/d?a=(1)|"},
                       {EventLink::Kind::kFile, text, "https://files.example/log.txt"},
                       {EventLink::Kind::kImage, "", "https://files.example/graph.png"},
                       {EventLink::Kind::kFile, "bad", "javascript:alert(1)"}};
  for (NoteSection s : {NoteSection::kSummary, NoteSection::kImpact, NoteSection::kCause,
                        NoteSection::kWhy, NoteSection::kWentWell, NoteSection::kWentWrong,
                        NoteSection::kLucky, NoteSection::kLesson, NoteSection::kTrigger,
                        NoteSection::kDetection, NoteSection::kResolution, NoteSection::kLink}) {
    r.notes.push_back(note(s, text));
    r.notes.push_back(note(s, "plain second note"));
  }
  r.notes.push_back(note(NoteSection::kWhy, "Why did the flag flip? " + text));
  r.actions.push_back(
      action(1, text, Person{"U5", text}, "2026-11-27", ActionKind::kPrevent, ActionStatus::kOpen));
  r.actions.push_back(action(2, "Alert on 5xx > 1%", std::nullopt, std::nullopt,
                             ActionKind::kDetect, ActionStatus::kOpen));
  r.actions.push_back(
      action(3, "Runbook", kCarol, std::nullopt, ActionKind::kNone, ActionStatus::kDropped));
  r.actions.back().drop_reason = text;
  r.actions.push_back(
      action(4, "Tracked", kBob, "2026-12-01", ActionKind::kMitigate, ActionStatus::kDone));
  r.actions.back().tracker_key = "OPS-" + text;
  r.actions.back().tracker_url = "https://tracker.example/OPS-1";
  r.actions.push_back(
      action(5, "Tracked, no URL", kBob, "", ActionKind::kProcess, ActionStatus::kOpen));
  r.actions.back().tracker_key = "OPS-2";
  ActionRevision rev;
  rev.action_id = 10;
  rev.seq = 1;
  rev.field = "owner";
  rev.before = "";
  rev.after = text;
  rev.changed_by = Person{"", text};
  rev.changed_at = ts("2026-10-25 02:00:00");
  r.action_history.push_back(rev);
  rev.field = "due";
  rev.before = "2026-11-20";
  rev.after = "";
  r.action_history.push_back(rev);
  RelatedIncident rel;
  rel.incident.id = 7;
  rel.incident.title = text;
  rel.incident.severity = Severity::kSev2;
  rel.incident.declared_at = ts("2026-09-01 10:00:00");
  rel.shared_tags = {"flags", text};
  rel.similarity = 0.734;
  rel.services = {"checkout", text};
  rel.open_actions.push_back(
      action(2, text, Person{"U5", text}, "2026-10-01", ActionKind::kPrevent, ActionStatus::kOpen));
  rel.open_actions.push_back(
      action(3, "no owner", std::nullopt, std::nullopt, ActionKind::kNone, ActionStatus::kOpen));
  r.related.push_back(rel);
  rel.incident.id = 5;
  rel.services.clear();
  rel.similarity.reset();
  rel.open_actions.clear();
  r.related.push_back(rel);
  r.related_total = 4;
  r.approvals.push_back(Approval{42, Person{"U8", text}, ts("2026-10-26 09:00:00")});
  r.approvals.push_back(Approval{42, kCarol, ts("2026-10-26 10:00:00")});
  return r;
}

// An ongoing incident: no mitigation, no resolution, events only on one day.
IncidentRecord ongoing_record(const std::string& zone) {
  IncidentRecord r;
  r.zone = zone;
  r.incident.id = 3;
  r.incident.title = "Queue backlog";
  r.incident.severity = Severity::kSev3;
  r.incident.commander = kAlice;
  r.incident.declared_at = ts("2026-11-20 14:05:30");
  r.events.push_back(
      test::event(1, "2026-11-20 14:05:30", kAlice, EventKind::kDeclared, "Incident declared"));
  r.events.push_back(
      test::event(2, "2026-11-20 14:07:00", kBob, EventKind::kImpact, "latency went up a lot"));
  r.events.push_back(test::event(3, "2026-11-20 14:09:00", kBob, EventKind::kNote, "looking"));
  r.notes.push_back(note(NoteSection::kSummary, "only a summary\n\nwith a paragraph"));
  return r;
}

PostmortemReview review_of(const IncidentRecord& r, const std::string& text) {
  PostmortemReview review =
      review_postmortem(r, Reviewer(ReviewSettings{}), ts("2026-11-21 00:00:00"));
  if (!text.empty()) {
    review.closed_anyway = text;
    Finding f;
    f.rule = ReviewRule::kBlame;
    f.code = "blame_word";
    f.target = FindingTarget{TargetType::kEvent, 3, std::nullopt, 0};
    f.excerpt = text;
    f.message = text;
    f.suggestion = "";
    review.findings.push_back(f);
  }
  return review;
}

struct Case {
  std::string name;
  IncidentRecord record;
  std::string now;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  out.push_back({"empty", empty_record(), "2026-11-20 15:00:00"});
  for (const std::string zone : {"", "UTC", "Europe/Berlin", "America/Los_Angeles"}) {
    out.push_back({"full plain " + zone, full_record("flag", zone), "2026-10-26 12:00:00"});
    out.push_back({"full nasty " + zone, full_record(kNasty, zone), "2026-10-26 12:00:00"});
    out.push_back({"ongoing " + zone, ongoing_record(zone), "2026-11-20 15:00:00"});
  }
  // Resolved, then reopened: resolved_at is left over and ignored.
  IncidentRecord reopened = full_record("x", "Asia/Kolkata");
  reopened.incident.status = IncidentStatus::kOpen;
  out.push_back({"reopened", std::move(reopened), "2026-10-26 12:00:00"});
  // Blank texts everywhere: a line the template writes may be empty but must still be there.
  IncidentRecord blank = full_record(" ", "Europe/Berlin");
  for (Note& n : blank.notes) n.text = n.text == " " ? "" : "\n  \r\n";
  for (TimelineEvent& e : blank.events) e.text = "";
  blank.incident.title = "\n";
  out.push_back({"blank", std::move(blank), "2026-10-26 12:00:00"});
  // Years far away: dates in the tables, expanded years.
  IncidentRecord far = ongoing_record("");
  far.events[2].occurred_at = ts("2026-11-22 00:00:00");
  out.push_back({"two dates", std::move(far), "2026-11-23 00:00:00"});
  // Changes to items but no item in the draft (found by fuzzing): the trail is still shown.
  IncidentRecord history_only = full_record("x", "");
  history_only.actions.clear();
  out.push_back({"history without items", std::move(history_only), "2026-10-26 12:00:00"});
  return out;
}

// The draft as the built-in writer and the review section made it.
std::string reference(const Draft& d, const PostmortemReview& review, std::string_view prefix) {
  std::string out = render_markdown_reference(d, prefix);
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  return out + render_review_markdown(review, prefix);
}

TEST(DefaultTemplateTest, RendersEveryCaseByteForByteAsTheBuiltInWriter) {
  for (Case& c : cases()) {
    for (const std::string prefix : {"/", "!"}) {
      SCOPED_TRACE(c.name + " " + prefix);
      for (const std::string& extra : {std::string(), kNasty}) {
        const PostmortemReview review = review_of(c.record, extra);
        const Draft d = assemble_draft(c.record, ts(c.now.c_str()));
        EXPECT_EQ(render_markdown(d, prefix), render_markdown_reference(d, prefix));
        EXPECT_EQ(render_reviewed_markdown(d, review, prefix), reference(d, review, prefix));
        EXPECT_EQ(render_default_markdown(d, &review, prefix), reference(d, review, prefix));
      }
    }
  }
}

// Random incidents from a seeded generator: texts drawn from blanks, line breaks, Markdown
// markup and Unicode, lists of any length, any zone, times on either side of midnight.
TEST(DefaultTemplateTest, RandomIncidentsRenderAsTheBuiltInWriterDoes) {
  std::mt19937 rng(20261128);
  const std::vector<std::string> pieces = {
      "",    " ",   "\n",  "\r\n",   "\n\n",  "  ",         "\t",  "a",        "why", "Why ",
      "# h", "- x", "1. ", "|",      "`",     "*",          "_",   "[l](u)",   "<b>", "&",
      "\\",  "ü",   "😀",   "\u202E", "{{x}}", "http://e/x", "> q", "    code", "---"};
  auto text = [&] {
    std::string t;
    for (int n = static_cast<int>(rng() % 5); n > 0; --n) t += pieces[rng() % pieces.size()];
    return t;
  };
  const Timestamp t0 = ts("2026-10-24 22:00:00");
  auto at = [&] { return t0 + std::chrono::minutes(rng() % 400); };
  const std::vector<std::string> zones = {"", "Europe/Berlin", "Asia/Kolkata"};
  for (int round = 0; round < test::rounds(300); ++round) {
    IncidentRecord r;
    r.zone = zones[rng() % zones.size()];
    r.incident.id = round + 1;
    r.incident.title = text();
    r.incident.severity = static_cast<Severity>(1 + rng() % 4);
    r.incident.status = static_cast<IncidentStatus>(rng() % 4);
    r.incident.commander = Person{rng() % 2 ? "U1" : "", text()};
    r.incident.declared_at = at();
    if (rng() % 2) r.incident.mitigated_at = at();
    if (rng() % 2) r.incident.resolved_at = at();
    for (int i = static_cast<int>(rng() % 8); i > 0; --i) {
      TimelineEvent e;
      e.incident_id = r.incident.id;
      e.seq = static_cast<int>(r.events.size()) + 1;
      e.kind = static_cast<EventKind>(rng() % 6);
      e.occurred_at = e.recorded_at = at();
      e.author = Person{"U2", text()};
      e.text = text();
      if (rng() % 3 == 0) e.links = {{EventLink::Kind::kFile, text(), "https://f.example/x"}};
      r.events.push_back(std::move(e));
    }
    for (int i = static_cast<int>(rng() % 14); i > 0; --i) {
      r.notes.push_back(note(static_cast<NoteSection>(rng() % 12), text()));
    }
    for (int i = static_cast<int>(rng() % 4); i > 0; --i) {
      ActionItem a =
          action(i, text(), rng() % 2 ? std::optional<Person>(Person{"U3", text()}) : std::nullopt,
                 rng() % 2 ? std::optional<std::string>(text()) : std::nullopt,
                 static_cast<ActionKind>(rng() % 5), static_cast<ActionStatus>(rng() % 3));
      if (rng() % 2) a.drop_reason = text();
      if (rng() % 3 == 0) a.tracker_key = text();
      r.actions.push_back(std::move(a));
    }
    for (int i = static_cast<int>(rng() % 3); i > 0; --i) {
      ActionRevision rev;
      rev.seq = static_cast<int>(rng() % 5);
      rev.field = rng() % 2 ? "owner" : "kind";
      rev.before = text();
      rev.after = text();
      rev.changed_by = Person{rng() % 2 ? "U4" : "", text()};
      rev.changed_at = at();
      r.action_history.push_back(std::move(rev));
    }
    const PostmortemReview review = review_of(r, rng() % 2 ? text() : std::string());
    const Draft d = assemble_draft(r, at() + std::chrono::hours(10));
    const std::string prefix = rng() % 2 ? "/" : "!";
    ASSERT_EQ(render_reviewed_markdown(d, review, prefix), reference(d, review, prefix))
        << "round " << round;
  }
}

TEST(DefaultTemplateTest, ChangesToItemsAreShownEvenWithNoItemInTheDraft) {
  IncidentRecord r = full_record("x", "");
  r.actions.clear();
  const Draft d = assemble_draft(r, ts("2026-10-26 12:00:00"));
  for (const std::string& md : {render_markdown(d), render_markdown_reference(d, "/")}) {
    const std::size_t missing = md.find("*Missing — add with `/action <text>");
    const std::size_t trail =
        md.find("Changes to action items:\n\n- 2026-10-25 02:00:00 #1 owner:");
    ASSERT_NE(missing, std::string::npos) << md;
    ASSERT_NE(trail, std::string::npos) << md;
    EXPECT_LT(missing, trail);
  }
}

TEST(DefaultTemplateTest, TheCasesReachEveryPartOfTheLayout) {
  // Guards the comparison above against cases that no longer show what they were made for.
  const IncidentRecord full = full_record(kNasty, "Europe/Berlin");
  const PostmortemReview review = review_of(full, kNasty);
  const std::string md =
      render_reviewed_markdown(assemble_draft(full, ts("2026-10-26 12:00:00")), review);
  for (const char* part : {"## Trigger",
                           "## Detection",
                           "## Resolution",
                           "## Supporting links",
                           "## Related incidents",
                           "still open: #2",
                           "earlier related incidents not listed",
                           "Changes to action items:",
                           "won't do: ",
                           " · OPS-",
                           "[message](https://chat.example/p/1)",
                           "📎 ",
                           "🖼 image",
                           "Why? ",
                           "**Closed over open review findings**",
                           "finding",
                           "**unassigned**",
                           "**no due date**",
                           " CEST)",
                           " CET)"}) {
    EXPECT_NE(md.find(part), std::string::npos) << part;
  }
}

TEST(DefaultTemplateTest, ShortenedChatDraftsAreTheWriterWhenTheyDoNotFit) {
  // A chat draft that fits is the whole draft, which is now the template's; one that does not
  // fit is the writer's, shortened.
  IncidentRecord big = full_record("flag", "Europe/Berlin");
  for (int i = 0; i < 400; ++i) {
    big.events.push_back(test::event(100 + i, "2026-10-25 00:20:00", kBob, EventKind::kNote,
                                     "a long line of text about what was tried next " + kNasty));
  }
  const Draft d = assemble_draft(big, ts("2026-10-26 12:00:00"));
  const std::string chat = render_markdown(d, "/", kChatDraftBytes);
  EXPECT_LE(chat.size(), kChatDraftBytes + 1024);
  EXPECT_NE(chat.find("Shortened to fit a chat message"), std::string::npos);
  const Draft small = assemble_draft(ongoing_record(""), ts("2026-11-20 15:00:00"));
  EXPECT_EQ(render_markdown(small, "/", kChatDraftBytes), render_markdown(small, "/"));
}

TEST(DefaultTemplateTest, TheShippedTemplateParsesAndHasNoPartialsOrLambdas) {
  const std::string_view text = default_draft_template_text();
  EXPECT_NE(text.find("{{#md}}"), std::string_view::npos);
  // Shared by all threads without a lock: partials are the one construct whose render
  // writes into the parsed template.
  EXPECT_EQ(text.find("{{>"), std::string_view::npos);
  EXPECT_NO_THROW(DraftTemplate(std::string(text)));
}

TEST(DefaultTemplateTest, RendersFromManyThreadsAtOnce) {
  const Draft d = assemble_draft(full_record(kNasty, "Europe/Berlin"), ts("2026-10-26 12:00:00"));
  const std::string expected = render_markdown_reference(d, "/");
  std::vector<std::thread> threads;
  std::vector<int> same(4, 0);
  for (std::size_t t = 0; t < same.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) same[t] += render_markdown(d, "/") == expected ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  for (int n : same) EXPECT_EQ(n, 20);
}

TEST(DefaultTemplateTest, ACustomTemplateSeesTheDefaultsNamesBesideTheJsonDraft) {
  const IncidentRecord r = full_record(kNasty, "Europe/Berlin");
  const Draft d = assemble_draft(r, ts("2026-10-26 12:00:00"));
  const PostmortemReview review = review_of(r, "");
  // A copy of the default template is the default draft.
  const DraftTemplate copy{std::string(default_draft_template_text())};
  nlohmann::ordered_json j = draft_to_json(d);
  j["review"] = review_to_json(review);
  EXPECT_EQ(copy.render(j, "!", &d, &review), reference(d, review, "!"));
  // JSON names and `md` names side by side.
  const DraftTemplate both{"{{incident.ref}} {{{md.ref}}} {{#md}}{{{severity}}}{{/md}}\n"};
  EXPECT_EQ(both.render(j, "/", &d, &review), "INC-42 INC-42 sev1\n");
}

}  // namespace
}  // namespace scribe
