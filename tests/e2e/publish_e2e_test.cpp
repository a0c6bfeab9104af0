// Publishing end to end: the real scribe, signed Slack commands, and the stand-in
// Confluence and GitHub (tests/support/tracker_standin.h): a resolved incident is
// published once to each through a 429 and a crash, then updated in place after an edit.
#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/tracker_standin.h"
#include "tests/e2e/fixture.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using testing::json;
using namespace std::chrono_literals;

class PublishE2E : public testing::ScribeE2E {
 protected:
  void SetUp() override {
    const std::string base = standin_.base_url();
    env_ = {{"SCRIBE_CONFLUENCE_URL", base},
            {"SCRIBE_CONFLUENCE_USER", standin_.user()},
            {"SCRIBE_CONFLUENCE_TOKEN", standin_.token()},
            {"SCRIBE_CONFLUENCE_SPACE", "OPS"},
            {"SCRIBE_CONFLUENCE_PARENT", "4242"},
            {"SCRIBE_CONFLUENCE_API", "cloud"},
            {"SCRIBE_GITHUB_API_URL", base},
            {"SCRIBE_GITHUB_TOKEN", standin_.token()},
            {"SCRIBE_GITHUB_REPO", "acme/postmortems"},
            {"SCRIBE_TRACKER_REFRESH_MINUTES", "off"},
            {"SCRIBE_PUBLISH_AUTOMATIC", "confluence, git"}};
    ScribeE2E::SetUp();
  }

  // The incident's postmortem as the JSON draft has it.
  std::string links_of(int id) {
    return api_json("/api/incidents/" + std::to_string(id) +
                    "/postmortem.json")["sections"]["links"]
        .dump();
  }

  testing::TrackerStandIn standin_;
};

TEST_F(PublishE2E, OncePerDestinationThroughA429AndACrashThenUpdatedInPlace) {
  slack_->command("/incident", "start sev2 Checkout errors", "C0PUB", testing::kAlice);
  slack_->command("/incident", "summary Checkout returned 502 for 18% of requests for 24 minutes",
                  "C0PUB", testing::kAlice);
  // Nothing is published while the incident is open.
  ASSERT_TRUE(wait_for_outbox_drained());
  EXPECT_TRUE(standin_.pages().empty());

  // 1. Resolution publishes to both, through a 429 with Retry-After on the first write.
  standin_.fail_next(1, 429, {{"Retry-After", "1"}}, "POST");
  slack_->command("/incident", "resolved", "C0PUB", testing::kAlice);
  ASSERT_TRUE(wait_for_outbox_drained()) << scribe_->logs();
  auto pages = standin_.pages();
  auto files = standin_.files();
  ASSERT_EQ(pages.size(), 1u) << scribe_->logs();
  ASSERT_EQ(files.size(), 1u) << scribe_->logs();
  EXPECT_EQ(pages[0].title, "INC-1: Checkout errors \u2014 postmortem");
  EXPECT_EQ(pages[0].parent, "4242");
  EXPECT_THAT(pages[0].body, HasSubstr("<table>"));  // the timeline, as XHTML
  EXPECT_THAT(pages[0].body, HasSubstr("502 for 18% of requests"));
  // postmortems/<declared date>-INC-1-checkout-errors.md
  EXPECT_THAT(files[0].path, ::testing::StartsWith("postmortems/20"));
  EXPECT_THAT(files[0].path, ::testing::EndsWith("-INC-1-checkout-errors.md"));
  EXPECT_EQ(files[0].path.size(),
            std::string("postmortems/2026-11-28-INC-1-checkout-errors.md").size());
  EXPECT_THAT(files[0].content, HasSubstr("502 for 18% of requests"));
  // The addresses joined the supporting links, and the pages were written again with them.
  const std::string links = links_of(1);
  EXPECT_THAT(links, HasSubstr("Published to Confluence: " + standin_.base_url() +
                               "/wiki/spaces/OPS/pages/" + pages[0].id));
  EXPECT_THAT(links, HasSubstr("Published to GitHub: https://github.com/acme/postmortems/blob/"));
  EXPECT_EQ(pages[0].version, 2);
  EXPECT_THAT(pages[0].body, HasSubstr("Published to Confluence"));
  EXPECT_EQ(files[0].commits, 2);

  // 2. A later change updates the same page and file; nothing is duplicated.
  slack_->command("/incident", "cause A connection-pool limit of 0 shipped in build 812", "C0PUB",
                  testing::kAlice);
  ASSERT_TRUE(wait_for_outbox_drained());
  pages = standin_.pages();
  files = standin_.files();
  ASSERT_EQ(pages.size(), 1u);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(pages[0].version, 3);
  EXPECT_THAT(pages[0].body, HasSubstr("connection-pool limit of 0"));
  EXPECT_EQ(files[0].commits, 3);
  EXPECT_THAT(files[0].content, HasSubstr("connection-pool limit of 0"));
  // Asking again with no change writes nothing new.
  EXPECT_THAT(slack_->command("/incident", "publish", "C0PUB", testing::kAlice).dump(),
              HasSubstr("Publishing the INC-1 postmortem to confluence and git"));
  ASSERT_TRUE(wait_for_outbox_drained());
  EXPECT_EQ(standin_.pages()[0].version, 3);
  EXPECT_EQ(standin_.files()[0].commits, 3);

  // 3. A crash between the destinations' answers and our commit: the retry finds the
  // page by its title and the file by its path, and updates them.
  standin_.hold_creates(true);
  slack_->command("/incident", "start sev3 Search slow", "C0PUB2", testing::kAlice);
  slack_->command("/incident", "resolved", "C0PUB2", testing::kAlice);
  ASSERT_TRUE(standin_.wait_for(
      [&] { return standin_.pages().size() == 2 && standin_.files().size() == 2; }, 20s))
      << scribe_->logs();
  scribe_->kill_hard();
  standin_.hold_creates(false);
  start();
  ASSERT_TRUE(wait_for_outbox_drained()) << scribe_->logs();
  pages = standin_.pages();
  files = standin_.files();
  ASSERT_EQ(pages.size(), 2u) << scribe_->logs();
  ASSERT_EQ(files.size(), 2u) << scribe_->logs();
  EXPECT_THAT(links_of(2), HasSubstr("Published to Confluence: " + standin_.base_url() +
                                     "/wiki/spaces/OPS/pages/" + pages[1].id));
}

TEST_F(PublishE2E, UnknownDestinationsAreRefusedAndChangeNothing) {
  slack_->command("/incident", "start sev2 Checkout errors", "C0PUB", testing::kAlice);
  EXPECT_THAT(slack_->command("/incident", "publish notion", "C0PUB", testing::kAlice).dump(),
              HasSubstr("`notion` is not a configured destination; configured: confluence, git"));
  EXPECT_THAT(slack_->command("/incident", "publish", "C0NONE", testing::kAlice).dump(),
              HasSubstr("There is no open incident"));
  ASSERT_TRUE(wait_for_outbox_drained());
  EXPECT_TRUE(standin_.pages().empty());
  EXPECT_TRUE(standin_.files().empty());
}

}  // namespace
}  // namespace scribe
