// End-to-end: action items tracked in Jira (Cloud and Data Center), GitHub and GitLab,
// against a stand-in tracker started by the test on loopback (tests/support/
// tracker_standin.h). The real `scribe serve`, signed Slack commands, real SQLite.
#include <chrono>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "e2e/fixture.h"
#include "support/tracker_standin.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::json;

// Written out here, independent of Scribe's own code, as the senders compute it.
std::string hmac_hex(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &n);
  std::string out;
  for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", mac[i]);
  return out;
}

enum class Flavor { kGitHub, kGitLab, kJiraCloud, kJiraDataCenter };

std::string flavor_name(Flavor f) {
  switch (f) {
    case Flavor::kGitHub:
      return "GitHub";
    case Flavor::kGitLab:
      return "GitLab";
    case Flavor::kJiraCloud:
      return "JiraCloud";
    case Flavor::kJiraDataCenter:
      return "JiraDataCenter";
  }
  return "";
}

constexpr const char* kWebhookSecret = "wh-secret-3c1d";

class TrackerE2E : public testing::ScribeE2E, public ::testing::WithParamInterface<Flavor> {
 protected:
  void SetUp() override {
    const std::string base = tracker_.base_url();
    switch (GetParam()) {
      case Flavor::kGitHub:
        env_ = {{"SCRIBE_GITHUB_API_URL", base},
                {"SCRIBE_GITHUB_TOKEN", tracker_.token()},
                {"SCRIBE_GITHUB_REPO", "acme/web"},
                {"SCRIBE_GITHUB_WEBHOOK_SECRET", kWebhookSecret}};
        break;
      case Flavor::kGitLab:
        env_ = {{"SCRIBE_GITLAB_URL", base},
                {"SCRIBE_GITLAB_TOKEN", tracker_.token()},
                {"SCRIBE_GITLAB_PROJECT", "grp/proj"},
                {"SCRIBE_GITLAB_WEBHOOK_TOKEN", kWebhookSecret}};
        break;
      case Flavor::kJiraCloud:
      case Flavor::kJiraDataCenter:
        env_ = {{"SCRIBE_JIRA_URL", base},
                {"SCRIBE_JIRA_USER", tracker_.user()},
                {"SCRIBE_JIRA_TOKEN", tracker_.token()},
                {"SCRIBE_JIRA_PROJECT", "OPS"},
                {"SCRIBE_JIRA_API", GetParam() == Flavor::kJiraCloud ? "cloud" : "datacenter"},
                {"SCRIBE_JIRA_WEBHOOK_SECRET", kWebhookSecret}};
        break;
    }
    env_["SCRIBE_TRACKER_POSTMORTEM_URL"] = "https://scribe.example/incidents/{id}";
    env_["SCRIBE_TRACKER_REFRESH_MINUTES"] = "off";
    ScribeE2E::SetUp();
  }

  json action(int seq) {
    const json incident = api_json("/api/incidents/1");
    for (const auto& a : incident["actions"]) {
      if (a["seq"] == seq) return a;
    }
    return json();
  }

  // Item `seq`'s issue key once every tracker job has run (scribe_outbox_pending is 0); ""
  // when it has none.
  std::string wait_for_key(int seq) {
    EXPECT_TRUE(wait_for_outbox_drained());
    const json a = action(seq);
    if (!a.contains("tracker") || !a["tracker"].is_object()) return "";
    return a["tracker"]["key"];
  }

  // Creation calls the stand-in answered (any status).
  std::size_t creates() const {
    switch (GetParam()) {
      case Flavor::kGitHub:
      case Flavor::kGitLab:
        return tracker_.count("POST", "/issues");
      case Flavor::kJiraCloud:
      case Flavor::kJiraDataCenter:
        return tracker_.count("POST", "/issue") - tracker_.count("POST", "/transitions");
    }
    return 0;
  }

  std::string webhook_path() const {
    switch (GetParam()) {
      case Flavor::kGitHub:
        return "/webhooks/github";
      case Flavor::kGitLab:
        return "/webhooks/gitlab";
      default:
        return "/webhooks/jira";
    }
  }

  // The tracker's webhook saying `key` was closed (or reopened), as the sender shapes it.
  std::string webhook_body(const std::string& key, bool closed, int nonce = 0) const {
    const std::string number = key.substr(key.rfind('#') + 1);
    switch (GetParam()) {
      case Flavor::kGitHub:
        return json{{"action", closed ? "closed" : "reopened"},
                    {"issue",
                     {{"number", std::stoi(number)},
                      {"state", closed ? "closed" : "open"},
                      {"updated_at", fmt::format("2026-11-28T12:00:{:02}Z", nonce)}}},
                    {"repository", {{"full_name", "acme/web"}}},
                    {"sender", {{"login", "carol"}}}}
            .dump();
      case Flavor::kGitLab:
        return json{{"object_kind", "issue"},
                    {"event_type", "issue"},
                    {"user", {{"username", "carol"}}},
                    {"project", {{"id", 15}, {"path_with_namespace", "grp/proj"}}},
                    {"object_attributes",
                     {{"iid", std::stoi(number)},
                      {"action", closed ? "close" : "reopen"},
                      {"state", closed ? "closed" : "opened"},
                      {"updated_at", fmt::format("2026-11-28 12:00:{:02} UTC", nonce)}}}}
            .dump();
      default:
        return json{{"timestamp", 1764331200000LL + nonce},
                    {"webhookEvent", "jira:issue_updated"},
                    {"user", {{"displayName", "carol"}}},
                    {"issue",
                     {{"key", key},
                      {"fields",
                       {{"status",
                         {{"name", closed ? "Done" : "To Do"},
                          {"statusCategory", {{"key", closed ? "done" : "new"}}}}}}}}},
                    {"changelog",
                     {{"items",
                       {{{"field", "status"},
                         {"fromString", closed ? "To Do" : "Done"},
                         {"toString", closed ? "Done" : "To Do"}}}}}}}
            .dump();
    }
  }

  // POSTs a webhook signed (or tokened) with `secret`, under delivery id `delivery`.
  HttpResult send_webhook(const std::string& body, const std::string& secret,
                          const std::string& delivery) {
    std::vector<std::string> headers = {"Content-Type: application/json"};
    std::string path = webhook_path();
    switch (GetParam()) {
      case Flavor::kGitHub:
        headers.push_back("X-GitHub-Event: issues");
        headers.push_back("X-GitHub-Delivery: " + delivery);
        headers.push_back("X-Hub-Signature-256: sha256=" + hmac_hex(secret, body));
        break;
      case Flavor::kGitLab:
        headers.push_back("X-Gitlab-Event: Issue Hook");
        headers.push_back("X-Gitlab-Event-UUID: " + delivery);
        headers.push_back("X-Gitlab-Token: " + secret);
        break;
      case Flavor::kJiraCloud:
        headers.push_back("X-Atlassian-Webhook-Identifier: " + delivery);
        headers.push_back("X-Hub-Signature: sha256=" + hmac_hex(secret, body));
        break;
      case Flavor::kJiraDataCenter:
        // Data Center signs nothing: the secret is in the URL the admin registered.
        path += "?secret=" + secret;
        break;
    }
    return http_.request("POST", scribe_->base_url() + path, headers, body);
  }

  testing::TrackerStandIn tracker_;
};

TEST_P(TrackerE2E, ExactlyOneIssueThroughA429AndACrashAndWebhooksBothWays) {
  slack_->command("/incident", "start sev2 Checkout errors", "C0INC", testing::kAlice);
  slack_->command("/action", "Alert on pool size 0 <@U0BOB|bob> due 2026-12-15 #detect", "C0INC",
                  testing::kAlice);
  slack_->command("/action", "Pin the library default <@U0BOB|bob> #prevent", "C0INC",
                  testing::kAlice);

  // 1. Through a 429 with Retry-After: the outbox waits and tries again; one issue.
  tracker_.fail_next(1, 429, {{"Retry-After", "1"}}, "POST");
  const json r = slack_->command("/action", "track 1", "C0INC", testing::kAlice);
  EXPECT_THAT(r.dump(), HasSubstr("will be tracked"));
  const std::string key1 = wait_for_key(1);
  ASSERT_FALSE(key1.empty()) << scribe_->logs();
  ASSERT_EQ(tracker_.issues().size(), 1u);
  EXPECT_EQ(creates(), 2u);  // the 429, then the 201
  const testing::StandInIssue issue = tracker_.issues()[0];
  EXPECT_EQ(issue.key, key1);
  EXPECT_EQ(issue.title, "Alert on pool size 0");
  EXPECT_THAT(issue.labels, ::testing::Contains("detect"));
  EXPECT_THAT(issue.labels, ::testing::Contains("scribe-action-1"));
  const std::string description = issue.description.dump();
  EXPECT_THAT(description, HasSubstr("@bob"));  // not in the user map: named in the body
  EXPECT_THAT(description, HasSubstr("INC-1"));
  EXPECT_THAT(description, HasSubstr("https://scribe.example/incidents/1"));
  if (GetParam() != Flavor::kGitHub) {
    EXPECT_EQ(issue.due, "2026-12-15");  // GitHub issues have no due date: it is in the body
  }
  EXPECT_THAT(description, HasSubstr("2026-12-15"));
  // Tracking again is refused as already done; nothing new is created.
  EXPECT_THAT(slack_->command("/action", "track 1", "C0INC", testing::kAlice).dump(),
              HasSubstr("already tracked"));

  // 2. A crash between the tracker's creation and Scribe's commit: the stand-in makes the
  // issue and holds its answer; Scribe is killed; after the restart the retry finds the
  // issue by its marker label instead of creating another.
  tracker_.hold_creates(true);
  slack_->command("/action", "track 2", "C0INC", testing::kAlice);
  ASSERT_TRUE(tracker_.wait_for_issues(2, 10s));
  scribe_->kill_hard();
  tracker_.hold_creates(false);
  start();
  const std::string key2 = wait_for_key(2);
  ASSERT_FALSE(key2.empty()) << scribe_->logs();
  EXPECT_EQ(tracker_.issues().size(), 2u);
  EXPECT_EQ(creates(), 3u);
  EXPECT_EQ(tracker_.issues()[1].key, key2);
  EXPECT_THAT(scribe_->logs(), HasSubstr("already has issue"));
  // Shown where items are shown.
  const std::string list = slack_->command("/action", "list", "C0INC", testing::kAlice).dump();
  EXPECT_THAT(list, HasSubstr(key1));
  EXPECT_THAT(list, HasSubstr(key2));
  EXPECT_THAT(api("/api/incidents/1/postmortem.md").body, HasSubstr(key2));
  const json draft = json::parse(api("/api/incidents/1/postmortem.json").body);
  EXPECT_EQ(draft["actions"][0]["tracker"]["key"], key1);

  // 3. A signed webhook closing issue 1 marks item 1 done, the tracker on its audit trail.
  const std::string close1 = webhook_body(key1, true);
  HttpResult forged = send_webhook(close1, "not-the-secret", "d-0");
  EXPECT_EQ(forged.status, 401) << forged.body;
  EXPECT_EQ(action(1)["status"], "open");
  HttpResult ok = send_webhook(close1, kWebhookSecret, "d-1");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_THAT(ok.body, HasSubstr("done"));
  EXPECT_EQ(action(1)["status"], "done");  // committed before the answer
  const json revisions = api_json("/api/incidents/1")["action_revisions"];
  EXPECT_THAT(revisions.dump(), HasSubstr("carol"));
  // Replays change nothing: the same delivery, and the same body under a new delivery id.
  EXPECT_THAT(send_webhook(close1, kWebhookSecret, "d-1").body, HasSubstr("duplicate"));
  slack_->command("/action", "reopen 1", "C0INC", testing::kAlice);
  ASSERT_TRUE(tracker_.wait_for([&] { return !tracker_.issues()[0].closed; }, 10s));
  HttpResult replay = send_webhook(close1, kWebhookSecret, "d-2");
  EXPECT_EQ(replay.status, 200);
  EXPECT_THAT(replay.body, HasSubstr("duplicate"));
  EXPECT_EQ(action(1)["status"], "open");
  // A forged reopen of item 1 after a genuine close: still refused.
  ASSERT_EQ(send_webhook(webhook_body(key1, true, 1), kWebhookSecret, "d-3").status, 200);
  EXPECT_EQ(action(1)["status"], "done");
  EXPECT_EQ(send_webhook(webhook_body(key1, false, 2), "wrong", "d-4").status, 401);
  EXPECT_EQ(action(1)["status"], "done");
  // A genuine reopen reopens it.
  ASSERT_EQ(send_webhook(webhook_body(key1, false, 3), kWebhookSecret, "d-5").status, 200);
  EXPECT_EQ(action(1)["status"], "open");

  // 4. `/action done` closes the issue; `reopen` reopens it.
  slack_->command("/action", "done 2", "C0INC", testing::kAlice);
  EXPECT_TRUE(tracker_.wait_for([&] { return tracker_.issues()[1].closed; }, 10s));
  slack_->command("/action", "reopen 2", "C0INC", testing::kAlice);
  EXPECT_TRUE(tracker_.wait_for([&] { return !tracker_.issues()[1].closed; }, 10s));
  EXPECT_EQ(tracker_.issues().size(), 2u);
}

TEST_P(TrackerE2E, BadWebhooksChangeNothing) {
  slack_->command("/incident", "start sev3 Slow search", "C0INC", testing::kAlice);
  slack_->command("/action", "Add an index <@U0BOB|bob> #prevent", "C0INC", testing::kAlice);
  slack_->command("/action", "track 1", "C0INC", testing::kAlice);
  const std::string key = wait_for_key(1);
  ASSERT_FALSE(key.empty()) << scribe_->logs();
  const std::string body = webhook_body(key, true);
  // No credentials at all.
  HttpResult none =
      http_.request("POST", scribe_->base_url() + webhook_path(),
                    {"Content-Type: application/json", "X-GitHub-Event: issues"}, body);
  EXPECT_EQ(none.status, 401) << none.body;
  // Signed, then the body altered (only where a signature covers the body).
  if (GetParam() == Flavor::kGitHub || GetParam() == Flavor::kJiraCloud) {
    std::vector<std::string> headers = {"Content-Type: application/json", "X-GitHub-Event: issues"};
    const std::string sig = "sha256=" + hmac_hex(kWebhookSecret, body);
    headers.push_back(
        (GetParam() == Flavor::kGitHub ? "X-Hub-Signature-256: " : "X-Hub-Signature: ") + sig);
    std::string altered = body;
    altered.insert(altered.size() - 1, ",\"x\":1");
    EXPECT_EQ(http_.request("POST", scribe_->base_url() + webhook_path(), headers, altered).status,
              401);
  }
  // Verified but not JSON.
  EXPECT_EQ(send_webhook("{not json", kWebhookSecret, "m-1").status, 400);
  // Oversize: refused before it is read (server.max_body_bytes).
  EXPECT_EQ(send_webhook(std::string(70 * 1024, ' ') + body, kWebhookSecret, "m-2").status, 413);
  // Another tracker's path is not configured here.
  const std::string other = GetParam() == Flavor::kGitHub ? "/webhooks/gitlab" : "/webhooks/github";
  EXPECT_EQ(http_.request("POST", scribe_->base_url() + other, {}, body).status, 503);
  EXPECT_EQ(action(1)["status"], "open");
  const json revisions = api_json("/api/incidents/1")["action_revisions"];
  for (const auto& r : revisions) EXPECT_NE(r["field"], "status") << r.dump();
}

INSTANTIATE_TEST_SUITE_P(Trackers, TrackerE2E,
                         ::testing::Values(Flavor::kGitHub, Flavor::kGitLab, Flavor::kJiraCloud,
                                           Flavor::kJiraDataCenter),
                         [](const auto& p) { return flavor_name(p.param); });

}  // namespace
}  // namespace scribe
