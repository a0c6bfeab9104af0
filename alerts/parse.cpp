#include "alerts/parse.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/json_fields.h"
#include "util/secret.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace scribe::alerts {
namespace {

using nlohmann::json;

// Alert texts come from other systems' templates and can be long; a timeline event is a
// line, and the link keeps the rest.
constexpr std::size_t kMaxText = 1000;

std::string number_at(const json& j, std::string_view name) {
  const json* x = field_at(j, name);
  if (x && x->is_number_integer()) return std::to_string(x->get<std::int64_t>());
  return x && x->is_string() ? x->get<std::string>() : std::string();
}

// Only links a browser opens as a page.
std::string web_link(std::string url) {
  if (starts_with_ci(url, "https://") || starts_with_ci(url, "http://")) return url;
  return {};
}

std::string bounded(std::string text) {
  if (text.size() <= kMaxText) return text;
  return truncate_utf8(text, kMaxText - 3) + "…";
}

Parsed ignored(std::string reason) {
  Parsed p;
  p.what = Parsed::What::kIgnored;
  p.reason = std::move(reason);
  return p;
}

Parsed malformed(std::string reason) {
  Parsed p;
  p.what = Parsed::What::kMalformed;
  p.reason = std::move(reason);
  return p;
}

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<Timestamp> parse_rfc3339(std::string_view s) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) ||
      s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' ||
      !digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  std::size_t i = 19;
  std::int64_t millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (i - start < 3) millis = millis * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start) return std::nullopt;
    for (std::size_t n = i - start; n < 3; ++n) millis *= 10;
  }
  int offset_minutes = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  // Go's zero time is Alertmanager's "not ended"; nothing real happened before 1970.
  if (year < 1970 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const auto t = std::chrono::sys_days{ymd} + std::chrono::hours{hour} +
                 std::chrono::minutes{minute} + std::chrono::seconds{std::min(second, 59)} +
                 std::chrono::milliseconds{millis} - std::chrono::minutes{offset_minutes};
  return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
}

bool verify_pagerduty_signature(std::string_view secret, std::string_view body,
                                std::string_view header) {
  if (secret.empty() || header.empty()) return false;
  const std::string expected = hmac_sha256_hex(secret, body);
  if (expected.empty()) return false;
  bool any = false;
  while (!header.empty()) {
    const auto comma = header.find(',');
    const std::string_view one = trim(header.substr(0, comma));
    // Every candidate is compared, so the time does not say which one matched.
    if (one.starts_with("v1=") && secret_equals(lower(one.substr(3)), expected)) any = true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return any;
}

Parsed parse_pagerduty(std::string_view body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  const json* event = field_at(j, "event");
  if (!event || !event->is_object()) return malformed("no \"event\" object");
  const std::string type = string_at(*event, "event_type");
  const std::string id = string_at(*event, "id");
  if (type.empty() || id.empty()) return malformed("event without event_type or id");
  const auto at = parse_rfc3339(string_at(*event, "occurred_at"));
  if (!at) return malformed("event.occurred_at is not an RFC 3339 time");
  const json* data = field_at(*event, "data");
  if (!data || !data->is_object()) return malformed("event without a data object");
  const std::string agent = string_at(*event, "agent", "summary");
  const std::string by = agent.empty() ? "" : " by " + agent;

  ParsedAlert a;
  a.key = id;
  a.occurred_at = *at;
  if (type == "incident.annotated") {
    const json* incident = field_at(*data, "incident");
    a.incident_id = incident ? string_at(*incident, "id") : "";
    if (a.incident_id.empty()) return malformed("a note without data.incident.id");
    a.begins = false;
    a.kind = EventKind::kNote;
    const std::string about = incident ? string_at(*incident, "summary") : "";
    a.text = bounded(fmt::format("PagerDuty note{}{}: {}", by,
                                 about.empty() ? "" : " on \u201c" + about + "\u201d",
                                 string_at(*data, "content")));
    a.link = web_link(incident ? string_at(*incident, "html_url") : "");
    Parsed p;
    p.what = Parsed::What::kAlerts;
    p.alerts.push_back(std::move(a));
    return p;
  }
  std::string verb;
  if (type == "incident.triggered") {
    verb = "triggered";
  } else if (type == "incident.reopened") {
    verb = "reopened";
  } else if (type == "incident.escalated") {
    verb = "escalated";
    a.begins = false;
  } else if (type == "incident.acknowledged") {
    verb = "acknowledged" + by;
    a.begins = false;
    a.kind = EventKind::kAction;
  } else if (type == "incident.resolved") {
    verb = "resolved" + by;
    a.begins = false;
    a.kind = EventKind::kNote;
  } else {
    return ignored(fmt::format("event type '{}' is not one Scribe records", type));
  }
  a.incident_id = string_at(*data, "id");
  if (a.incident_id.empty()) return malformed("an incident event without data.id");
  a.title = string_at(*data, "title");
  a.service_id = string_at(*data, "service", "id");
  a.service_name = string_at(*data, "service", "summary");
  a.urgency = string_at(*data, "urgency");
  a.priority = string_at(*data, "priority", "summary");
  a.link = web_link(string_at(*data, "html_url"));
  const std::string number = number_at(*data, "number");
  std::string detail = a.service_name.empty() ? "" : "service " + a.service_name;
  for (const std::string& part : {a.urgency.empty() ? "" : "urgency " + a.urgency, a.priority}) {
    if (part.empty()) continue;
    detail += (detail.empty() ? "" : ", ") + part;
  }
  a.text = bounded(fmt::format("PagerDuty {} {}: \u201c{}\u201d{}",
                               number.empty() ? "incident" : "#" + number, verb, a.title,
                               detail.empty() ? "" : " (" + detail + ")"));
  Parsed p;
  p.what = Parsed::What::kAlerts;
  p.alerts.push_back(std::move(a));
  return p;
}

Parsed parse_alertmanager(std::string_view body, std::string_view channel_label) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return malformed("the body is not a JSON object");
  const json* alerts = field_at(j, "alerts");
  if (!alerts || !alerts->is_array()) return malformed("no \"alerts\" array");
  const std::string receiver = string_at(j, "receiver");
  const std::string group_status = string_at(j, "status");
  const json* common = field_at(j, "commonLabels");
  Parsed p;
  p.what = Parsed::What::kAlerts;
  // Grafana's alerting sends Alertmanager's shape with a few fields of its own.
  if (field_at(j, "orgId")) p.sender = "Grafana";
  for (const json& alert : *alerts) {
    if (!alert.is_object()) return malformed("an alert that is not an object");
    const json* labels = field_at(alert, "labels");
    if (!labels || !labels->is_object()) return malformed("an alert without labels");
    std::string status = string_at(alert, "status");
    if (status.empty()) status = group_status;
    if (status != "firing" && status != "resolved") {
      return malformed(fmt::format("an alert whose status is '{}'", status));
    }
    const std::string starts = string_at(alert, "startsAt");
    const std::string ends = string_at(alert, "endsAt");
    const bool firing = status == "firing";
    const auto at = parse_rfc3339(firing ? starts : ends);
    if (!at) {
      return malformed(
          fmt::format("a {} alert without a valid {}", status, firing ? "startsAt" : "endsAt"));
    }
    // Alertmanager's fingerprint names the label set; without one (older senders), the
    // labels themselves, in their (sorted) JSON order.
    std::string fingerprint = string_at(alert, "fingerprint");
    if (fingerprint.empty()) fingerprint = sha256_hex(labels->dump());

    ParsedAlert a;
    a.key = fmt::format("{}:{}:{}{}", fingerprint, status, starts, firing ? "" : ":" + ends);
    a.begins = firing;
    a.kind = firing ? EventKind::kAlert : EventKind::kNote;
    a.occurred_at = *at;
    a.receiver = receiver;
    a.channel_label = string_at(*labels, channel_label);
    if (a.channel_label.empty() && common) a.channel_label = string_at(*common, channel_label);
    a.link = web_link(string_at(alert, "generatorURL"));
    const std::string name = string_at(*labels, "alertname");
    std::string summary = string_at(alert, "annotations", "summary");
    if (summary.empty()) summary = string_at(alert, "annotations", "description");
    const std::string severity = string_at(*labels, "severity");
    a.title = name;
    a.text = bounded(fmt::format("Alert {}: {}{}{}", status, name.empty() ? "(unnamed)" : name,
                                 summary.empty() ? "" : " \u2014 " + summary,
                                 severity.empty() ? "" : " (severity " + severity + ")"));
    p.alerts.push_back(std::move(a));
  }
  if (p.alerts.empty()) return ignored("no alerts in the notification");
  return p;
}

}  // namespace scribe::alerts
