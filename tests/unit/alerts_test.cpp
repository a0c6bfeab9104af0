// The alert webhooks' parsers (alerts/parse.h) and how the core records alerts
// (CommandHandler::alert_in, commands/alerts.h) on a real SQLite store.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <date/tz.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "alerts/parse.h"
#include "commands/handler.h"
#include "storage/store.h"
#include "test_support.h"
#include "util/secret.h"

namespace scribe::alerts {
namespace {

using nlohmann::json;
using test::utc;
using ::testing::HasSubstr;

TEST(Rfc3339, ReadsUtcFractionsAndOffsets) {
  EXPECT_EQ(parse_rfc3339("2026-11-28T14:05:30Z"), utc(2026, 11, 28, 14, 5, 30));
  EXPECT_EQ(parse_rfc3339("2026-11-28T14:05:30.123Z"), utc(2026, 11, 28, 14, 5, 30, 123));
  // Alertmanager writes nanoseconds; milliseconds are kept.
  EXPECT_EQ(parse_rfc3339("2026-11-28T14:05:30.123456789Z"), utc(2026, 11, 28, 14, 5, 30, 123));
  EXPECT_EQ(parse_rfc3339("2026-11-28T16:05:30.5+02:00"), utc(2026, 11, 28, 14, 5, 30, 500));
  EXPECT_EQ(parse_rfc3339("2026-11-28T09:05:30-05:00"), utc(2026, 11, 28, 14, 5, 30));
  EXPECT_EQ(parse_rfc3339("2026-11-28t14:05:30z"), utc(2026, 11, 28, 14, 5, 30));
}

TEST(Rfc3339, RefusesWhatIsNotOneAndGosZeroTime) {
  for (const char* bad :
       {"", "2026-11-28", "2026-11-28T14:05:30", "2026-11-28 14:05:30Z", "2026-02-30T00:00:00Z",
        "2026-11-28T24:00:00Z", "2026-11-28T14:05:30.Z", "2026-11-28T14:05:30+0200",
        "2026-11-28T14:05:30Zjunk", "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
        "２０２６-11-28T14:05:30Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

TEST(PagerDutySignature, AnyOfSeveralSignaturesMatchesTheBody) {
  const std::string body = R"({"event":{}})";
  const std::string good = "v1=" + hmac_sha256_hex("s3cret", body);
  const std::string other = "v1=" + hmac_sha256_hex("old-secret", body);
  EXPECT_TRUE(verify_pagerduty_signature("s3cret", body, good));
  EXPECT_TRUE(verify_pagerduty_signature("s3cret", body, other + "," + good));
  EXPECT_TRUE(verify_pagerduty_signature("s3cret", body, other + ", " + good));
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  upper[0] = 'v';
  EXPECT_TRUE(verify_pagerduty_signature("s3cret", body, upper));
  EXPECT_FALSE(verify_pagerduty_signature("s3cret", body, other));
  EXPECT_FALSE(verify_pagerduty_signature("s3cret", body + " ", good));
  EXPECT_FALSE(verify_pagerduty_signature("s3cret", body, good.substr(3)));  // no "v1="
  EXPECT_FALSE(verify_pagerduty_signature("", body, "v1=" + hmac_sha256_hex("", body)));
  EXPECT_FALSE(verify_pagerduty_signature("s3cret", body, ""));
}

json pd_event(std::string type, json data) {
  return {{"event",
           {{"id", "01ABC"},
            {"event_type", std::move(type)},
            {"occurred_at", "2026-11-28T14:02:11.250Z"},
            {"agent", {{"summary", "Dana"}}},
            {"data", std::move(data)}}}};
}

TEST(ParsePagerDuty, ATriggeredIncidentIsAnAlertThatBegins) {
  const json data = {{"id", "Q1"},
                     {"number", 42},
                     {"title", "DB primary down"},
                     {"html_url", "https://acme.pagerduty.com/incidents/Q1"},
                     {"service", {{"id", "PSVC"}, {"summary", "Database"}}},
                     {"urgency", "high"},
                     {"priority", {{"summary", "P1"}}}};
  const Parsed p = parse_pagerduty(pd_event("incident.triggered", data).dump());
  ASSERT_EQ(p.what, Parsed::What::kAlerts) << p.reason;
  ASSERT_EQ(p.alerts.size(), 1u);
  const ParsedAlert& a = p.alerts[0];
  EXPECT_EQ(a.key, "01ABC");
  EXPECT_TRUE(a.begins);
  EXPECT_EQ(a.kind, EventKind::kAlert);
  EXPECT_EQ(a.occurred_at, utc(2026, 11, 28, 14, 2, 11, 250));
  EXPECT_EQ(a.service_id, "PSVC");
  EXPECT_EQ(a.service_name, "Database");
  EXPECT_EQ(a.incident_id, "Q1");
  EXPECT_EQ(a.urgency, "high");
  EXPECT_EQ(a.priority, "P1");
  EXPECT_EQ(a.title, "DB primary down");
  EXPECT_EQ(a.link, "https://acme.pagerduty.com/incidents/Q1");
  EXPECT_EQ(a.text,
            "PagerDuty #42 triggered: \u201cDB primary down\u201d (service Database, urgency "
            "high, P1)");

  const Parsed acked = parse_pagerduty(pd_event("incident.acknowledged", data).dump());
  ASSERT_EQ(acked.what, Parsed::What::kAlerts);
  EXPECT_FALSE(acked.alerts[0].begins);
  EXPECT_EQ(acked.alerts[0].kind, EventKind::kAction);
  EXPECT_THAT(acked.alerts[0].text, HasSubstr("acknowledged by Dana"));
}

TEST(ParsePagerDuty, ANoteNamesItsIncidentOnly) {
  const json data = {{"type", "incident_note"},
                     {"content", "Failing over to the replica"},
                     {"incident", {{"id", "Q1"}, {"summary", "DB primary down"}}}};
  const Parsed p = parse_pagerduty(pd_event("incident.annotated", data).dump());
  ASSERT_EQ(p.what, Parsed::What::kAlerts) << p.reason;
  EXPECT_EQ(p.alerts[0].incident_id, "Q1");
  EXPECT_TRUE(p.alerts[0].service_id.empty());
  EXPECT_FALSE(p.alerts[0].begins);
  EXPECT_EQ(p.alerts[0].kind, EventKind::kNote);
  EXPECT_THAT(p.alerts[0].text, HasSubstr("Failing over to the replica"));
}

TEST(ParsePagerDuty, OtherEventsAreIgnoredAndBrokenOnesRefused) {
  EXPECT_EQ(parse_pagerduty(pd_event("incident.priority_updated", {{"id", "Q1"}}).dump()).what,
            Parsed::What::kIgnored);
  EXPECT_EQ(parse_pagerduty(pd_event("service.created", json::object()).dump()).what,
            Parsed::What::kIgnored);
  json no_time = pd_event("incident.triggered", {{"id", "Q1"}});
  no_time["event"]["occurred_at"] = "yesterday";
  json no_id = pd_event("incident.triggered", {{"id", "Q1"}});
  no_id["event"].erase("id");
  for (const std::string& bad :
       {std::string("not json"), std::string("[]"), std::string(R"({"event":5})"), no_time.dump(),
        no_id.dump(), pd_event("incident.triggered", json::object()).dump(),
        pd_event("incident.annotated", {{"content", "x"}}).dump(),
        pd_event("incident.triggered", "text").dump()}) {
    EXPECT_EQ(parse_pagerduty(bad).what, Parsed::What::kMalformed) << bad;
  }
}

json am_alert(std::string status, std::string starts, std::string ends) {
  return {{"status", std::move(status)},
          {"labels", {{"alertname", "HighErrorRate"}, {"severity", "page"}}},
          {"annotations", {{"summary", "5xx above 5% on checkout"}}},
          {"startsAt", std::move(starts)},
          {"endsAt", std::move(ends)},
          {"generatorURL", "http://prometheus:9090/graph"},
          {"fingerprint", "abc123"}};
}

// A vector, not a json: a one-element braced list `{alert}` given to a json parameter is
// the alert itself for clang but a one-element array for gcc (CWG 2137); the undefined
// behaviour sanitizer caught the difference.
json am_notification(std::vector<json> alerts) {
  return {{"version", "4"},
          {"status", "firing"},
          {"receiver", "payments"},
          {"commonLabels", {{"scribe_channel", "slack:T0/C0"}}},
          {"alerts", std::move(alerts)}};
}

TEST(ParseAlertmanager, FiringAndResolvedAlertsWithStableKeys) {
  const json firing = am_alert("firing", "2026-11-28T14:00:00.5Z", "0001-01-01T00:00:00Z");
  const json resolved = am_alert("resolved", "2026-11-28T14:00:00.5Z", "2026-11-28T14:30:00Z");
  const Parsed p = parse_alertmanager(am_notification({firing, resolved}).dump(), "scribe_channel");
  ASSERT_EQ(p.what, Parsed::What::kAlerts) << p.reason;
  ASSERT_EQ(p.alerts.size(), 2u);
  EXPECT_TRUE(p.alerts[0].begins);
  EXPECT_EQ(p.alerts[0].kind, EventKind::kAlert);
  EXPECT_EQ(p.alerts[0].occurred_at, utc(2026, 11, 28, 14, 0, 0, 500));
  EXPECT_EQ(p.alerts[0].receiver, "payments");
  EXPECT_EQ(p.alerts[0].channel_label, "slack:T0/C0");  // from the common labels
  EXPECT_EQ(p.alerts[0].link, "http://prometheus:9090/graph");
  EXPECT_EQ(p.alerts[0].text,
            "Alert firing: HighErrorRate \u2014 5xx above 5% on checkout (severity page)");
  EXPECT_FALSE(p.alerts[1].begins);
  EXPECT_EQ(p.alerts[1].occurred_at, utc(2026, 11, 28, 14, 30));
  EXPECT_NE(p.alerts[0].key, p.alerts[1].key);
  EXPECT_TRUE(p.sender.empty());

  // A resend is the same alert; a new firing of the same labels is not.
  const Parsed again = parse_alertmanager(am_notification({firing}).dump(), "scribe_channel");
  ASSERT_EQ(again.alerts.size(), 1u) << again.reason;
  EXPECT_EQ(again.alerts[0].key, p.alerts[0].key);
  const json refired = am_alert("firing", "2026-11-28T15:00:00Z", "0001-01-01T00:00:00Z");
  const Parsed other = parse_alertmanager(am_notification({refired}).dump(), "scribe_channel");
  ASSERT_EQ(other.alerts.size(), 1u) << other.reason;
  EXPECT_NE(other.alerts[0].key, p.alerts[0].key);
}

TEST(ParseAlertmanager, AnAlertsOwnLabelRoutesItAndGrafanaIsNamed) {
  json alert = am_alert("firing", "2026-11-28T14:00:00Z", "0001-01-01T00:00:00Z");
  alert["labels"]["team_room"] = "matrix:!ops:example.org";
  alert.erase("fingerprint");
  json n = am_notification({alert});
  n["orgId"] = 1;
  const Parsed p = parse_alertmanager(n.dump(), "team_room");
  ASSERT_EQ(p.what, Parsed::What::kAlerts) << p.reason;
  ASSERT_EQ(p.alerts.size(), 1u);
  EXPECT_EQ(p.alerts[0].channel_label, "matrix:!ops:example.org");
  EXPECT_EQ(p.sender, "Grafana");
  EXPECT_FALSE(p.alerts[0].key.empty());  // the labels' digest stands in for a fingerprint
}

TEST(ParseAlertmanager, LongTextsAreCutAndBrokenNotificationsRefused) {
  json alert = am_alert("firing", "2026-11-28T14:00:00Z", "0001-01-01T00:00:00Z");
  alert["annotations"]["summary"] = std::string(5000, 'x');
  const Parsed p = parse_alertmanager(am_notification({alert}).dump(), "scribe_channel");
  ASSERT_EQ(p.what, Parsed::What::kAlerts) << p.reason;
  ASSERT_EQ(p.alerts.size(), 1u);
  EXPECT_LE(p.alerts[0].text.size(), 1000u);
  EXPECT_THAT(p.alerts[0].text, HasSubstr("…"));

  json not_ended = am_alert("resolved", "2026-11-28T14:00:00Z", "0001-01-01T00:00:00Z");
  json odd_status = am_alert("pending", "2026-11-28T14:00:00Z", "0001-01-01T00:00:00Z");
  json no_labels = am_alert("firing", "2026-11-28T14:00:00Z", "0001-01-01T00:00:00Z");
  no_labels.erase("labels");
  for (const std::string& bad :
       {std::string("{}"), std::string(R"({"alerts":{}})"), std::string("[1]"),
        am_notification({not_ended}).dump(), am_notification({odd_status}).dump(),
        am_notification({no_labels}).dump(), am_notification({5}).dump()}) {
    EXPECT_EQ(parse_alertmanager(bad, "scribe_channel").what, Parsed::What::kMalformed) << bad;
  }
  EXPECT_EQ(parse_alertmanager(am_notification({}).dump(), "scribe_channel").what,
            Parsed::What::kIgnored);
}

// CommandHandler::alert_in on a real store.
class AlertInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_alerts_", dir_));
    store_ = open_store((dir_ / "scribe.db").string());
    HandlerOptions options;
    options.platforms = test::platforms();
    options.posting_platforms = {"slack"};
    handler_ = std::make_unique<CommandHandler>(*store_, date::locate_zone("UTC"), options);
  }
  void TearDown() override {
    handler_.reset();
    store_.reset();
    test::remove_temp_dir(dir_);
  }

  AlertReport report(std::string key, bool begins, Timestamp at) {
    AlertReport r;
    r.source = "alertmanager";
    r.key = std::move(key);
    r.channel = kChannel;
    r.begins = begins;
    r.kind = begins ? EventKind::kAlert : EventKind::kNote;
    r.occurred_at = at;
    r.received_at = at + std::chrono::seconds(5);
    r.author = Person{"alertmanager", "Alertmanager"};
    r.text = "Alert " + r.key;
    return r;
  }

  AlertOutcome in(const AlertReport& r) {
    AlertOutcome out{};
    store_->write([&](Transaction& tx) { out = handler_->alert_in(tx, r); });
    return out;
  }

  Reply command(std::string command, std::string text, Timestamp at) {
    Invocation inv;
    inv.channel = kChannel;
    inv.user = test::kAlice;
    inv.command = std::move(command);
    inv.text = std::move(text);
    inv.received_at = at;
    return handler_->handle(inv);
  }

  std::vector<TimelineEvent> events(IncidentId id) {
    std::vector<TimelineEvent> out;
    store_->read([&](Transaction& tx) { out = tx.events(id, false); });
    return out;
  }

  const ChannelRef kChannel{"slack", "T0", "C0ALERT"};
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CommandHandler> handler_;
};

TEST_F(AlertInTest, HeldUntilAnIncidentIsDeclaredThenTakenInWithinTheHour) {
  const Timestamp t0 = utc(2026, 11, 28, 14, 0);
  EXPECT_EQ(in(report("stale", true, t0 - std::chrono::minutes(90))), AlertOutcome::kHeld);
  EXPECT_EQ(in(report("a", true, t0 - std::chrono::minutes(20))), AlertOutcome::kHeld);
  EXPECT_EQ(in(report("a", true, t0 - std::chrono::minutes(20))), AlertOutcome::kDuplicate);
  EXPECT_EQ(in(report("b", true, t0 - std::chrono::minutes(10))), AlertOutcome::kHeld);

  const Reply started = command("incident", "start sev2 Errors", t0);
  std::string details;
  for (const auto& d : started.details) details += d + "\n";
  EXPECT_THAT(details, HasSubstr("Took in 2 alerts")) << started.text << details;
  const auto rows = events(1);
  ASSERT_EQ(rows.size(), 3u);  // the declaration and the two recent alerts
  EXPECT_EQ(rows[0].text, "Alert a");
  EXPECT_EQ(rows[0].occurred_at, t0 - std::chrono::minutes(20));
  EXPECT_EQ(rows[1].text, "Alert b");
  EXPECT_EQ(rows[2].kind, EventKind::kDeclared);

  // Taken once: the next incident in the channel starts without them.
  command("incident", "resolved", t0 + std::chrono::minutes(30));
  const Reply second = command("incident", "start sev3 Other", t0 + std::chrono::minutes(40));
  std::string second_details;
  for (const auto& d : second.details) second_details += d;
  EXPECT_THAT(second_details, ::testing::Not(HasSubstr("Took in")));
}

TEST_F(AlertInTest, BeginningsNeedAnOngoingIncidentEndingsAlsoGoOnAResolvedOne) {
  const Timestamp t0 = utc(2026, 11, 28, 14, 0);
  command("incident", "start sev2 Errors", t0);
  EXPECT_EQ(in(report("fire", true, t0 + std::chrono::minutes(1))), AlertOutcome::kRecorded);
  command("incident", "resolved", t0 + std::chrono::minutes(20));
  // The alert's end arrives after the team resolved: it belongs to this incident.
  EXPECT_EQ(in(report("end", false, t0 + std::chrono::minutes(21))), AlertOutcome::kRecorded);
  // A new firing after resolution is the next incident's.
  EXPECT_EQ(in(report("again", true, t0 + std::chrono::minutes(25))), AlertOutcome::kHeld);
  const auto rows = events(1);
  EXPECT_EQ(std::count_if(rows.begin(), rows.end(),
                          [](const TimelineEvent& e) { return e.text.starts_with("Alert "); }),
            2);
}

TEST_F(AlertInTest, ADeclarationStartsTheIncidentAsTheSenderAndAnnouncesIt) {
  const Timestamp t0 = utc(2026, 11, 28, 14, 0);
  AlertReport r = report("page", true, t0);
  r.source = "pagerduty";
  r.author = Person{"pagerduty", "PagerDuty"};
  r.declare = AlertDeclaration{"DB primary down", Severity::kSev1};
  EXPECT_EQ(in(r), AlertOutcome::kDeclared);
  std::optional<Incident> incident;
  std::size_t queued = 0;
  store_->read([&](Transaction& tx) {
    incident = tx.current_incident(kChannel);
    queued = static_cast<std::size_t>(tx.count_outbox(OutboxStatus::kPending));
  });
  ASSERT_TRUE(incident.has_value());
  EXPECT_EQ(incident->title, "DB primary down");
  EXPECT_EQ(incident->severity, Severity::kSev1);
  EXPECT_EQ(incident->commander.name, "PagerDuty");
  EXPECT_EQ(queued, 1u);  // the announcement
  // A second page while it is ongoing only adds to it.
  AlertReport more = r;
  more.key = "page-2";
  EXPECT_EQ(in(more), AlertOutcome::kRecorded);
}

}  // namespace
}  // namespace scribe::alerts
