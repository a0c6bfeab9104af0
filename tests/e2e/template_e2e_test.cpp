// End-to-end: an organisation's draft template (`draft.template`). A broken one is
// reported with the file, line and column (the service's log, /metrics, the command
// line's stderr) and Scribe's own draft is used; a good one shapes the
// Markdown and HTML drafts of an incident run through signed Slack commands, in the API,
// in the resolution's chat reply and in `scribe draft`, while the JSON draft is unchanged.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fixture.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using testing::kAlice;
using testing::kBob;
using testing::run_cli;

using TemplateE2E = testing::ScribeE2E;

const std::string kExample =
    std::string(SCRIBE_SOURCE_DIR) + "/postmortem/templates/example.md.mustache";

// Runs `scribe <args>` on `db` with `env`; stdout in `out`, stderr apart in `err`.
struct SplitResult {
  int status = -1;
  std::string out;
  std::string err;
};
SplitResult run_cli_split(const std::filesystem::path& dir, const std::string& db,
                          const std::string& args, const std::string& env) {
  const std::string err_path = (dir / "stderr.txt").string();
  // The inner redirection wins for the command; run_shell's own 2>&1 sees no stderr.
  const testing::CliResult r =
      testing::run_shell("(" + env + "SCRIBE_DB='" + db + "' SCRIBE_LOG_LEVEL=warn '" +
                         SCRIBE_BINARY + "' " + args + " 2>'" + err_path + "')");
  std::ifstream in(err_path);
  std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {r.status, r.out, err};
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(TemplateE2E, BrokenTemplateIsReportedWithItsLineAndTheDefaultDraftIsServed) {
  const std::string path = (dir_ / "broken.mustache").string();
  std::ofstream(path) << "# {{incident.ref}}\n\n| {{#timeline}}{{text}} |\n";
  const std::string error =
      "draft.template: " + path + ": line 3, column 3: Unclosed section \"timeline\"";
  // The service starts (start() waits for "listening on") and says what is wrong, once.
  start({{"SCRIBE_DRAFT_TEMPLATE", path}});
  EXPECT_EQ(occurrences(scribe_->logs(), error), 1u) << scribe_->logs();
  EXPECT_EQ(metric("scribe_draft_template_fallback"), 1);

  // Incidents are recorded as ever, and the drafts are Scribe's own.
  slack_->command("/incident", "start sev2 Checkout errors", "C0TPL", kAlice);
  slack_->command("/timeline", "#impact 12% of checkouts fail", "C0TPL", kBob);
  const json resolved = slack_->command("/incident", "resolved", "C0TPL", kAlice);
  EXPECT_THAT(resolved.dump(), HasSubstr("# Postmortem: INC-1 — Checkout errors"));
  const HttpResult md = api("/api/incidents/1/postmortem.md");
  ASSERT_EQ(md.status, 200);
  EXPECT_EQ(md.body.rfind("# Postmortem: INC-1 — Checkout errors\n", 0), 0u) << md.body;
  EXPECT_THAT(md.body, HasSubstr("12% of checkouts fail"));
  EXPECT_THAT(md.body, HasSubstr("## Review before the meeting"));
  const HttpResult html = api("/api/incidents/1/postmortem.html");
  ASSERT_EQ(html.status, 200);
  EXPECT_THAT(html.body, HasSubstr("<h1>Postmortem: INC-1 — Checkout errors</h1>"));
  EXPECT_EQ(occurrences(scribe_->logs(), error), 1u) << "logged once, at start-up";
  ASSERT_EQ(scribe_->terminate(), 0) << scribe_->logs();

  // `scribe draft` and `scribe lint` print the same error to stderr and carry on.
  const std::string env = "SCRIBE_DRAFT_TEMPLATE='" + path + "' ";
  const SplitResult d = run_cli_split(dir_, (dir_ / "scribe.db").string(), "draft INC-1", env);
  EXPECT_EQ(d.status, 0) << d.out << d.err;
  EXPECT_THAT(d.err, HasSubstr(error));
  EXPECT_EQ(d.out.rfind("# Postmortem: INC-1 — Checkout errors\n", 0), 0u) << d.out;
  const SplitResult l = run_cli_split(dir_, (dir_ / "scribe.db").string(), "lint INC-1", env);
  EXPECT_EQ(l.status, 1) << l.out << l.err;  // the bare record has findings
  EXPECT_THAT(l.err, HasSubstr(error));
  EXPECT_THAT(l.out, HasSubstr("INC-1: "));
}

TEST_F(TemplateE2E, AGoodTemplateIsNoFallback) {
  start({{"SCRIBE_DRAFT_TEMPLATE", kExample}});
  EXPECT_EQ(metric("scribe_draft_template_fallback"), 0);
  EXPECT_THAT(scribe_->logs(), Not(HasSubstr("draft.template")));
}

TEST_F(TemplateE2E, TemplateShapesTheMarkdownAndHtmlDrafts) {
  start({{"SCRIBE_DRAFT_TEMPLATE", kExample}});
  slack_->command("/incident", "start sev2 Checkout | errors", "C0TPL", kAlice);
  slack_->command("/timeline", "#impact 12% of checkouts fail *badly*", "C0TPL", kBob);
  slack_->command("/incident", "summary A bad deploy broke checkout for 25 minutes.", "C0TPL",
                  kAlice);
  slack_->command("/action", "Alert on checkout 5xx above 1% <@U0BOB|bob> due 2030-01-15 #detect",
                  "C0TPL", kAlice);
  const json resolved = slack_->command("/incident", "resolved", "C0TPL", kAlice);
  EXPECT_THAT(resolved.dump(), HasSubstr("# INC-1: Checkout \\\\| errors"));

  const HttpResult md = api("/api/incidents/1/postmortem.md");
  ASSERT_EQ(md.status, 200);
  EXPECT_EQ(md.body.substr(md.body.find_first_not_of('\n'), 28), "# INC-1: Checkout \\| errors\n")
      << md.body;
  EXPECT_THAT(md.body, HasSubstr("| Customer impact | "));
  EXPECT_THAT(md.body, HasSubstr("A bad deploy broke checkout for 25 minutes."));
  EXPECT_THAT(md.body, HasSubstr("| bob | impact | 12% of checkouts fail \\*badly\\* |"));
  EXPECT_THAT(md.body,
              HasSubstr("- [open] Alert on checkout 5xx above 1% — bob, due 2030-01-15 (detect)"));
  EXPECT_THAT(md.body, Not(HasSubstr("# Postmortem:")));  // not Scribe's own layout

  const HttpResult html = api("/api/incidents/1/postmortem.html");
  ASSERT_EQ(html.status, 200);
  EXPECT_THAT(html.body, HasSubstr("<h1>INC-1: Checkout | errors</h1>"));
  EXPECT_THAT(html.body, HasSubstr("12% of checkouts fail *badly*"));
  EXPECT_THAT(html.body, Not(HasSubstr("<em>badly</em>")));

  const json draft = api_json("/api/incidents/1/postmortem.json");
  EXPECT_EQ(draft["incident"]["title"], "Checkout | errors");

  // The command line uses the same template on the same database.
  const testing::CliResult cli = run_cli((dir_ / "scribe.db").string(), "draft INC-1",
                                         "SCRIBE_DRAFT_TEMPLATE='" + kExample + "' ");
  EXPECT_EQ(cli.status, 0) << cli.out;
  EXPECT_EQ(cli.out.substr(cli.out.find_first_not_of('\n'), 28), "# INC-1: Checkout \\| errors\n")
      << cli.out;
}

}  // namespace
}  // namespace scribe
