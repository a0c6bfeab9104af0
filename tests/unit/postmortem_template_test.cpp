// Draft templates (`draft.template`): the JSON draft's names reach the template, values
// are Markdown-escaped so typed text cannot change the document's structure, and a broken
// template is refused with its line and column, never rendered into an empty draft.
#include "postmortem/template.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "postmortem/draft.h"
#include "postmortem/json.h"
#include "postmortem/review_report.h"
#include "test_support.h"

namespace scribe {
namespace {

using test::kAlice;
using test::kBob;
using test::ts;
using ::testing::HasSubstr;
using ::testing::Not;

IncidentRecord record() {
  IncidentRecord r;
  r.incident.id = 12;
  r.incident.title = "Checkout errors";
  r.incident.severity = Severity::kSev2;
  r.incident.status = IncidentStatus::kResolved;
  r.incident.commander = kAlice;
  r.incident.declared_at = ts("2026-11-20 23:50:00");
  r.incident.mitigated_at = ts("2026-11-21 00:20:00");
  r.incident.resolved_at = ts("2026-11-21 00:40:00");
  r.events.push_back(
      test::event(1, "2026-11-20 23:45:00", kBob, EventKind::kImpact, "5xx at 12% of checkouts"));
  r.events.push_back(
      test::event(2, "2026-11-20 23:50:00", kAlice, EventKind::kDeclared, "Declared"));
  return r;
}

std::string render_with(const std::string& text, IncidentRecord r = record()) {
  const Draft d = assemble_draft(std::move(r), ts("2026-11-21 01:00:00"));
  const DraftTemplate tmpl(text);
  return tmpl.render(draft_to_json(d), "/");
}

std::string error_of(const std::string& text) {
  try {
    DraftTemplate tmpl(text);
  } catch (const TemplateError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(DraftTemplate, SeesTheJsonDraftsNames) {
  const std::string out = render_with(
      "{{incident.ref}} {{incident.severity}} by {{incident.commander.name}}\n"
      "impact {{customer_impact.display}}, total {{total_duration.display}}\n"
      "{{#timeline}}{{seq}}:{{kind}}:{{text}};{{/timeline}}\n"
      "{{^actions}}no actions{{/actions}} {{command_prefix}}\n");
  EXPECT_EQ(out,
            "INC-12 sev2 by Alice\n"
            "impact 35m 00s, total 55m 00s\n"
            "1:impact:5xx at 12% of checkouts;2:declared:Declared;\n"
            "no actions /\n");
}

TEST(DraftTemplate, ValuesAreMarkdownEscapedAndStayOnTheirLine) {
  IncidentRecord r = record();
  r.incident.title = "# Big | bad *deploy* [x](http://evil)\n- not a list\n<b>raw</b>";
  const std::string out = render_with("| {{incident.title}} |\n", std::move(r));
  EXPECT_EQ(out,
            "| \\# Big \\| bad \\*deploy\\* \\[x\\](http://evil) ⏎ \\- not a list ⏎ "
            "\\<b>raw\\</b> |\n");
  EXPECT_EQ(escape_template_value("1. first\r\n\r\nsecond"), "1\\. first ⏎ second");
  EXPECT_EQ(escape_template_value(""), "");
}

TEST(DraftTemplate, TripleMustacheIsRaw) {
  IncidentRecord r = record();
  r.incident.title = "**bold on purpose**";
  EXPECT_EQ(render_with("{{{incident.title}}}", std::move(r)), "**bold on purpose**");
}

TEST(DraftTemplate, BrokenTemplatesNameLineAndColumn) {
  EXPECT_EQ(error_of("# {{incident.ref}}\n\n{{#timeline}}\n| {{text}} |\n"),
            "line 3, column 1: Unclosed section \"timeline\"");
  EXPECT_EQ(error_of("ok\nstill ok\n  {{incident.title\n"), "line 3, column 3: Unclosed tag");
  // A mismatched end: the section left open is named.
  EXPECT_EQ(error_of("{{#actions}}\n{{/timeline}}"),
            "line 1, column 1: Unclosed section \"actions\"");
  EXPECT_EQ(error_of("{{/actions}}"), "line 1, column 1: Unopened section \"actions\"");
  EXPECT_EQ(error_of("{{=<% %>=}}<%incident.ref%>"), "(accepted)");
  EXPECT_EQ(error_of("{{=<% =}}"), "line 1, column 1: Invalid set delimiter tag");
}

TEST(DraftTemplate, LoadNamesTheFileAndRefusesEmptyOrMissingOnes) {
  std::filesystem::path dir;
  test::make_temp_dir("scribe-template", dir);
  const auto write = [&](const char* name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  const std::string broken = write("broken.mustache", "# {{incident.ref}}\n{{#timeline}}\n");
  try {
    load_draft_template(broken);
    ADD_FAILURE() << "a broken template was accepted";
  } catch (const TemplateError& e) {
    EXPECT_EQ(std::string(e.what()), broken + ": line 2, column 1: Unclosed section \"timeline\"");
  }
  EXPECT_THROW(load_draft_template(write("empty.mustache", " \n\n")), TemplateError);
  EXPECT_THROW(load_draft_template((dir / "absent.mustache").string()), TemplateError);
  const auto good = load_draft_template(write("good.mustache", "{{incident.ref}}\n"));
  ASSERT_NE(good, nullptr);
  EXPECT_EQ(good->render(nlohmann::ordered_json{{"incident", {{"ref", "INC-1"}}}}, "!"), "INC-1\n");
  test::remove_temp_dir(dir);
}

TEST(DraftTemplate, TheShippedExampleRendersEverySection) {
  const auto tmpl = load_draft_template(std::string(SCRIBE_SOURCE_DIR) +
                                        "/postmortem/templates/example.md.mustache");
  IncidentRecord r = record();
  ActionItem a;
  a.seq = 1;
  a.text = "Alert on checkout 5xx > 1%";
  a.owner = kBob;
  a.due = "2026-12-01";
  a.kind = ActionKind::kDetect;
  a.created_by = kAlice;
  a.created_at = ts("2026-11-21 00:50:00");
  r.actions.push_back(a);
  const Draft d = assemble_draft(r, ts("2026-11-21 01:00:00"));
  const PostmortemReview review =
      review_postmortem(r, Reviewer(ReviewSettings{}), ts("2026-11-21 01:00:00"));
  const std::string md = render_reviewed_markdown(d, review, "/", 0, tmpl.get());
  EXPECT_THAT(md, HasSubstr("# INC-12: Checkout errors\n"));
  EXPECT_THAT(md, HasSubstr("| Customer impact | 35m 00s |\n"));
  EXPECT_THAT(md, HasSubstr("| Incident duration | 55m 00s |\n"));
  EXPECT_THAT(md, HasSubstr("_No summary yet: `/incident summary <text>`._"));
  EXPECT_THAT(md,
              HasSubstr("| 2026-11-20T23:45:00.000Z | Bob | impact | 5xx at 12% of checkouts |"));
  EXPECT_THAT(md,
              HasSubstr("- [open] Alert on checkout 5xx > 1% — Bob, due 2026-12-01 (detect)\n"));
  EXPECT_THAT(md, HasSubstr("- **missing**: "));  // the review's findings reach the template
  EXPECT_THAT(md, Not(HasSubstr("{{")));
}

TEST(DraftTemplate, ChatFallsBackToScribesShortDraftWhenTheTemplateIsTooLong) {
  const DraftTemplate tmpl(std::string(20000, 'x'));
  const IncidentRecord r = record();
  const Draft d = assemble_draft(r, ts("2026-11-21 01:00:00"));
  const PostmortemReview review =
      review_postmortem(r, Reviewer(ReviewSettings{}), ts("2026-11-21 01:00:00"));
  const std::string chat = render_reviewed_markdown(d, review, "/", 10000, &tmpl);
  EXPECT_THAT(chat, HasSubstr("# Postmortem: INC-12"));
  EXPECT_EQ(render_reviewed_markdown(d, review, "/", 0, &tmpl), std::string(20000, 'x'));
}

}  // namespace
}  // namespace scribe
