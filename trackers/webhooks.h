// Webhooks from the issue trackers: `POST /webhooks/github`, `/webhooks/gitlab`,
// `/webhooks/jira`. Each request is verified as its sender documents, parsed, and a closed
// or reopened issue is applied to the action item it tracks (CommandHandler::
// tracker_state_in), with the tracker as the source on the item's audit trail.
//
// - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` with
//   SCRIBE_GITHUB_WEBHOOK_SECRET; events `issues` with action closed / reopened.
// - GitLab: `X-Gitlab-Token` equal to SCRIBE_GITLAB_WEBHOOK_TOKEN (GitLab sends the token
//   itself; it signs nothing); `Issue Hook` events with action close / reopen.
// - Jira: with SCRIBE_JIRA_WEBHOOK_SECRET, Jira Cloud's signed webhooks
//   (`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`) or, for Data Center, which
//   does not sign, the secret as the `secret` query parameter of the webhook's URL;
//   `jira:issue_updated` events whose changelog changes the status, the item done when the
//   status is in the "done" category.
//
// Secrets are compared in constant time; a request without a valid one gets 401 and
// changes nothing. Replays change nothing: the sender's delivery id (X-GitHub-Delivery,
// X-Gitlab-Event-UUID, X-Atlassian-Webhook-Identifier) and a SHA-256 of the body are kept
// durably, in the same transaction as the change, so a redelivery, or a captured request
// sent again under a new delivery id, is answered "200 duplicate". Bodies are bounded by
// server.max_body_bytes (413 before they get here).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "commands/handler.h"
#include "net/http_message.h"
#include "trackers/settings.h"

namespace scribe::trackers {

// Whether `header` is "sha256=<hex>" of the body under `secret`; constant-time compare.
bool verify_hub_signature(std::string_view secret, std::string_view body, std::string_view header);

// One webhook, parsed.
struct WebhookEvent {
  enum class What {
    kState,      // an issue was closed or reopened: `key`, `closed`, `actor`
    kIgnored,    // another event, another project, or no change of state: `reason`
    kMalformed,  // not the sender's JSON: `reason`
  } what = What::kIgnored;
  std::string reason;
  std::string key;  // the key as Scribe stores it (ActionItem::tracker_key)
  bool closed = false;
  std::string actor;  // who did it, as the tracker names them
};

// `event_header`: X-GitHub-Event; `repo`: the configured owner/name (others are ignored).
WebhookEvent parse_github(std::string_view event_header, std::string_view body,
                          std::string_view repo);
// `project`: the configured numeric id or path (others are ignored).
WebhookEvent parse_gitlab(std::string_view event_header, std::string_view body,
                          std::string_view project);
WebhookEvent parse_jira(std::string_view body);

class WebhookEndpoint {
 public:
  using Clock = std::function<Timestamp()>;
  // `kind`: which sender this endpoint is for (one path each).
  WebhookEndpoint(Kind kind, Settings settings, CommandHandler& handler, Clock clock);

  // Whether the sender's secret is configured (else the route answers 503).
  bool configured() const;
  // Answers through `respond` once the change is durable; does not block.
  void handle(const HttpRequest& request, Respond respond);

 private:
  // Empty when verified; else why not (the 401's text).
  std::string verify(const HttpRequest& request) const;

  Kind kind_;
  Settings settings_;
  CommandHandler& handler_;
  Clock clock_;
};

}  // namespace scribe::trackers
