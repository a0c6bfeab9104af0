// The issue-tracker extension: webhook signatures (with GitHub's published example),
// payload parsing of each sender, what an issue says, how answers are classified, and the
// deliverer against the stand-in tracker over a real SQLite file (find before create, the
// refresh fallback). End to end: tests/e2e/tracker_e2e_test.cpp.
#include <date/tz.h>

#include <chrono>
#include <filesystem>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "commands/handler.h"
#include "commands/tracking.h"
#include "support/tracker_standin.h"
#include "trackers/client.h"
#include "trackers/deliverer.h"
#include "trackers/refresher.h"
#include "trackers/webhooks.h"
#include "unit/test_support.h"
#include "util/secret.h"

namespace scribe::trackers {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// --- signatures ---------------------------------------------------------------------------

TEST(TrackerSignature, GitHubsDocumentedExample) {
  // docs.github.com, "Validating webhook deliveries": secret "It's a Secret to Everybody",
  // payload "Hello, World!".
  const std::string expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  EXPECT_EQ(hmac_sha256_hex("It's a Secret to Everybody", "Hello, World!"), expected);
  EXPECT_TRUE(
      verify_hub_signature("It's a Secret to Everybody", "Hello, World!", "sha256=" + expected));
}

TEST(TrackerSignature, Rfc4231TestCase2) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(TrackerSignature, RefusesWhatDoesNotMatch) {
  const std::string secret = "It's a Secret to Everybody";
  const std::string good =
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  EXPECT_FALSE(verify_hub_signature(secret, "Hello, World?", good));            // body changed
  EXPECT_FALSE(verify_hub_signature("another secret", "Hello, World!", good));  // secret
  EXPECT_FALSE(verify_hub_signature(secret, "Hello, World!", good.substr(7)));  // no prefix
  EXPECT_FALSE(verify_hub_signature(secret, "Hello, World!", "sha1=" + good.substr(7)));
  EXPECT_FALSE(verify_hub_signature(secret, "Hello, World!", good.substr(0, good.size() - 1)));
  EXPECT_FALSE(verify_hub_signature(secret, "Hello, World!", ""));
  EXPECT_FALSE(verify_hub_signature("", "Hello, World!", "sha256=" + hmac_sha256_hex("", "x")));
  // Hex in capitals is the same signature.
  std::string upper = good;
  for (std::size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(toupper(upper[i]));
  EXPECT_TRUE(verify_hub_signature(secret, "Hello, World!", upper));
}

// --- payloads -----------------------------------------------------------------------------

TEST(TrackerWebhookParse, GitHubIssuesClosedAndReopened) {
  const json closed = {{"action", "closed"},
                       {"issue", {{"number", 34}, {"state", "closed"}}},
                       {"repository", {{"full_name", "Acme/Web"}}},
                       {"sender", {{"login", "carol"}}}};
  WebhookEvent e = parse_github("issues", closed.dump(), "acme/web");
  ASSERT_EQ(e.what, WebhookEvent::What::kState) << e.reason;
  EXPECT_EQ(e.key, "acme/web#34");
  EXPECT_TRUE(e.closed);
  EXPECT_EQ(e.actor, "carol");
  json reopened = closed;
  reopened["action"] = "reopened";
  e = parse_github("issues", reopened.dump(), "acme/web");
  ASSERT_EQ(e.what, WebhookEvent::What::kState);
  EXPECT_FALSE(e.closed);
}

TEST(TrackerWebhookParse, GitHubOthersAreIgnoredOrMalformed) {
  const json edited = {{"action", "edited"},
                       {"issue", {{"number", 34}}},
                       {"repository", {{"full_name", "acme/web"}}}};
  EXPECT_EQ(parse_github("issues", edited.dump(), "acme/web").what, WebhookEvent::What::kIgnored);
  EXPECT_EQ(parse_github("ping", R"({"zen":"x"})", "acme/web").what, WebhookEvent::What::kIgnored);
  json other_repo = edited;
  other_repo["action"] = "closed";
  other_repo["repository"]["full_name"] = "acme/other";
  EXPECT_EQ(parse_github("issues", other_repo.dump(), "acme/web").what,
            WebhookEvent::What::kIgnored);
  EXPECT_EQ(parse_github("issues", "{", "acme/web").what, WebhookEvent::What::kMalformed);
  EXPECT_EQ(parse_github("issues", "[]", "acme/web").what, WebhookEvent::What::kMalformed);
  EXPECT_EQ(
      parse_github("issues", R"({"action":"closed","issue":{"number":"34"}})", "acme/web").what,
      WebhookEvent::What::kMalformed);
}

TEST(TrackerWebhookParse, GitLabIssueHook) {
  const json hook = {{"object_kind", "issue"},
                     {"user", {{"username", "carol"}}},
                     {"project", {{"id", 15}, {"path_with_namespace", "grp/proj"}}},
                     {"object_attributes", {{"iid", 7}, {"action", "close"}, {"state", "closed"}}}};
  WebhookEvent e = parse_gitlab("Issue Hook", hook.dump(), "grp/proj");
  ASSERT_EQ(e.what, WebhookEvent::What::kState) << e.reason;
  EXPECT_EQ(e.key, "grp/proj#7");
  EXPECT_TRUE(e.closed);
  // The project may be configured by its numeric id.
  e = parse_gitlab("Issue Hook", hook.dump(), "15");
  ASSERT_EQ(e.what, WebhookEvent::What::kState);
  EXPECT_EQ(e.key, "15#7");
  EXPECT_EQ(parse_gitlab("Issue Hook", hook.dump(), "grp/other").what,
            WebhookEvent::What::kIgnored);
  json update = hook;
  update["object_attributes"]["action"] = "update";
  EXPECT_EQ(parse_gitlab("Issue Hook", update.dump(), "grp/proj").what,
            WebhookEvent::What::kIgnored);
  EXPECT_EQ(parse_gitlab("Note Hook", R"({"object_kind":"note"})", "grp/proj").what,
            WebhookEvent::What::kIgnored);
  EXPECT_EQ(parse_gitlab("Issue Hook", R"({"object_kind":"issue"})", "grp/proj").what,
            WebhookEvent::What::kMalformed);
}

// Zero, negative and too-large issue numbers name no issue: malformed, never a key such
// as "acme/web#-1" (or a wrapped-around number).
TEST(TrackerWebhookParse, IssueNumbersMustBePositiveAndFit) {
  for (const char* number :
       {"0", "-1", "-9223372036854775808", "9223372036854775808", "18446744073709551615", "3.5"}) {
    const std::string github = fmt::format(
        R"({{"action":"closed","issue":{{"number":{}}},"repository":{{"full_name":"acme/web"}}}})",
        number);
    EXPECT_EQ(parse_github("issues", github, "acme/web").what, WebhookEvent::What::kMalformed)
        << number;
    const std::string gitlab = fmt::format(
        R"({{"object_kind":"issue","project":{{"id":15}},"object_attributes":{{"iid":{},"action":"close"}}}})",
        number);
    EXPECT_EQ(parse_gitlab("Issue Hook", gitlab, "15").what, WebhookEvent::What::kMalformed)
        << number;
  }
  const std::string largest = fmt::format(
      R"({{"action":"closed","issue":{{"number":9223372036854775807}},"repository":{{"full_name":"acme/web"}}}})");
  const WebhookEvent e = parse_github("issues", largest, "acme/web");
  ASSERT_EQ(e.what, WebhookEvent::What::kState) << e.reason;
  EXPECT_EQ(e.key, "acme/web#9223372036854775807");
}

TEST(TrackerWebhookParse, JiraStatusChangesOnly) {
  json updated = {
      {"webhookEvent", "jira:issue_updated"},
      {"user", {{"displayName", "Carol"}}},
      {"issue",
       {{"key", "OPS-12"}, {"fields", {{"status", {{"statusCategory", {{"key", "done"}}}}}}}}},
      {"changelog", {{"items", {{{"field", "status"}}}}}}};
  WebhookEvent e = parse_jira(updated.dump());
  ASSERT_EQ(e.what, WebhookEvent::What::kState) << e.reason;
  EXPECT_EQ(e.key, "OPS-12");
  EXPECT_TRUE(e.closed);
  EXPECT_EQ(e.actor, "Carol");
  updated["issue"]["fields"]["status"]["statusCategory"]["key"] = "indeterminate";
  e = parse_jira(updated.dump());
  ASSERT_EQ(e.what, WebhookEvent::What::kState);
  EXPECT_FALSE(e.closed);
  // A comment or an edit on a done issue says nothing new about its state.
  updated["changelog"]["items"][0]["field"] = "summary";
  EXPECT_EQ(parse_jira(updated.dump()).what, WebhookEvent::What::kIgnored);
  EXPECT_EQ(parse_jira(R"({"webhookEvent":"comment_created"})").what, WebhookEvent::What::kIgnored);
  EXPECT_EQ(parse_jira(R"({"webhookEvent":"jira:issue_updated","issue":{}})").what,
            WebhookEvent::What::kMalformed);
}

// --- what an issue says -------------------------------------------------------------------

TEST(TrackerIssueDraft, MapsOwnersAndNamesTheUnmapped) {
  Settings s;
  s.users = {{"U0BOB", "bob-gh"}, {"@dave", "dave-gh"}};
  s.postmortem_url = "https://scribe.example/incidents/{id}/postmortem.html";
  Incident incident;
  incident.id = 7;
  incident.title = "Checkout errors";
  ActionItem item;
  item.id = 42;
  item.seq = 3;
  item.text = "Alert on pool size\nbelow 5";
  item.owner = Person{"U0BOB", "bob"};
  item.due = "2026-12-15";
  item.kind = ActionKind::kDetect;
  IssueDraft d = issue_draft(s, incident, item);
  EXPECT_EQ(d.title, "Alert on pool size below 5");
  EXPECT_EQ(d.assignee, "bob-gh");
  EXPECT_EQ(d.due, "2026-12-15");
  EXPECT_THAT(d.labels, ::testing::ElementsAre("detect", "scribe-action-42"));
  EXPECT_EQ(d.link, "https://scribe.example/incidents/7/postmortem.html");
  EXPECT_THAT(d.body, HasSubstr("INC-7"));
  item.owner = Person{"", "dave"};  // an @name the platform did not resolve
  EXPECT_EQ(issue_draft(s, incident, item).assignee, "dave-gh");
  item.owner = Person{"U0ERIN", "erin"};
  d = issue_draft(s, incident, item);
  EXPECT_FALSE(d.assignee);
  EXPECT_THAT(d.body, HasSubstr("Owner: @erin"));
  item.text = std::string(300, 'x');
  EXPECT_LE(issue_draft(s, incident, item).title.size(), 240u);
}

TEST(TrackerClassify, RateLimitsAndErrors) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1000));
  HttpResult r;
  r.status = 201;
  EXPECT_TRUE(classify(r, now).ok());
  r.status = 429;
  r.headers = {{"retry-after", "7"}};
  CallResult c = classify(r, now);
  EXPECT_EQ(c.outcome, CallResult::Outcome::kRetry);
  EXPECT_EQ(c.retry_after, std::chrono::milliseconds(7000));
  // GitHub's primary rate limit: 403, nothing left, a reset time.
  r.status = 403;
  r.headers = {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1060"}};
  c = classify(r, now);
  EXPECT_EQ(c.outcome, CallResult::Outcome::kRetry);
  EXPECT_EQ(c.retry_after, std::chrono::milliseconds(60000));
  r.headers.clear();
  r.body = R"({"message":"Resource not accessible by integration"})";
  c = classify(r, now);
  EXPECT_EQ(c.outcome, CallResult::Outcome::kPermanent);
  EXPECT_THAT(c.error, HasSubstr("not accessible"));
  r.status = 502;
  EXPECT_EQ(classify(r, now).outcome, CallResult::Outcome::kRetry);
  r.status = 0;
  r.error = "connection refused";
  EXPECT_EQ(classify(r, now).outcome, CallResult::Outcome::kRetry);
}

TEST(TrackerJira, CloudOrDataCenter) {
  Settings s;
  s.jira_url = "https://acme.atlassian.net";
  EXPECT_TRUE(jira_cloud(s));
  s.jira_url = "https://jira.acme.internal:8443/jira";
  EXPECT_FALSE(jira_cloud(s));
  s.jira_api = "cloud";
  EXPECT_TRUE(jira_cloud(s));
  s.jira_url = "https://acme.atlassian.net";
  s.jira_api = "datacenter";
  EXPECT_FALSE(jira_cloud(s));
}

// --- the deliverer over a real store and the stand-in -----------------------------------

class TrackerDelivererTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe-trackers-", dir_));
    store_ = open_store((dir_ / "scribe.db").string());
    HandlerOptions options;
    options.platforms = test::platforms();
    options.tracking = {true, "GitHub", false};
    handler_ = std::make_unique<CommandHandler>(*store_, date::locate_zone("UTC"), options);
    settings_.github_api_url = tracker_.base_url();
    settings_.github_token = tracker_.token();
    settings_.github_repo = "acme/web";
    deliverer_ = std::make_unique<TrackerDeliverer>(*store_, *handler_, settings_,
                                                    make_client(settings_), [] { return now(); });
    store_->write([&](Transaction& tx) {
      Incident i;
      i.channel = {"slack", "T1", "C1"};
      i.title = "Checkout errors";
      i.commander = test::kAlice;
      i.declared_at = now();
      i.id = tx.insert_incident(i);
      ActionItem a;
      a.incident_id = i.id;
      a.text = "Pin the pool size";
      a.created_by = test::kAlice;
      a.created_at = now();
      item_ = tx.add_action(a);
    });
  }
  void TearDown() override {
    deliverer_.reset();
    handler_.reset();
    store_.reset();
    test::remove_temp_dir(dir_);
  }
  static Timestamp now() { return test::utc(2026, 11, 28, 12, 0); }

  DeliveryResult run(JobKind kind, bool closed = false) {
    OutboxMessage m;
    m.channel = tracker_lane(item_.id);
    m.kind = kind;
    m.content = to_json(TrackerJob{item_.id, closed});
    return deliverer_->deliver(m, std::nullopt);
  }
  ActionItem item() {
    std::optional<ActionItem> out;
    store_->read([&](Transaction& tx) { out = tx.find_action_by_id(item_.id); });
    return *out;
  }

  std::filesystem::path dir_;
  testing::TrackerStandIn tracker_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CommandHandler> handler_;
  Settings settings_;
  std::unique_ptr<TrackerDeliverer> deliverer_;
  ActionItem item_;
};

TEST_F(TrackerDelivererTest, CreatesOnceAndFindsAnIssueMadeBeforeACrash) {
  EXPECT_EQ(run(JobKind::kTrackCreate).outcome, DeliveryResult::Outcome::kSent);
  EXPECT_EQ(item().tracker_key, "acme/web#1");
  EXPECT_EQ(item().tracker_url, "https://github.example/acme/web/issues/1");
  // The job again (a crash after the 201, before the outbox row was marked sent): the key is
  // already stored, so nothing is asked of the tracker.
  const auto calls = tracker_.calls().size();
  EXPECT_EQ(run(JobKind::kTrackCreate).delivered_id, "acme/web#1");
  EXPECT_EQ(tracker_.calls().size(), calls);
  // The key lost too (a crash before our commit): the marker finds the issue.
  store_->write([&](Transaction& tx) {
    ActionItem a = *tx.find_action_by_id(item_.id);
    a.tracker_key.reset();
    a.tracker_url.clear();
    tx.update_action(a);
  });
  EXPECT_EQ(run(JobKind::kTrackCreate).delivered_id, "acme/web#1");
  EXPECT_EQ(tracker_.issues().size(), 1u);
  EXPECT_EQ(tracker_.count("POST", "/issues"), 1u);
  // The tracker on the audit trail.
  std::vector<ActionRevision> history;
  store_->read([&](Transaction& tx) { history = tx.action_revisions(item_.incident_id); });
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0].field, "tracker");
  EXPECT_EQ(history[0].changed_by.name, "GitHub");
}

TEST_F(TrackerDelivererTest, PassingAndPermanentFailures) {
  tracker_.fail_next(1, 429, {{"Retry-After", "3"}});
  DeliveryResult r = run(JobKind::kTrackCreate);
  EXPECT_EQ(r.outcome, DeliveryResult::Outcome::kRetry);
  EXPECT_EQ(r.retry_after, std::chrono::milliseconds(3000));
  EXPECT_FALSE(item().tracker_key);
  tracker_.fail_next(1, 401, {});
  EXPECT_EQ(run(JobKind::kTrackCreate).outcome, DeliveryResult::Outcome::kPermanent);
  // Closing an issue that was never created is given up.
  EXPECT_EQ(run(JobKind::kTrackState, true).outcome, DeliveryResult::Outcome::kPermanent);
  EXPECT_TRUE(tracker_.issues().empty());
}

TEST_F(TrackerDelivererTest, RefreshMarksAnItemDoneWhoseIssueWasClosed) {
  ASSERT_EQ(run(JobKind::kTrackCreate).outcome, DeliveryResult::Outcome::kSent);
  // Open issue: nothing changes.
  EXPECT_EQ(run(JobKind::kTrackRefresh).outcome, DeliveryResult::Outcome::kSent);
  EXPECT_EQ(item().status, ActionStatus::kOpen);
  tracker_.set_closed("acme/web#1", true);
  // The Refresher writes one job per open tracked item and round, deduplicated.
  Refresher refresher(
      *store_, std::chrono::minutes(30), [] { return now(); }, nullptr);
  EXPECT_EQ(refresher.run_once(), 1);
  std::optional<OutboxMessage> job;
  store_->read([&](Transaction& tx) {
    job = tx.find_outbox_by_key(fmt::format("refresh:{}:{}", item_.id,
                                            now().time_since_epoch() / std::chrono::minutes(30)));
  });
  ASSERT_TRUE(job);
  EXPECT_EQ(job->kind, JobKind::kTrackRefresh);
  EXPECT_EQ(deliverer_->deliver(*job, std::nullopt).outcome, DeliveryResult::Outcome::kSent);
  EXPECT_EQ(item().status, ActionStatus::kDone);
  EXPECT_EQ(item().done_by->name, "GitHub (refresh)");
  // Done items are not refreshed again.
  EXPECT_EQ(refresher.run_once(), 0);
}

}  // namespace
}  // namespace scribe::trackers
