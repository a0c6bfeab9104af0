// The alert webhooks' bodies, parsed into what Scribe records, without I/O or routing:
// PagerDuty v3 (`{"event": {...}}`) and Alertmanager's webhook (version 4, which Grafana
// alerting also sends). Pure functions, fuzzed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/model.h"

namespace scribe::alerts {

// An RFC 3339 time ("2026-11-28T14:05:30.123Z", "…+02:00"); nullopt when not one, or for
// Go's zero time ("0001-01-01T00:00:00Z", Alertmanager's "no end").
std::optional<Timestamp> parse_rfc3339(std::string_view text);

// One alert state as the sender reported it, before routing.
struct ParsedAlert {
  std::string key;  // the same for a resend of this state
  bool begins = true;
  EventKind kind = EventKind::kAlert;
  Timestamp occurred_at{};
  std::string text;
  std::string link;
  // Routing: PagerDuty's service id and name, its incident's id (notes carry only that);
  // Alertmanager's receiver and the alert's labels' channel (empty when none).
  std::string service_id;
  std::string service_name;
  std::string incident_id;
  std::string channel_label;
  std::string receiver;
  // PagerDuty: what a declared incident would be.
  std::string title;
  std::string urgency;
  std::string priority;
};

struct Parsed {
  enum class What { kAlerts, kIgnored, kMalformed } what = What::kIgnored;
  std::string reason;  // kIgnored, kMalformed: why
  std::string sender;  // who sent it when the body says so ("Grafana"); else empty
  std::vector<ParsedAlert> alerts;
};

// `X-PagerDuty-Signature`: one or more "v1=<hex HMAC-SHA256 of the body>", comma-separated
// (several while a secret is being rotated); true when any matches. Constant-time compare.
bool verify_pagerduty_signature(std::string_view secret, std::string_view body,
                                std::string_view header);

// incident.triggered / acknowledged / escalated / resolved / reopened / annotated; other
// event types are ignored.
Parsed parse_pagerduty(std::string_view body);

// Every alert of the notification, firing or resolved; `channel_label` names the label
// that routes an alert (its own labels first, then the group's common labels).
Parsed parse_alertmanager(std::string_view body, std::string_view channel_label);

}  // namespace scribe::alerts
