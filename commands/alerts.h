// Alerts from monitoring (PagerDuty, Alertmanager, Grafana), as the core sees them. An
// extension (alerts/) verifies and parses the sender's webhook and routes each alert to a
// channel; the core records it on that channel's incident at the alert's own time, so
// time to detect comes from the page rather than from whoever typed it, or holds it until
// an incident is declared there. Pure functions over a Transaction: no I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "storage/store.h"

namespace scribe {

// An alert that should declare an incident in its channel when none is ongoing there.
struct AlertDeclaration {
  std::string title;
  Severity severity = Severity::kSev2;
};

// One alert, or one change of an alert's state, routed to a channel.
struct AlertReport {
  std::string source;  // "pagerduty", "alertmanager": whose keys `key` is among
  // The same for a resend of the same alert state, different for anything new: a resend
  // changes nothing.
  std::string key;
  ChannelRef channel;
  // A beginning (fired, triggered) goes on an ongoing incident only, and is held for the
  // next one otherwise; anything else (acknowledged, resolved, a note) also goes on a
  // resolved incident that is not yet closed, where its end belongs.
  bool begins = true;
  EventKind kind = EventKind::kAlert;
  Timestamp occurred_at{};  // the sender's own time of the alert
  Timestamp received_at{};
  Person author;  // the sender, as people read it ("PagerDuty")
  std::string text;
  std::vector<EventLink> links;
  std::optional<AlertDeclaration> declare;
};

enum class AlertOutcome {
  kRecorded,      // on the channel's incident's timeline
  kDeclared,      // it declared the channel's incident, and is on its timeline
  kHeld,          // no incident to put it on: kept for the next one (take_held_alerts)
  kDuplicate,     // this key was recorded before: nothing changed
  kIncidentFull,  // the incident holds its most timeline events: not recorded
};
std::string_view to_string(AlertOutcome outcome);

// How far back `/incident start` takes in alerts held for its channel.
inline constexpr std::chrono::hours kHeldAlertsWindow{1};

}  // namespace scribe
