// Alert webhooks end to end: the real scribe, signed PagerDuty v3 webhooks and
// Alertmanager notifications over HTTP, alerts on the timeline at their own times.
#include <chrono>
#include <string>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tests/e2e/fixture.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using testing::json;
using namespace std::chrono_literals;

constexpr char kPdSecret[] = "pd-webhook-secret";
constexpr char kAmToken[] = "am-token";

// Written out here, independent of Scribe's own code, as PagerDuty computes it.
std::string hmac_hex(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &n);
  std::string out;
  for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", mac[i]);
  return out;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::floor<std::chrono::seconds>(t));
}

class AlertsE2E : public testing::ScribeE2E {
 protected:
  void SetUp() override {
    testing::ScribeE2E::SetUp();
    const auto config = dir_ / "scribe.toml";
    std::ofstream(config) << "[pagerduty.services]\n"
                             "PCHECKOUT = \"slack:T0TEAM/C0PAGE\"\n"
                             "[pagerduty.severities]\n"
                             "P1 = \"sev1\"\n"
                             "[alertmanager.receivers]\n"
                             "payments = \"slack:T0TEAM/C0AM\"\n";
    config_ = config.string();
  }

  void start_alerts(std::map<std::string, std::string> extra = {}) {
    extra["SCRIBE_PAGERDUTY_WEBHOOK_SECRET"] = kPdSecret;
    extra["SCRIBE_ALERTMANAGER_TOKEN"] = kAmToken;
    args_ = {"--config", config_};
    start(std::move(extra));
  }

  static std::string pd_incident_event(const std::string& id, const std::string& type,
                                       std::chrono::system_clock::time_point at,
                                       const std::string& urgency = "high") {
    return json{{"event",
                 {{"id", id},
                  {"event_type", type},
                  {"resource_type", "incident"},
                  {"occurred_at", rfc3339(at)},
                  {"agent", {{"summary", "Dana Oncall"}, {"type", "user_reference"}}},
                  {"data",
                   {{"id", "Q1PDINC"},
                    {"type", "incident"},
                    {"number", 4711},
                    {"title", "Checkout p99 above 2 s"},
                    {"html_url", "https://acme.pagerduty.com/incidents/Q1PDINC"},
                    {"service", {{"id", "PCHECKOUT"}, {"summary", "Checkout API"}}},
                    {"urgency", urgency},
                    {"priority", {{"summary", "P1"}}}}}}}}
        .dump();
  }

  static std::string pd_note(const std::string& id, std::chrono::system_clock::time_point at,
                             const std::string& content) {
    return json{{"event",
                 {{"id", id},
                  {"event_type", "incident.annotated"},
                  {"occurred_at", rfc3339(at)},
                  {"agent", {{"summary", "Dana Oncall"}}},
                  {"data",
                   {{"type", "incident_note"},
                    {"content", content},
                    {"incident",
                     {{"id", "Q1PDINC"},
                      {"summary", "Checkout p99 above 2 s"},
                      {"html_url", "https://acme.pagerduty.com/incidents/Q1PDINC"}}}}}}}}
        .dump();
  }

  HttpResult post_pagerduty(const std::string& body, const std::string& secret = kPdSecret) {
    return http_.request(
        "POST", scribe_->base_url() + "/webhooks/pagerduty",
        {"Content-Type: application/json", "X-PagerDuty-Signature: v1=" + hmac_hex(secret, body)},
        body);
  }

  static std::string am_notification(const std::string& status,
                                     std::chrono::system_clock::time_point starts,
                                     std::optional<std::chrono::system_clock::time_point> ends) {
    const json alert = {{"status", status},
                        {"labels", {{"alertname", "CheckoutErrors"}, {"severity", "page"}}},
                        {"annotations", {{"summary", "5xx ratio 18% on checkout"}}},
                        {"startsAt", rfc3339(starts)},
                        {"endsAt", ends ? rfc3339(*ends) : "0001-01-01T00:00:00Z"},
                        {"generatorURL", "http://prometheus.example/graph?g0.expr=x"},
                        {"fingerprint", "c0ffee1234567890"}};
    return json{{"version", "4"},
                {"groupKey", "{}:{alertname=\"CheckoutErrors\"}"},
                {"status", status},
                {"receiver", "payments"},
                {"groupLabels", {{"alertname", "CheckoutErrors"}}},
                {"commonLabels", {{"alertname", "CheckoutErrors"}}},
                {"externalURL", "http://alertmanager.example"},
                {"alerts", json::array({alert})}}
        .dump();
  }

  HttpResult post_alertmanager(const std::string& body, const std::string& auth) {
    return http_.request("POST", scribe_->base_url() + "/webhooks/alertmanager",
                         {"Content-Type: application/json", "Authorization: " + auth}, body);
  }

  std::vector<json> timeline(int id) {
    return api_json("/api/incidents/" + std::to_string(id) + "/postmortem.json")["timeline"];
  }

  std::string config_;
};

TEST_F(AlertsE2E, APageIsRecordedAtItsOwnTimeAndTimeToDetectUsesIt) {
  start_alerts();
  slack_->command("/incident", "start sev2 Checkout slow", "C0PAGE");
  const auto now = std::chrono::system_clock::now();
  // Users were hurt 20 minutes ago; the page went out 12 minutes ago.
  slack_->command("/timeline", fmt::format("-20m #impact p99 latency 2.4 s for 30% of checkouts"),
                  "C0PAGE");
  const std::string triggered = pd_incident_event("EV-T1", "incident.triggered", now - 12min);

  // A forged signature changes nothing.
  const HttpResult forged = post_pagerduty(triggered, "not-the-secret");
  EXPECT_EQ(forged.status, 401) << forged.body;
  const std::size_t before = timeline(1).size();

  const HttpResult ok = post_pagerduty(triggered);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_THAT(ok.body, HasSubstr("recorded 1"));
  // PagerDuty's retry of the same event, and a captured copy sent again: nothing new.
  const HttpResult again = post_pagerduty(triggered);
  EXPECT_EQ(again.status, 200);
  EXPECT_THAT(again.body, HasSubstr("duplicate 1"));

  const std::vector<json> rows = timeline(1);
  ASSERT_EQ(rows.size(), before + 1);
  json page;
  for (const json& r : rows) {
    if (r["kind"] == "alert") page = r;
  }
  ASSERT_FALSE(page.is_null());
  EXPECT_EQ(page["occurred_at"].get<std::string>().substr(0, 19),
            rfc3339(now - 12min).substr(0, 19));
  EXPECT_THAT(page["text"].get<std::string>(), HasSubstr("#4711 triggered"));
  EXPECT_THAT(page["text"].get<std::string>(), HasSubstr("Checkout p99 above 2 s"));
  EXPECT_EQ(page["author"]["name"], "PagerDuty");
  ASSERT_EQ(page["links"].size(), 1u);
  EXPECT_EQ(page["links"][0]["url"], "https://acme.pagerduty.com/incidents/Q1PDINC");

  // Time to detect: impact began (-20 min) → the page (-12 min).
  const json draft = api_json("/api/incidents/1/postmortem.json");
  json ttd;
  for (const json& d : draft["durations"]) {
    if (d["id"] == "time_to_detect") ttd = d;
  }
  ASSERT_FALSE(ttd.is_null()) << draft["durations"].dump();
  EXPECT_EQ(ttd["seconds"], 8 * 60) << ttd.dump();

  // Acknowledged and a note: responses on the same incident, the note routed by the
  // PagerDuty incident it names.
  EXPECT_EQ(post_pagerduty(pd_incident_event("EV-A1", "incident.acknowledged", now - 10min)).status,
            200);
  const HttpResult note = post_pagerduty(pd_note("EV-N1", now - 9min, "Rolled back build 812"));
  EXPECT_THAT(note.body, HasSubstr("recorded 1")) << note.body;
  const std::string all = json(timeline(1)).dump();
  EXPECT_THAT(all, HasSubstr("acknowledged by Dana Oncall"));
  EXPECT_THAT(all, HasSubstr("Rolled back build 812"));

  // Malformed bodies are refused and change nothing.
  const std::size_t count = timeline(1).size();
  EXPECT_EQ(post_pagerduty("{\"event\": 5}").status, 400);
  EXPECT_EQ(post_pagerduty("not json").status, 400);
  EXPECT_EQ(timeline(1).size(), count);
}

TEST_F(AlertsE2E, AHighUrgencyPageDeclaresTheIncidentWhenAskedTo) {
  start_alerts({{"SCRIBE_PAGERDUTY_DECLARE", "true"}});
  const auto now = std::chrono::system_clock::now();
  // Low urgency: held, no incident.
  const HttpResult low =
      post_pagerduty(pd_incident_event("EV-L1", "incident.triggered", now - 3min, "low"));
  EXPECT_THAT(low.body, HasSubstr("held for the next incident 1")) << low.body;
  EXPECT_EQ(incident_count(), 0u);

  const HttpResult high =
      post_pagerduty(pd_incident_event("EV-H1", "incident.triggered", now - 2min));
  EXPECT_THAT(high.body, HasSubstr("declared 1")) << high.body;
  const json incident = api_json("/api/incidents/1")["incident"];
  EXPECT_EQ(incident["title"], "Checkout p99 above 2 s");
  EXPECT_EQ(incident["severity"], "sev1");  // P1, by the configured map
  // The held low-urgency page came in with the declaration, then the page itself.
  const std::vector<json> rows = timeline(1);
  std::vector<std::string> alerts;
  for (const json& r : rows) {
    if (r["kind"] == "alert") alerts.push_back(r["text"]);
  }
  EXPECT_EQ(alerts.size(), 2u) << json(rows).dump();
  EXPECT_THAT(incident["commander"].dump(), HasSubstr("PagerDuty")) << incident.dump();
}

TEST_F(AlertsE2E, AnAlertBeforeTheIncidentIsTakenInAndResendsAreRecordedOnce) {
  start_alerts();
  const auto now = std::chrono::system_clock::now();
  const std::string firing = am_notification("firing", now - 25min, std::nullopt);
  // Wrong and missing credentials change nothing.
  EXPECT_EQ(post_alertmanager(firing, "Bearer wrong").status, 401);
  EXPECT_EQ(http_
                .request("POST", scribe_->base_url() + "/webhooks/alertmanager",
                         {"Content-Type: application/json"}, firing)
                .status,
            401);

  const HttpResult first = post_alertmanager(firing, std::string("Bearer ") + kAmToken);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_THAT(first.body, HasSubstr("held for the next incident 1"));
  // Alertmanager resends a firing group every repeat_interval: the same alert, once.
  // (Basic auth with the token as the password works too.)
  const HttpResult resend = post_alertmanager(firing, "Basic YWxlcnRtYW5hZ2VyOmFtLXRva2Vu");
  EXPECT_THAT(resend.body, HasSubstr("duplicate 1")) << resend.body;

  // Held durably: a restart in between loses nothing.
  restart();
  const json started = slack_->command("/incident", "start sev2 Checkout errors", "C0AM");
  EXPECT_THAT(started.dump(), HasSubstr("Took in 1 alert"));
  std::vector<json> rows = timeline(1);
  json alert;
  for (const json& r : rows) {
    if (r["kind"] == "alert") alert = r;
  }
  ASSERT_FALSE(alert.is_null()) << json(rows).dump();
  EXPECT_EQ(alert["occurred_at"].get<std::string>().substr(0, 19),
            rfc3339(now - 25min).substr(0, 19));
  EXPECT_THAT(alert["text"].get<std::string>(), HasSubstr("CheckoutErrors"));
  EXPECT_THAT(alert["text"].get<std::string>(), HasSubstr("5xx ratio 18%"));

  // The resolved notification goes on the incident at endsAt; its resend is a duplicate.
  const std::string resolved = am_notification("resolved", now - 25min, now - 1min);
  EXPECT_THAT(post_alertmanager(resolved, std::string("Bearer ") + kAmToken).body,
              HasSubstr("recorded 1"));
  EXPECT_THAT(post_alertmanager(resolved, std::string("Bearer ") + kAmToken).body,
              HasSubstr("duplicate 1"));
  rows = timeline(1);
  EXPECT_EQ(std::count_if(rows.begin(), rows.end(),
                          [](const json& r) {
                            return r["text"].get<std::string>().find("Alert resolved") !=
                                   std::string::npos;
                          }),
            1);
  // A notification for a receiver with no channel is acknowledged and ignored.
  std::string elsewhere = am_notification("firing", now - 1min, std::nullopt);
  elsewhere.replace(elsewhere.find("\"payments\""), 10, "\"other\"");
  EXPECT_THAT(post_alertmanager(elsewhere, std::string("Bearer ") + kAmToken).body,
              HasSubstr("no channel 1"));
}

TEST_F(AlertsE2E, WithoutASecretTheRoutesAreNotConfigured) {
  EXPECT_EQ(http_.request("POST", scribe_->base_url() + "/webhooks/pagerduty", {}, "{}").status,
            503);
  EXPECT_EQ(http_.request("POST", scribe_->base_url() + "/webhooks/alertmanager", {}, "{}").status,
            503);
}

}  // namespace
}  // namespace scribe
