// What the alert webhooks are configured with (TOML [pagerduty] / [alertmanager], and the
// environment): their secrets and where their alerts go. Each sender is off until its
// secret is set.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "storage/model.h"

namespace scribe::alerts {

// Reads a channel as configured or as an alert's label names it ("slack:T0123/C0456",
// "matrix:!room:example.org"); nullopt when no configured platform reads it so. The
// platforms' adapters know their own channel ids; the service hands this in.
using ChannelResolver = std::function<std::optional<ChannelRef>(std::string_view spec)>;

struct Settings {
  // PagerDuty webhooks v3 (POST /webhooks/pagerduty).
  std::string pagerduty_webhook_secret;  // SCRIBE_PAGERDUTY_WEBHOOK_SECRET
  // A service's id ("PF9KMXH") or name ("Checkout API") → its channel; `pagerduty_channel`
  // for the rest (empty: their alerts are ignored).
  std::map<std::string, ChannelRef> pagerduty_services;
  std::optional<ChannelRef> pagerduty_channel;
  // A triggered high-urgency incident declares one in its channel when none is ongoing.
  bool pagerduty_declare = false;
  // PagerDuty priority name ("P1") → severity of a declared incident; without a match a
  // high-urgency page is sev2.
  std::map<std::string, Severity> pagerduty_severities;

  // Alertmanager and Grafana webhooks (POST /webhooks/alertmanager).
  std::string alertmanager_token;  // SCRIBE_ALERTMANAGER_TOKEN: bearer, or basic password
  std::string alertmanager_channel_label = "scribe_channel";  // a label that names a channel
  std::map<std::string, ChannelRef> alertmanager_receivers;   // receiver → channel
  std::optional<ChannelRef> alertmanager_channel;             // the rest

  // Reads channels named by alert labels.
  ChannelResolver resolve_channel;

  bool pagerduty_enabled() const { return !pagerduty_webhook_secret.empty(); }
  bool alertmanager_enabled() const { return !alertmanager_token.empty(); }
};

}  // namespace scribe::alerts
