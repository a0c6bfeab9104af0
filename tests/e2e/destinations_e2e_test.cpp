// Publishing end to end to GitLab repository files, Notion, Google Docs and Confluence
// Data Center: the real scribe, signed Slack commands, and the stand-ins
// (tests/support/tracker_standin.h). For each, a resolved incident is published once
// through a 429 on the creation and a kill -9 while the destination holds its answer to
// that creation, then updated in place after an edit, never duplicated, and an unchanged
// draft is not written again.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/rsa_key.h"
#include "support/tracker_standin.h"
#include "tests/e2e/fixture.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using testing::json;
using namespace std::chrono_literals;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// What a test reads of its destination.
struct Probe {
  std::string destination;               // "git", "notion", …
  std::string display;                   // "GitLab", "Notion", …
  std::string create_path;               // the path part of the creating POST
  std::function<std::size_t()> count;    // pages or files there
  std::function<std::string()> content;  // the one page's text
  std::function<long long()> version;    // its versions, commits or revisions
};

class DestinationE2E : public testing::ScribeE2E {
 protected:
  void SetUp() override {
    key_dir_ = std::filesystem::temp_directory_path() /
               fmt::format("scribe-dest-{}-{}", getpid(), std::random_device{}());
    std::filesystem::create_directories(key_dir_);
    env_ = {{"SCRIBE_TRACKER_REFRESH_MINUTES", "off"}};
    // Scribe starts in SetUp with no destination; each test starts it again with its own.
    ScribeE2E::SetUp();
  }
  void TearDown() override {
    ScribeE2E::TearDown();
    std::filesystem::remove_all(key_dir_);
  }

  std::string links_of(int id) {
    return api_json("/api/incidents/" + std::to_string(id) +
                    "/postmortem.json")["sections"]["links"]
        .dump();
  }

  void scenario(const Probe& p) {
    slack_->command("/incident", "start sev2 Checkout errors", "C0PUB", testing::kAlice);
    slack_->command("/incident", "summary Checkout returned 502 for 18% of requests for 24 minutes",
                    "C0PUB", testing::kAlice);
    ASSERT_TRUE(wait_for_outbox_drained());
    EXPECT_EQ(p.count(), 0u);  // nothing while the incident is open

    // Resolution: the first creation gets a 429 with Retry-After; the retry creates the
    // page, and Scribe is killed while the destination holds its answer.
    standin_.fail_next(1, 429, {{"Retry-After", "1"}}, "POST", p.create_path);
    standin_.hold_creates(true);
    slack_->command("/incident", "resolved", "C0PUB", testing::kAlice);
    ASSERT_TRUE(standin_.wait_for([&] { return p.count() == 1; }, 20s)) << scribe_->logs();
    std::size_t refused = 0;
    for (const auto& c : standin_.calls()) {
      if (c.status == 429 && c.target.find(p.create_path) != std::string::npos) ++refused;
    }
    EXPECT_EQ(refused, 1u);
    scribe_->kill_hard();
    standin_.hold_creates(false);
    start();
    ASSERT_TRUE(wait_for_outbox_drained()) << scribe_->logs();
    ASSERT_EQ(p.count(), 1u) << scribe_->logs();
    EXPECT_THAT(p.content(), HasSubstr("502 for 18% of requests"));
    // The address joined the supporting links, and the page was written again with it.
    EXPECT_THAT(links_of(1), HasSubstr("Published to " + p.display + ": "));
    EXPECT_THAT(p.content(), HasSubstr("Published to " + p.display));
    EXPECT_EQ(occurrences(p.content(), "502 for 18% of requests"), 1u);

    // An edit updates the same page in place: one more version, nothing duplicated.
    const long long before = p.version();
    slack_->command("/incident", "cause A connection-pool limit of 0 shipped in build 812", "C0PUB",
                    testing::kAlice);
    ASSERT_TRUE(wait_for_outbox_drained()) << scribe_->logs();
    ASSERT_EQ(p.count(), 1u);
    EXPECT_EQ(p.version(), before + 1);
    EXPECT_THAT(p.content(), HasSubstr("connection-pool limit of 0"));
    EXPECT_EQ(occurrences(p.content(), "502 for 18% of requests"), 1u);
    EXPECT_EQ(occurrences(p.content(), "connection-pool limit of 0"), 1u);

    // Asked again with nothing changed: nothing is written.
    EXPECT_THAT(
        slack_->command("/incident", "publish " + p.destination, "C0PUB", testing::kAlice).dump(),
        HasSubstr("Publishing the INC-1 postmortem to " + p.destination));
    ASSERT_TRUE(wait_for_outbox_drained());
    EXPECT_EQ(p.version(), before + 1);
    EXPECT_EQ(p.count(), 1u);
  }

  std::filesystem::path key_dir_;
  testing::TrackerStandIn standin_;
};

TEST_F(DestinationE2E, GitLabRepositoryFiles) {
  start({{"SCRIBE_GITLAB_URL", standin_.base_url()},
         {"SCRIBE_GITLAB_TOKEN", standin_.token()},
         {"SCRIBE_GITLAB_PROJECT", "grp/postmortems"},
         {"SCRIBE_GIT_PROVIDER", "gitlab"},
         {"SCRIBE_PUBLISH_AUTOMATIC", "git"}});
  scenario({"git", "GitLab", "/repository/files/", [&] { return standin_.files().size(); },
            [&] { return standin_.files().empty() ? "" : standin_.files()[0].content; },
            [&] { return standin_.files()[0].commits; }});
  const auto file = standin_.files()[0];
  EXPECT_THAT(file.path,
              ::testing::MatchesRegex(
                  R"(postmortems/20[0-9]{2}-[0-9]{2}-[0-9]{2}-INC-1-checkout-errors\.md)"));
  EXPECT_THAT(links_of(1), HasSubstr("Published to GitLab: https://gitlab.example/grp/postmortems/"
                                     "-/blob/main/" +
                                     file.path));
  // The file made before the crash was found, not made again: one creating POST answered.
  std::size_t created = 0;
  for (const auto& c : standin_.calls()) {
    if (c.method == "POST" && c.target.find("/repository/files/") != std::string::npos &&
        c.status == 201) {
      ++created;
    }
  }
  EXPECT_EQ(created, 1u);
}

std::string notion_text(const testing::StandInNotionPage& page) {
  std::string out;
  for (const json& b : page.blocks) {
    out += b.value("text", "") + "\n";
    if (b.contains("cells")) {
      for (const json& row : b["cells"]) {
        for (const json& cell : row) out += cell.get<std::string>() + " | ";
        out += "\n";
      }
    }
  }
  return out;
}

TEST_F(DestinationE2E, NotionPages) {
  start({{"SCRIBE_NOTION_API_URL", standin_.base_url()},
         {"SCRIBE_NOTION_TOKEN", standin_.token()},
         {"SCRIBE_NOTION_PARENT", testing::TrackerStandIn::kNotionParent},
         {"SCRIBE_PUBLISH_AUTOMATIC", "notion"}});
  // A page is rewritten block by block, so its version is how many writes it took; the
  // stand-in counts them as the PATCHes of the page itself (one per update).
  auto live = [&] {
    std::vector<testing::StandInNotionPage> out;
    for (auto& p : standin_.notion_pages()) {
      if (!p.archived) out.push_back(p);
    }
    return out;
  };
  scenario({"notion", "Notion", "/v1/pages", [&] { return live().size(); },
            [&] { return live().empty() ? std::string() : notion_text(live()[0]); },
            [&] { return static_cast<long long>(standin_.count("PATCH", "/v1/pages/")); }});
  const auto page = live()[0];
  EXPECT_EQ(page.title, "INC-1: Checkout errors \u2014 postmortem");
  EXPECT_EQ(page.parent, testing::TrackerStandIn::kNotionParent);
  bool table = false, heading = false;
  for (const json& b : page.blocks) {
    table = table || (b["type"] == "table" && b["rows"].get<int>() >= 2);
    heading = heading || b["type"] == "heading_2";
  }
  EXPECT_TRUE(table) << notion_text(page);
  EXPECT_TRUE(heading);
  EXPECT_THAT(links_of(1), HasSubstr("Published to Notion: " + page.url));
  EXPECT_EQ(standin_.notion_pages().size(), 1u);  // none made and thrown away
}

TEST_F(DestinationE2E, GoogleDocs) {
  const auto key = testing::make_rsa_key();
  const std::string email = "scribe-publisher@scribe-test.iam.gserviceaccount.com";
  standin_.set_google_account(email, key.public_pem);
  const auto key_file = key_dir_ / "service-account.json";
  std::ofstream(key_file) << testing::service_account_json(key, email,
                                                           standin_.base_url() + "/token");
  // The token endpoint is the key file's token_uri (no SCRIBE_GOOGLE_TOKEN_URL).
  start({{"SCRIBE_GOOGLE_CREDENTIALS", key_file.string()},
         {"SCRIBE_GOOGLE_FOLDER", "0AFolderOfPostmortems"},
         {"SCRIBE_GOOGLE_API_URL", standin_.base_url()},
         {"SCRIBE_PUBLISH_AUTOMATIC", "gdocs"}});
  scenario({"gdocs", "Google Docs", "/upload/drive/v3/files",
            [&] { return standin_.google_docs().size(); },
            [&] { return standin_.google_docs().empty() ? "" : standin_.google_docs()[0].html; },
            [&] { return standin_.google_docs()[0].revisions; }});
  const auto doc = standin_.google_docs()[0];
  EXPECT_EQ(doc.name, "INC-1: Checkout errors \u2014 postmortem");
  EXPECT_EQ(doc.parents, std::vector<std::string>{"0AFolderOfPostmortems"});
  EXPECT_EQ(doc.app_properties.at("scribeIncident"), "INC-1");
  EXPECT_THAT(doc.html, HasSubstr("<table>"));
  EXPECT_THAT(links_of(1),
              HasSubstr("Published to Google Docs: https://docs.google.com/document/d/" + doc.id));
  // One token for each process (the killed one and its successor), reused for every call.
  EXPECT_EQ(standin_.google_tokens_issued(), 2);
  EXPECT_THAT(scribe_->logs(), ::testing::Not(HasSubstr("PRIVATE KEY")));
}

TEST_F(DestinationE2E, ConfluenceDataCenter) {
  start({{"SCRIBE_CONFLUENCE_URL", standin_.base_url()},
         {"SCRIBE_CONFLUENCE_API", "datacenter"},
         {"SCRIBE_CONFLUENCE_TOKEN", standin_.token()},
         {"SCRIBE_CONFLUENCE_SPACE", "OPS"},
         {"SCRIBE_CONFLUENCE_PARENT", "4242"},
         {"SCRIBE_PUBLISH_AUTOMATIC", "confluence"}});
  scenario({"confluence", "Confluence", "/rest/api/content",
            [&] { return standin_.pages().size(); },
            [&] { return standin_.pages().empty() ? "" : standin_.pages()[0].body; },
            [&] { return standin_.pages()[0].version; }});
  const auto page = standin_.pages()[0];
  EXPECT_EQ(page.title, "INC-1: Checkout errors \u2014 postmortem");
  EXPECT_EQ(page.parent, "4242");
  EXPECT_THAT(page.body, HasSubstr("<table>"));
  EXPECT_THAT(links_of(1), HasSubstr("Published to Confluence: " + standin_.base_url() +
                                     "/confluence/pages/viewpage.action?pageId=" + page.id));
}

TEST_F(DestinationE2E, BadDestinationSettingsAreRefusedAtStart) {
  const auto bad = key_dir_ / "bad.json";
  std::ofstream(bad) << R"({"type":"service_account","client_email":"a@b","token_uri":"t"})";
  const auto r =
      testing::run_cli((key_dir_ / "x.db").string(), "draft 1",
                       "SCRIBE_GOOGLE_CREDENTIALS='" + bad.string() + "' SCRIBE_GOOGLE_FOLDER=f ");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("google.credentials: " + bad.string() +
                               ": the key file has no private_key"));
  const auto r2 =
      testing::run_cli((key_dir_ / "x.db").string(), "draft 1", "SCRIBE_NOTION_TOKEN=secret_x ");
  EXPECT_NE(r2.status, 0);
  EXPECT_THAT(r2.out, HasSubstr("notion.parent is not"));
  EXPECT_THAT(r2.out, ::testing::Not(HasSubstr("secret_x")));
  const auto r3 =
      testing::run_cli((key_dir_ / "x.db").string(), "draft 1", "SCRIBE_GIT_PROVIDER=gitlab ");
  EXPECT_NE(r3.status, 0);
  EXPECT_THAT(r3.out, HasSubstr("git.provider is gitlab but gitlab.token"));
}

}  // namespace
}  // namespace scribe
