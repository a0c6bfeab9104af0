#include "postmortem/markdown.h"

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "postmortem/draft.h"
#include "test_support.h"

namespace scribe {
namespace {

using test::kAlice;
using test::kBob;
using test::kCarol;
using test::kDave;
using test::ts;

void add_event(IncidentRecord& r, int seq, const char* when, const Person& author, EventKind kind,
               std::string text) {
  r.events.push_back(test::event(seq, when, author, kind, std::move(text)));
}

void add_note(IncidentRecord& r, NoteSection section, const Person& author, std::string text) {
  r.notes.push_back(test::note(section, std::move(text), author));
}

void add_action(IncidentRecord& r, int seq, std::string text, std::optional<Person> owner,
                std::optional<std::string> due, ActionKind kind, ActionStatus status) {
  r.actions.push_back(
      test::action(seq, std::move(text), std::move(owner), std::move(due), kind, status));
}

// An open sev3 incident declared at 14:05:30 with one declaration event and nothing else.
IncidentRecord bare_record() {
  IncidentRecord r;
  r.incident.id = 9;
  r.incident.title = "Queue backlog";
  r.incident.commander = kAlice;
  r.incident.declared_at = ts("2026-11-20 14:05:30");
  add_event(r, 1, "2026-11-20 14:05:30", kAlice, EventKind::kDeclared, "Incident declared");
  return r;
}

IncidentRecord small_incident() {
  IncidentRecord r;
  r.incident.id = 42;
  r.incident.title = "Checkout errors after deploy";
  r.incident.severity = Severity::kSev2;
  r.incident.status = IncidentStatus::kResolved;
  r.incident.commander = kAlice;
  r.incident.declared_at = ts("2026-11-20 14:05:30");
  r.incident.mitigated_at = ts("2026-11-20 14:30:00");
  r.incident.resolved_at = ts("2026-11-20 15:00:00");
  add_event(r, 3, "2026-11-20 14:00:00", kBob, EventKind::kImpact,
            "Checkout error rate rose from 0.1% to 12%");
  add_event(r, 2, "2026-11-20 14:03:10", kBob, EventKind::kAlert, "PagerDuty: checkout 5xx > 5%");
  add_event(r, 1, "2026-11-20 14:05:30", kAlice, EventKind::kDeclared, "Incident declared (sev2)");
  add_event(r, 4, "2026-11-20 14:12:00", kCarol, EventKind::kNote,
            "Rolled back deploy 2026.11.20-3 | canary only");
  add_event(r, 5, "2026-11-20 14:30:00", kAlice, EventKind::kMitigated, "Error rate back to 0.1%");
  add_event(r, 6, "2026-11-20 15:00:00", kAlice, EventKind::kResolved, "Resolved");
  add_note(r, NoteSection::kSummary, kAlice, "A bad deploy broke checkout for 30 minutes.");
  add_note(r, NoteSection::kImpact, kBob, "About 1,200 checkouts failed; no data was lost.");
  add_note(r, NoteSection::kCause, kAlice, "The new build defaulted the payment flag to off.");
  add_note(r, NoteSection::kWhy, kAlice, "the flag's default changed in a refactor");
  add_note(r, NoteSection::kWentWell, kCarol, "Rollback took 4 minutes.");
  add_note(r, NoteSection::kLesson, kCarol, "Flag defaults need tests.");
  add_action(r, 1, "Add a test for flag defaults", kCarol, "2026-11-27", ActionKind::kPrevent,
             ActionStatus::kOpen);
  add_action(r, 2, "Alert on checkout 5xx > 1%", std::nullopt, std::nullopt, ActionKind::kDetect,
             ActionStatus::kOpen);
  add_action(r, 3, "Write a rollback runbook", kDave, std::nullopt, ActionKind::kNone,
             ActionStatus::kDone);
  return r;
}

std::string render(IncidentRecord r, const char* now = "2026-11-20 15:10:00") {
  return render_markdown(assemble_draft(std::move(r), ts(now)));
}

// The text between "## <title>" and the next "## " heading.
std::string section(const std::string& md, const std::string& title) {
  const std::size_t start = md.find("\n## " + title + "\n");
  if (start == std::string::npos) return "";
  const std::size_t end = md.find("\n## ", start + 1);
  return md.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

TEST(PostmortemMarkdown, SmallIncidentExactly) {
  const std::string expected = R"(# Postmortem: INC-42 — Checkout errors after deploy

- **Customer impact:** 30m 00s (impact began 2026-11-20 14:00:00 UTC → mitigated 2026-11-20 14:30:00 UTC)
- **Incident duration:** 1h 00m 00s (first timeline event to resolution)
- **Severity:** sev2
- **Status:** Resolved
- **Declared:** 2026-11-20 14:05:30 UTC
- **Mitigated:** 2026-11-20 14:30:00 UTC
- **Resolved:** 2026-11-20 15:00:00 UTC
- **Commander:** Alice
- **Participants:** Alice, Bob, Carol, Dave

## Summary

A bad deploy broke checkout for 30 minutes.

## Impact

- About 1,200 checkouts failed; no data was lost.
- 14:00:00 — Checkout error rate rose from 0.1% to 12%

## Key durations

| Measure | From | To | Duration |
|---|---|---|---|
| Time to detect | impact began at 14:00:00 | detected at 14:03:10 | 3m 10s |
| Time to mitigate | impact began at 14:00:00 | mitigated at 14:30:00 | 30m 00s |
| Time to resolve | impact began at 14:00:00 | resolved at 15:00:00 | 1h 00m 00s |
| Time from declaration to resolution | declared at 14:05:30 | resolved at 15:00:00 | 54m 30s |

*Impact began*: the earliest `#impact` event. *Detected*: the earliest `#detected` or `#alert` event, or the declaration if that was earlier or there is none. *Mitigated*: `/incident mitigated`, else the resolution. *Resolved*: `/incident resolved`. A span that would be negative (say, detected before impact began) counts as 0s, with a remark.

## Timeline

All times UTC on 2026-11-20.

| # | Time (UTC) | Since start | Author | Kind | Event |
|---:|---|---|---|---|---|
| 3 | 14:00:00 | +00:00:00 | Bob | impact | Checkout error rate rose from 0.1% to 12% |
| 2 | 14:03:10 | +00:03:10 | Bob | alert | PagerDuty: checkout 5xx > 5% |
| 1 | 14:05:30 | +00:05:30 | Alice | declared | Incident declared (sev2) |
| 4 | 14:12:00 | +00:12:00 | Carol |  | Rolled back deploy 2026.11.20-3 \| canary only |
| 5 | 14:30:00 | +00:30:00 | Alice | mitigated | Error rate back to 0.1% |
| 6 | 15:00:00 | +01:00:00 | Alice | resolved | Resolved |

## Root cause and contributing factors

- The new build defaulted the payment flag to off.

### Five whys

1. Why? the flag's default changed in a refactor

## What went well

- Rollback took 4 minutes.

## What went wrong

*Missing — add with `/incident went-wrong <text>`.*

## Where we got lucky

*Missing — add with `/incident lucky <text>`.*

## Lessons learned

- Flag defaults need tests.

## Action items

| # | Action | Owner | Due | Kind | Status |
|---:|---|---|---|---|---|
| 1 | Add a test for flag defaults | Carol | 2026-11-27 | prevent | open |
| 2 | Alert on checkout 5xx > 1% | **unassigned** | **no due date** | detect | open |
| 3 | Write a rollback runbook | Dave | **no due date** | — | done |

---

Drafted by Scribe at 2026-11-20 15:10:00 UTC. Times are UTC.
)";
  EXPECT_EQ(render(small_incident()), expected);
}

TEST(PostmortemMarkdown, OpenIncidentShowsDurationSoFar) {
  const std::string md = render(bare_record(), "2026-11-20 14:50:30");
  EXPECT_TRUE(has(md, "- **Status:** Open\n"));
  EXPECT_TRUE(has(md, "- **Severity:** sev3\n"));
  EXPECT_TRUE(has(md, "- **Mitigated:** —\n"));
  EXPECT_TRUE(has(md, "- **Resolved:** —\n"));
  EXPECT_TRUE(has(md,
                  "- **Incident duration so far:** 45m 00s (first timeline event to this draft; "
                  "not resolved)\n"));
  EXPECT_TRUE(has(md, "Drafted by Scribe at 2026-11-20 14:50:30 UTC."));
}

TEST(PostmortemMarkdown, CustomerImpactLeadsTheHeaderAcrossMidnight) {
  IncidentRecord r = bare_record();
  r.incident.declared_at = ts("2026-11-20 23:50:00");
  r.events.clear();
  add_event(r, 1, "2026-11-20 23:50:00", kAlice, EventKind::kDeclared, "Incident declared");
  add_event(r, 2, "2026-11-20 23:40:00", kBob, EventKind::kImpact, "5% of logins fail");
  add_event(r, 3, "2026-11-21 00:25:00", kAlice, EventKind::kMitigated, "failover done");
  r.incident.mitigated_at = ts("2026-11-21 00:25:00");
  r.incident.status = IncidentStatus::kResolved;
  r.incident.resolved_at = ts("2026-11-21 01:10:00");
  const std::string md = render(std::move(r), "2026-11-21 02:00:00");
  const std::string expected_head =
      "# Postmortem: INC-9 — Queue backlog\n\n"
      "- **Customer impact:** 45m 00s (impact began 2026-11-20 23:40:00 UTC → mitigated "
      "2026-11-21 00:25:00 UTC)\n"
      "- **Incident duration:** 1h 30m 00s (first timeline event to resolution)\n";
  EXPECT_EQ(md.substr(0, expected_head.size()), expected_head) << md;
}

TEST(PostmortemMarkdown, CustomerImpactWithoutImpactEventSaysHowToRecordIt) {
  const std::string md = render(bare_record(), "2026-11-20 14:50:30");
  EXPECT_TRUE(has(md,
                  "- **Customer impact:** unknown — no #impact event marks when impact began; "
                  "add with `/timeline #impact <text>` (backdate it: `HH:MM`)\n"))
      << md;
}

TEST(PostmortemMarkdown, CustomerImpactSoFarWhileNotMitigated) {
  IncidentRecord r = bare_record();
  add_event(r, 2, "2026-11-20 14:00:00", kBob, EventKind::kImpact, "queue at 40,000");
  const std::string md = render(std::move(r), "2026-11-20 14:50:30");
  EXPECT_TRUE(has(md,
                  "- **Customer impact so far:** 50m 30s (impact began 2026-11-20 14:00:00 UTC → "
                  "this draft 2026-11-20 14:50:30 UTC; not mitigated yet)\n"))
      << md;
}

TEST(PostmortemMarkdown, CustomerImpactEndsAtResolutionWithoutMitigation) {
  IncidentRecord r = bare_record();
  add_event(r, 2, "2026-11-20 14:00:00", kBob, EventKind::kImpact, "queue at 40,000");
  r.incident.status = IncidentStatus::kResolved;
  r.incident.resolved_at = ts("2026-11-20 14:40:00");
  const std::string md = render(std::move(r), "2026-11-20 14:50:30");
  EXPECT_TRUE(has(md,
                  "- **Customer impact:** 40m 00s (impact began 2026-11-20 14:00:00 UTC → "
                  "resolved 2026-11-20 14:40:00 UTC; no separate mitigation)\n"))
      << md;
}

TEST(PostmortemMarkdown, UnknownDurationsSayWhatIsMissing) {
  const std::string md = section(render(bare_record()), "Key durations");
  EXPECT_TRUE(has(md,
                  "| Time to detect | impact began: — | detected at 14:05:30 (declared; no "
                  "#detected or #alert event) | unknown — no #impact event marks when impact "
                  "began |\n"))
      << md;
  EXPECT_TRUE(has(md,
                  "| Time to mitigate | impact began: — | mitigated: — | unknown — no "
                  "#impact event marks when impact began; not mitigated yet |\n"))
      << md;
  EXPECT_TRUE(has(md,
                  "| Time from declaration to resolution | declared at 14:05:30 | resolved: — "
                  "| unknown — not resolved yet |\n"))
      << md;
}

TEST(PostmortemMarkdown, MitigationFallbackAndNegativeSpanAreExplained) {
  IncidentRecord r = bare_record();
  add_event(r, 2, "2026-11-20 14:00:00", kBob, EventKind::kAlert, "disk 90%");
  add_event(r, 3, "2026-11-20 14:02:00", kBob, EventKind::kImpact, "writes fail");
  r.incident.status = IncidentStatus::kResolved;
  r.incident.resolved_at = ts("2026-11-20 14:40:00");
  const std::string md = section(render(std::move(r)), "Key durations");
  EXPECT_TRUE(has(md,
                  "| Time to detect | impact began at 14:02:00 | detected at 14:00:00 | 0s "
                  "(detected 2m 00s before impact began) |\n"))
      << md;
  EXPECT_TRUE(has(md, "| mitigated at 14:40:00 (resolved; no separate mitigation) | 38m 00s |"))
      << md;
}

TEST(PostmortemMarkdown, SingleDayShowsTimesOnly) {
  IncidentRecord r = bare_record();
  add_event(r, 2, "2026-11-20 23:59:59", kBob, EventKind::kNote, "late");
  const std::string md = section(render(std::move(r), "2026-11-21 00:30:00"), "Timeline");
  EXPECT_TRUE(has(md, "All times UTC on 2026-11-20.\n")) << md;
  EXPECT_TRUE(has(md, "| 1 | 14:05:30 | +00:00:00 | Alice | declared | Incident declared |\n"));
  EXPECT_TRUE(has(md, "| 2 | 23:59:59 | +09:54:29 | Bob |  | late |\n")) << md;
}

TEST(PostmortemMarkdown, MultiDayShowsDatesAndDayOffsets) {
  IncidentRecord r = bare_record();
  add_event(r, 2, "2026-11-21 16:06:31", kBob, EventKind::kNote, "next day");
  add_event(r, 3, "2026-11-23 09:00:00", kBob, EventKind::kNote, "days later");
  const std::string md = render(std::move(r), "2026-11-23 10:00:00");
  const std::string timeline = section(md, "Timeline");
  EXPECT_TRUE(has(timeline, "All times UTC, from 2026-11-20 to 2026-11-23.\n")) << timeline;
  EXPECT_TRUE(has(timeline, "| 1 | 2026-11-20 14:05:30 | +00:00:00 | Alice |"));
  EXPECT_TRUE(has(timeline, "| 2 | 2026-11-21 16:06:31 | +1d 02:01:01 | Bob |")) << timeline;
  EXPECT_TRUE(has(timeline, "| 3 | 2026-11-23 09:00:00 | +2d 18:54:30 | Bob |")) << timeline;
  // The key durations use the same style.
  EXPECT_TRUE(has(section(md, "Key durations"), "declared at 2026-11-20 14:05:30"));
  EXPECT_TRUE(has(md, "- **Incident duration so far:** 2d 19h 54m "));
}

TEST(PostmortemMarkdown, EscapesPipesAndLineBreaksInCells) {
  IncidentRecord r = bare_record();
  add_event(r, 2, "2026-11-20 14:06:00", Person{"U7", "Ops | Bot"}, EventKind::kComms,
            "\nstatus page: `a | b`\nsecond line\r\nthird\rfourth\n\n\nfifth\n");
  add_action(r, 1, "Fix | pipes\nand lines", Person{"U8", "X|Y"}, "2026-12-01|x",
             ActionKind::kProcess, ActionStatus::kOpen);
  const std::string md = render(std::move(r));
  EXPECT_TRUE(has(md,
                  "| 2 | 14:06:00 | +00:00:30 | Ops \\| Bot | comms | status page: \\`a \\| b\\`"
                  " ⏎ second line ⏎ third ⏎ fourth ⏎ fifth |\n"))
      << md;
  EXPECT_TRUE(
      has(md, "| 1 | Fix \\| pipes ⏎ and lines | X\\|Y | 2026-12-01\\|x | process | open |\n"))
      << md;
  // Every timeline and action row keeps exactly its columns.
  for (const std::string& title : {std::string("Timeline"), std::string("Action items")}) {
    const std::string s = section(md, title);
    std::size_t pos = s.find("\n| ");
    while (pos != std::string::npos) {
      const std::size_t end = s.find('\n', pos + 1);
      const std::string line = s.substr(pos + 1, end - pos - 1);
      EXPECT_EQ(count(line, "|") - count(line, "\\|"), 7u) << line;
      pos = s.find("\n| ", pos + 1);
    }
  }
}

TEST(PostmortemMarkdown, NotesCannotBreakTheDocumentStructure) {
  IncidentRecord r = bare_record();
  add_note(r, NoteSection::kCause, kBob, "# not a heading\nline two\n- not a list\n    not code");
  add_note(r, NoteSection::kLesson, kBob, "1. not a numbered item");
  add_note(r, NoteSection::kLesson, kBob, "*emphasis* and `code` are text");
  add_note(r, NoteSection::kWhy, kBob, "Why did the flag flip? A refactor.");
  add_note(r, NoteSection::kSummary, kBob, "---");
  r.incident.title = "Two\nlines";
  const std::string md = render(std::move(r));
  EXPECT_TRUE(has(md, "# Postmortem: INC-9 — Two lines\n"));
  EXPECT_TRUE(has(md, "- \\# not a heading\n  line two\n  \\- not a list\n  not code\n")) << md;
  EXPECT_TRUE(has(md, "- 1\\. not a numbered item\n"));
  EXPECT_TRUE(has(md, "- \\*emphasis\\* and \\`code\\` are text\n")) << md;
  EXPECT_TRUE(has(md, "1. Why did the flag flip? A refactor.\n")) << md;  // no "Why? Why"
  EXPECT_TRUE(has(md, "## Summary\n\n\\---\n"));
}

TEST(PostmortemMarkdown, PlaceholdersNameTheCommandThatFillsEachSection) {
  IncidentRecord r = bare_record();
  r.events.clear();
  const std::string md = render(std::move(r));
  const std::pair<const char*, const char*> expected[] = {
      {"Summary", "*Missing — add with `/incident summary <text>`.*"},
      {"Impact", "`/incident impact <text>` or `/timeline #impact <text>`.*"},
      {"Timeline", "*Missing — add with `/timeline <text>`.*"},
      {"Root cause and contributing factors", "*Missing — add with `/incident cause <text>`.*"},
      {"What went well", "*Missing — add with `/incident went-well <text>`.*"},
      {"What went wrong", "*Missing — add with `/incident went-wrong <text>`.*"},
      {"Where we got lucky", "*Missing — add with `/incident lucky <text>`.*"},
      {"Lessons learned", "*Missing — add with `/incident lesson <text>`.*"},
      {"Action items", "*Missing — add with `/action <text> @owner due YYYY-MM-DD #prevent`.*"},
  };
  for (const auto& [title, line] : expected) {
    EXPECT_TRUE(has(section(md, title), line)) << title << "\n" << section(md, title);
  }
  EXPECT_TRUE(has(md, "### Five whys\n\n*Missing — add with `/incident why <text>`.*\n"));
  EXPECT_FALSE(has(md, "| # | Time (UTC)"));
  // The commander is a participant even before anyone wrote anything.
  EXPECT_TRUE(has(md, "- **Participants:** Alice\n"));
}

TEST(PostmortemMarkdown, MatrixPrefixInCommands) {
  const std::string md =
      render_markdown(assemble_draft(bare_record(), ts("2026-11-20 15:00:00")), "!");
  EXPECT_TRUE(has(md, "`!incident summary <text>`"));
  EXPECT_TRUE(has(md, "`!action <text>"));
  EXPECT_FALSE(has(md, "`/incident"));
}

TEST(PostmortemMarkdown, ActionItemsFlagMissingOwnerDueAndKind) {
  IncidentRecord r = bare_record();
  add_action(r, 1, "Nobody owns this", std::nullopt, std::nullopt, ActionKind::kNone,
             ActionStatus::kOpen);
  add_action(r, 2, "Owned", kBob, "", ActionKind::kMitigate, ActionStatus::kDone);
  const std::string md = section(render(std::move(r)), "Action items");
  EXPECT_TRUE(has(md, "| 1 | Nobody owns this | **unassigned** | **no due date** | — | open |\n"))
      << md;
  EXPECT_TRUE(has(md, "| 2 | Owned | Bob | **no due date** | mitigate | done |\n")) << md;
}

TEST(PostmortemMarkdown, TenThousandEvents) {
  IncidentRecord r = bare_record();
  r.events.reserve(10'001);
  for (int i = 0; i < 10'000; ++i) {
    TimelineEvent e;
    e.seq = i + 2;
    e.kind = i % 100 == 0 ? EventKind::kImpact : EventKind::kNote;
    e.occurred_at = ts("2026-11-20 14:05:30") + std::chrono::seconds{i * 30};
    e.author = i % 2 ? kBob : kCarol;
    e.text = "p99 latency at " + std::to_string(i) + " ms | still high";
    r.events.push_back(std::move(e));
  }
  const Draft d = assemble_draft(std::move(r), ts("2026-11-25 00:00:00"));
  ASSERT_EQ(d.timeline.size(), 10'001u);
  EXPECT_EQ(d.impact_events.size(), 100u);
  const std::string md = render_markdown(d);
  const std::string timeline = section(md, "Timeline");
  EXPECT_EQ(count(timeline, "\n| "), 10'002u);  // header plus one row per event
  // 9,999 × 30 s is about 3.5 days: dates are shown, offsets count days.
  EXPECT_TRUE(has(timeline, "| 10001 | 2026-11-24 01:25:00 | +3d 11:19:30 | Bob |")) << md.size();
  EXPECT_EQ(count(md, "still high"), 10'000u + 100u);  // timeline + impact list
}

// The "## " and "### " headings of a document, in order.
std::vector<std::string> headings(const std::string& md) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < md.size()) {
    const std::size_t eol = md.find('\n', pos);
    const std::string line = md.substr(pos, eol - pos);
    if (line.starts_with("## ") || line.starts_with("### ")) out.push_back(line);
    if (eol == std::string::npos) break;
    pos = eol + 1;
  }
  return out;
}

IncidentRecord long_incident(int events) {
  IncidentRecord r = small_incident();
  for (int i = 0; i < events; ++i) {
    TimelineEvent e;
    e.seq = 100 + i;
    e.occurred_at = ts("2026-11-20 14:13:00") + std::chrono::milliseconds{i * 100};
    e.author = kBob;
    e.text = "retry storm on shard " + std::to_string(i) + ": " + std::string(150, 'x');
    r.events.push_back(std::move(e));
  }
  return r;
}

const char* const kWhereWhole =
    "*Shortened to fit a chat message. The whole draft: `scribe draft INC-42` or "
    "`GET /api/incidents/42/postmortem.md` (or `.html`).*\n";

TEST(PostmortemMarkdown, ChatDraftIsTheWholeDraftWhenItFits) {
  const Draft d = assemble_draft(small_incident(), ts("2026-11-20 15:10:00"));
  const std::string whole = render_markdown(d);
  ASSERT_LT(whole.size(), kChatDraftBytes);
  EXPECT_EQ(render_markdown(d, "/", kChatDraftBytes), whole);
  EXPECT_EQ(render_markdown(d, "/", whole.size()), whole);
}

TEST(PostmortemMarkdown, LongTimelineIsShortenedForChatKeepingEverySection) {
  const Draft d = assemble_draft(long_incident(3000), ts("2026-11-20 15:10:00"));
  const std::string whole = render_markdown(d);
  const std::string chat = render_markdown(d, "/", kChatDraftBytes);
  ASSERT_GT(whole.size(), 50 * kChatDraftBytes);
  EXPECT_LE(chat.size(), kChatDraftBytes);
  EXPECT_GT(chat.size(), kChatDraftBytes / 2) << "the room is used";
  EXPECT_EQ(headings(chat), headings(whole));
  EXPECT_TRUE(has(chat, kWhereWhole)) << chat;
  // The sections other than the timeline are whole, word for word.
  for (const char* title : {"Summary", "Impact", "Key durations", "Action items"}) {
    EXPECT_EQ(section(chat, title), section(whole, title)) << title;
  }
  // The timeline: its first rows, one row saying what is left out, its last rows.
  const std::string timeline = section(chat, "Timeline");
  const std::size_t rows = count(timeline, "\n| ") - 1;  // minus the header
  const std::size_t gap = timeline.find("| … | | | | | *");
  ASSERT_NE(gap, std::string::npos) << timeline;
  std::size_t left_out = 0;
  ASSERT_EQ(std::sscanf(timeline.c_str() + gap, "| … | | | | | *%zu more events", &left_out), 1);
  EXPECT_EQ(rows - 1 + left_out, d.timeline.size());
  EXPECT_TRUE(has(timeline, "| 3 | 14:00:00 | +00:00:00 | Bob | impact |")) << "first event";
  EXPECT_TRUE(has(timeline, "| 6 | 15:00:00 | +01:00:00 | Alice | resolved | Resolved |"))
      << "last event";
  // Whole rows only: every row still has its six cells.
  for (std::size_t pos = timeline.find("\n| "); pos != std::string::npos;
       pos = timeline.find("\n| ", pos + 1)) {
    const std::string line = timeline.substr(pos + 1, timeline.find('\n', pos + 1) - pos - 1);
    EXPECT_EQ(count(line, "|") - count(line, "\\|"), 7u) << line;
  }
}

TEST(PostmortemMarkdown, LongListsAreShortenedWithCounts) {
  IncidentRecord r = small_incident();
  for (int i = 0; i < 400; ++i) {
    add_note(r, NoteSection::kLesson, kCarol, "lesson " + std::to_string(i) + std::string(80, 'l'));
    add_action(r, 10 + i, "action " + std::to_string(i), kDave, "2026-12-01", ActionKind::kPrevent,
               ActionStatus::kOpen);
  }
  const Draft d = assemble_draft(std::move(r), ts("2026-11-20 15:10:00"));
  const std::string chat = render_markdown(d, "/", kChatDraftBytes);
  EXPECT_LE(chat.size(), kChatDraftBytes);
  const std::string lessons = section(chat, "Lessons learned");
  const std::size_t shown = count(lessons, "\n- ");
  EXPECT_GT(shown, 0u);
  EXPECT_TRUE(has(lessons, "\n*… and " + std::to_string(401 - shown) + " more not shown here.*\n"))
      << lessons;
  const std::string actions = section(chat, "Action items");
  const std::size_t action_rows = count(actions, "\n| ") - 2;  // header and the "…" row
  EXPECT_TRUE(has(actions, "| … | *" + std::to_string(403 - action_rows) +
                               " more action items not shown here* | | | | |\n"))
      << actions;
  EXPECT_TRUE(has(chat, kWhereWhole));
}

TEST(PostmortemMarkdown, LongAuditTrailIsShortenedWithCount) {
  IncidentRecord r = small_incident();
  for (int i = 0; i < 2000; ++i) {
    ActionRevision rev;
    rev.action_id = 1;
    rev.seq = 1;
    rev.field = "owner";
    rev.before = "owner " + std::to_string(i);
    rev.after = "owner " + std::to_string(i + 1);
    rev.changed_by = kCarol;
    rev.changed_at = ts("2026-11-20 15:00:00");
    r.action_history.push_back(std::move(rev));
  }
  const Draft d = assemble_draft(std::move(r), ts("2026-11-20 15:10:00"));
  const std::string whole = render_markdown(d);
  ASSERT_GT(whole.size(), 5 * kChatDraftBytes);
  const std::string chat = render_markdown(d, "/", kChatDraftBytes);
  EXPECT_LE(chat.size(), kChatDraftBytes);
  const std::string actions = section(chat, "Action items");
  const std::size_t shown = count(actions, "\n- ");
  EXPECT_GT(shown, 0u);
  EXPECT_TRUE(has(actions, "- 2026-11-20 15:00:00 #1 owner: owner 0 → owner 1 (Carol)\n"))
      << actions;
  EXPECT_TRUE(has(actions, "\n*… and " + std::to_string(2000 - shown) + " more not shown here.*\n"))
      << actions;
  EXPECT_TRUE(has(chat, kWhereWhole));
}

TEST(PostmortemMarkdown, HugeSingleNoteIsCutForChat) {
  IncidentRecord r = small_incident();
  add_note(r, NoteSection::kCause, kCarol, std::string(60000, 'c'));
  const Draft d = assemble_draft(std::move(r), ts("2026-11-20 15:10:00"));
  const std::string chat = render_markdown(d, "/", kChatDraftBytes);
  EXPECT_LE(chat.size(), kChatDraftBytes);
  EXPECT_TRUE(chat.ends_with(kWhereWhole)) << chat.substr(chat.size() - 300);
}

}  // namespace
}  // namespace scribe
