// The alert webhooks: `POST /webhooks/pagerduty` (PagerDuty v3, `X-PagerDuty-Signature`)
// and `POST /webhooks/alertmanager` (Alertmanager or Grafana, `Authorization: Bearer
// <token>` or Basic with the token as the password). Each request is verified, parsed
// (alerts/parse.h), every alert routed to a channel (settings.h), and recorded through
// CommandHandler::alert_in in one transaction with the sender's dedupe keys, so a resend
// or a captured request sent again changes nothing. Answers once that is durable; 401
// unverified, 400 malformed, 503 when the store fails (the sender retries).
//
// PagerDuty notes name only their incident: they go where that incident's earlier events
// went (remembered durably per PagerDuty incident id).
#pragma once

#include <functional>

#include "alerts/settings.h"
#include "commands/handler.h"
#include "net/http_message.h"

namespace scribe::alerts {

enum class Sender { kPagerDuty, kAlertmanager };

class AlertEndpoint {
 public:
  using Clock = std::function<Timestamp()>;
  AlertEndpoint(Sender sender, Settings settings, CommandHandler& handler, Clock clock);

  // Whether the sender's secret is configured (else the route answers 503).
  bool configured() const;
  // Answers through `respond` once the alerts are durable; does not block.
  void handle(const HttpRequest& request, Respond respond);

 private:
  // Empty when verified; else why not (the 401's text).
  std::string verify(const HttpRequest& request) const;

  Sender sender_;
  Settings settings_;
  CommandHandler& handler_;
  Clock clock_;
};

}  // namespace scribe::alerts
