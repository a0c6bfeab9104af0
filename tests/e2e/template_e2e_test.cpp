// End-to-end: an organisation's draft template (`draft.template`). A broken one stops
// `scribe serve` at start-up with the file, line and column; a good one shapes the
// Markdown and HTML drafts of an incident run through signed Slack commands, in the API,
// in the resolution's chat reply and in `scribe draft`, while the JSON draft is unchanged.
#include <filesystem>
#include <fstream>
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

TEST_F(TemplateE2E, BrokenTemplateStopsTheServiceAtStartUpNamingTheLine) {
  const std::string path = (dir_ / "broken.mustache").string();
  std::ofstream(path) << "# {{incident.ref}}\n\n| {{#timeline}}{{text}} |\n";
  // `timeout` bounds the test should the service start anyway.
  const testing::CliResult r = testing::run_shell(
      "SCRIBE_LISTEN=127.0.0.1:0 SCRIBE_DB='" + (dir_ / "other.db").string() +
      "' SCRIBE_DRAFT_TEMPLATE='" + path + "' timeout 30 '" + SCRIBE_BINARY + "' serve");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("configuration error: draft.template: " + path +
                               ": line 3, column 3: Unclosed section \"timeline\""));
  EXPECT_THAT(r.out, Not(HasSubstr("listening on")));
  // `scribe draft` refuses it the same way rather than print an empty draft.
  const testing::CliResult d =
      run_cli((dir_ / "other.db").string(), "draft 1", "SCRIBE_DRAFT_TEMPLATE='" + path + "' ");
  EXPECT_EQ(d.status, 2) << d.out;
  EXPECT_THAT(d.out, HasSubstr("line 3, column 3"));
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
