// User text is text, in every format: hostile titles, events, notes, actions and names
// rendered to Markdown and through cmark-gfm to HTML show exactly what was typed (in its
// display form, util/text.h), with no link, image, script or raw HTML of theirs.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "postmortem/draft.h"
#include "postmortem/html.h"
#include "postmortem/markdown.h"
#include "support/hostile_texts.h"
#include "support/visible_text.h"
#include "test_support.h"
#include "util/markdown_escape.h"
#include "util/text.h"

namespace scribe {
namespace {

using test::kAlice;
using test::ts;
using testing::collapse_whitespace;
using testing::elements;
using testing::expected_block;
using testing::expected_cell;
using testing::hostile_texts;
using testing::visible_text;

IncidentRecord hostile_record() {
  IncidentRecord r;
  r.incident.id = 7;
  r.incident.title = "<script>alert(1)</script> [t](https://evil) #";
  r.incident.commander = Person{"U1", "<b>boss</b>"};
  r.incident.declared_at = ts("2026-11-20 14:00:00");
  const auto& texts = hostile_texts();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    TimelineEvent e = test::event(static_cast<int>(i + 1), "2026-11-20 14:00:00",
                                  Person{"U9", "[eve](https://evil)"}, EventKind::kNote, texts[i]);
    e.occurred_at += std::chrono::seconds(i);
    r.events.push_back(std::move(e));
    Note n;
    n.section = NoteSection::kLesson;
    n.author = kAlice;
    n.text = texts[i];
    r.notes.push_back(n);
    ActionItem a;
    a.seq = static_cast<int>(i + 1);
    a.text = texts[i];
    a.owner = Person{"U8", "*owner*"};
    a.kind = ActionKind::kPrevent;
    if (i % 3 == 2) {  // dropped, with the text as its reason
      a.status = ActionStatus::kDropped;
      a.drop_reason = texts[i];
    }
    r.actions.push_back(std::move(a));
    // The audit trail shows values before and after, and who changed them.
    ActionRevision rev;
    rev.action_id = static_cast<std::int64_t>(i + 1);
    rev.seq = static_cast<int>(i + 1);
    rev.field = "text";
    rev.before = texts[i];
    rev.after = texts[(i + 1) % texts.size()];
    rev.changed_by = Person{"U9", "[eve](https://evil)"};
    rev.changed_at = ts("2026-11-20 14:30:00");
    r.action_history.push_back(std::move(rev));
  }
  Note summary;
  summary.section = NoteSection::kSummary;
  summary.text = texts[0] + "\n" + texts[1];
  r.notes.push_back(summary);
  return r;
}

std::string hostile_markdown() {
  return render_markdown(assemble_draft(hostile_record(), ts("2026-11-20 15:00:00")));
}

// The rows (lists of cells) of the n-th table in `html`.
std::vector<std::vector<std::string>> table_rows(const std::string& html, std::size_t n) {
  const std::vector<std::string> tables = elements(html, "tbody");
  EXPECT_GT(tables.size(), n);
  std::vector<std::vector<std::string>> rows;
  if (tables.size() <= n) return rows;
  for (const std::string& row : elements(tables[n], "tr")) rows.push_back(elements(row, "td"));
  return rows;
}

// The inner HTML between <h2>title</h2> and the next <h2>.
std::string html_section(const std::string& html, const std::string& title) {
  const std::string open = "<h2>" + title + "</h2>";
  const std::size_t start = html.find(open);
  if (start == std::string::npos) return "";
  const std::size_t end = html.find("<h2>", start + open.size());
  return html.substr(start + open.size(),
                     end == std::string::npos ? end : end - start - open.size());
}

void expect_no_markup_of_users(const std::string& html) {
  // Tags Scribe never writes in a draft. Emphasis and the like, which Scribe does write
  // for itself, would show as a difference in the visible text of the field.
  for (const char* bad : {"<a ", "<a>", "<img", "<script", "raw HTML omitted", "<del>",
                          "<blockquote>", "<pre>", "<h4>"}) {
    EXPECT_EQ(html.find(bad), std::string::npos) << "found " << bad;
  }
}

TEST(HostileText, DisplayTextNeutralisesBidiControlsAndBrokenUtf8) {
  EXPECT_EQ(display_text("a\xE2\x80\xAE"
                         "b"),
            "a\xE2\x80\xB9U+202E\xE2\x80\xBA"
            "b");
  EXPECT_EQ(display_text("\xE2\x81\xA6x\xE2\x81\xA9"), "‹U+2066›x‹U+2069›");
  EXPECT_EQ(display_text("\xE2\x80\xAAx\xE2\x80\xAC"), "‹U+202A›x‹U+202C›");
  EXPECT_EQ(display_text("esc\x1b[0m"), "esc‹U+001B›[0m");
  EXPECT_EQ(display_text(std::string("nul\0x", 5)), "nul‹U+0000›x");
  EXPECT_EQ(display_text("del\x7f c1\xC2\x85"), "del‹U+007F› c1‹U+0085›");
  // Broken UTF-8: one U+FFFD per byte, including overlong forms and surrogates.
  EXPECT_EQ(display_text("a\xff"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(display_text("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(display_text("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(display_text("cut \xE2\x82"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  // Kept: tab and line breaks, the bidi marks RTL writers need, all other text.
  const std::string kept = "tab\tline\r\nrlm\xE2\x80\x8F lrm\xE2\x80\x8E alm\xD8\x9C ünï 日本 🎉";
  EXPECT_EQ(display_text(kept), kept);
  EXPECT_TRUE(is_display_safe(kept));
  EXPECT_FALSE(is_display_safe("x\xE2\x80\xAE"));
  EXPECT_FALSE(is_display_safe("\xff"));
}

TEST(HostileText, MarkdownGoldenEscapes) {
  IncidentRecord r;
  r.incident.id = 3;
  r.incident.title = "Title #";
  r.incident.commander = kAlice;
  r.incident.declared_at = ts("2026-11-20 14:00:00");
  const std::vector<std::pair<std::string, std::string>> cells = {
      {"<script>alert(1)</script>", "\\<script>alert(1)\\</script>"},
      {"[click](javascript:alert(1))", "\\[click\\](javascript:alert(1))"},
      {"![x](https://evil/x.png)", "!\\[x\\](https://evil/x.png)"},
      {"**bold** _it_ `code`", "\\*\\*bold\\*\\* \\_it\\_ \\`code\\`"},
      {"| pipe |", "\\| pipe \\|"},
      {"snake_case a\\b \\* end\\", "snake_case a\\b \\\\\\* end\\\\"},
      {"&amp; AT&T &#60;", "\\&amp; AT&T \\&#60;"},
      {"# not a heading in a cell", "# not a heading in a cell"},
  };
  for (std::size_t i = 0; i < cells.size(); ++i) {
    r.events.push_back(test::event(static_cast<int>(i + 1), "2026-11-20 14:00:00", kAlice,
                                   EventKind::kNote, cells[i].first));
  }
  Note note;
  note.section = NoteSection::kLesson;
  note.author = kAlice;
  note.text = "# heading\n> quote\n1. one\n- dash\n---\n===\n    code\n~~~";
  r.notes.push_back(note);
  const std::string md = render_markdown(assemble_draft(std::move(r), ts("2026-11-20 15:00:00")));
  EXPECT_NE(md.find("# Postmortem: INC-3 — Title \\#\n"), std::string::npos) << md;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const std::string row =
        fmt::format("| {} | 14:00:00 | +00:00:00 | Alice |  | {} |\n", i + 1, cells[i].second);
    EXPECT_NE(md.find(row), std::string::npos) << row << "\n" << md;
  }
  EXPECT_NE(md.find("- \\# heading\n  \\> quote\n  1\\. one\n  \\- dash\n  \\---\n  \\===\n"
                    "  code\n  \\~~~\n"),
            std::string::npos)
      << md;
}

TEST(HostileText, HtmlShowsExactlyWhatWasTyped) {
  const std::string md = hostile_markdown();
  // The Markdown itself keeps no raw tag of theirs: every '<' outside Scribe's own code
  // spans is escaped.
  for (std::size_t at = md.find("<script"); at != std::string::npos;
       at = md.find("<script", at + 1)) {
    EXPECT_EQ(md[at - 1], '\\') << md.substr(at - 20, 60);
  }
  const std::string html = markdown_to_html(md);
  expect_no_markup_of_users(html);

  const auto& texts = hostile_texts();
  // Title and facts.
  const std::vector<std::string> h1 = elements(html, "h1");
  ASSERT_EQ(h1.size(), 1u);
  EXPECT_EQ(
      visible_text(h1[0]),
      "Postmortem: INC-7 — " + expected_block("<script>alert(1)</script> [t](https://evil) #"));
  EXPECT_NE(visible_text(html).find("Commander: <b>boss</b>"), std::string::npos);

  // Timeline: tables are key durations, timeline, actions.
  const auto timeline = table_rows(html, 1);
  ASSERT_EQ(timeline.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    ASSERT_EQ(timeline[i].size(), 6u) << i;
    EXPECT_EQ(visible_text(timeline[i][3]), "[eve](https://evil)");
    EXPECT_EQ(visible_text(timeline[i][5]), expected_cell(texts[i])) << "event " << i;
  }
  const auto actions = table_rows(html, 2);
  ASSERT_EQ(actions.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    ASSERT_EQ(actions[i].size(), 6u) << i;
    EXPECT_EQ(visible_text(actions[i][1]), expected_cell(texts[i])) << "action " << i;
    EXPECT_EQ(visible_text(actions[i][2]), "*owner*");
    EXPECT_EQ(visible_text(actions[i][5]),
              i % 3 == 2 ? "won't do: " + expected_cell(texts[i]) : std::string("open"))
        << "action status " << i;
  }
  // The audit trail after the table: one list item per change.
  const std::vector<std::string> changes = elements(html_section(html, "Action items"), "li");
  ASSERT_EQ(changes.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string want = collapse_whitespace(
        fmt::format("2026-11-20 14:30:00 #{} text: {} → {} ([eve](https://evil))", i + 1,
                    expected_cell(texts[i]), expected_cell(texts[(i + 1) % texts.size()])));
    EXPECT_EQ(visible_text(changes[i]), want) << "change " << i;
  }
  // Notes: one list item each.
  const std::vector<std::string> lessons = elements(html_section(html, "Lessons learned"), "li");
  ASSERT_EQ(lessons.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(visible_text(lessons[i]), expected_block(texts[i])) << "note " << i;
  }
  EXPECT_EQ(visible_text(html_section(html, "Summary")),
            expected_block(texts[0] + "\n" + texts[1]));
}

TEST(HostileText, LargeHtmlInPiecesEqualsWhole) {
  IncidentRecord r = hostile_record();
  // A long timeline of hostile texts, and a table after it.
  const auto& texts = hostile_texts();
  for (int i = 0; i < 3000; ++i) {
    TimelineEvent e = test::event(1000 + i, "2026-11-20 14:30:00", kAlice, EventKind::kNote,
                                  texts[static_cast<std::size_t>(i) % texts.size()]);
    e.occurred_at += std::chrono::seconds(i);
    r.events.push_back(std::move(e));
  }
  const std::string md = render_markdown(assemble_draft(std::move(r), ts("2026-11-20 15:00:00")));
  ASSERT_GT(md.size(), 2 * kHtmlPieceBytes);
  std::string whole;
  append_markdown_html(whole, md, md.size() + 1);  // one piece
  for (const std::size_t piece : {kHtmlPieceBytes, std::size_t{4096}, std::size_t{1}}) {
    std::string pieces;
    append_markdown_html(pieces, md, piece);
    EXPECT_EQ(pieces, whole) << "pieces of " << piece;
  }
  expect_no_markup_of_users(whole);
  EXPECT_EQ(table_rows(whole, 1).size(), hostile_texts().size() + 3000);
}

TEST(HostileText, ChatEscapeKeepsCodeSpansOnly) {
  EXPECT_EQ(escape_chat_markdown("Recorded #3: [x](https://evil) `/timeline list` *b*"),
            "Recorded #3: \\[x\\](https://evil) `/timeline list` \\*b\\*");
  EXPECT_EQ(escape_chat_markdown("# a\n> b\n1. c"), "\\# a\n\\> b\n1\\. c");
  EXPECT_EQ(escape_chat_markdown("unmatched ` tick"), "unmatched \\` tick");
  EXPECT_EQ(escape_chat_markdown("``a` b"), "\\`\\`a\\` b");
  EXPECT_EQ(escape_chat_markdown("a `b ``c`` d` e"), "a `b ``c`` d` e");  // one span
  EXPECT_EQ(escape_chat_markdown("<img src=x> \xE2\x80\xAE"), "\\<img src=x> ‹U+202E›");
  const std::string html = markdown_to_html(escape_chat_markdown(
      "Recorded: <script>alert(1)</script> ![x](https://evil/x.png) https://evil.example "
      "`code` & more"));
  EXPECT_EQ(html.find("<a"), std::string::npos) << html;
  EXPECT_EQ(html.find("<img"), std::string::npos) << html;
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_EQ(visible_text(html),
            "Recorded: <script>alert(1)</script> ![x](https://evil/x.png) https://evil.example "
            "code & more");
}

}  // namespace
}  // namespace scribe
