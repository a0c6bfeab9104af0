#include "trackers/webhooks.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "trackers/client.h"
#include "util/json_fields.h"
#include "util/percent.h"
#include "util/secret.h"
#include "util/strings.h"

namespace scribe::trackers {
namespace {

using nlohmann::json;

WebhookEvent ignored(std::string reason) {
  WebhookEvent e;
  e.what = WebhookEvent::What::kIgnored;
  e.reason = std::move(reason);
  return e;
}

WebhookEvent malformed(std::string reason) {
  WebhookEvent e;
  e.what = WebhookEvent::What::kMalformed;
  e.reason = std::move(reason);
  return e;
}

// An issue number as the trackers count them: a positive integer that fits. JSON also
// reads 0, negatives and numbers past 2^63 as integers; they name no issue, and a key made
// from them ("acme/web#-1") would match nothing Scribe stored.
std::optional<long long> issue_number_at(const json* n) {
  if (!n || !n->is_number_integer()) return std::nullopt;
  if (n->is_number_unsigned()) {
    const auto u = n->get<std::uint64_t>();
    if (u == 0 || u > static_cast<std::uint64_t>(std::numeric_limits<long long>::max())) {
      return std::nullopt;
    }
    return static_cast<long long>(u);
  }
  const auto v = n->get<long long>();
  if (v <= 0) return std::nullopt;
  return v;
}

HttpResponse answer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body) + "\n";
  return r;
}

std::string query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return percent_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return {};
}

std::string_view source_name(Kind kind) {
  switch (kind) {
    case Kind::kGitHub:
      return "webhook:github";
    case Kind::kGitLab:
      return "webhook:gitlab";
    case Kind::kJira:
      return "webhook:jira";
    case Kind::kNone:
      break;
  }
  return "webhook:none";
}

}  // namespace

bool verify_hub_signature(std::string_view secret, std::string_view body, std::string_view header) {
  if (secret.empty() || !header.starts_with("sha256=")) return false;
  const std::string expected = hmac_sha256_hex(secret, body);
  if (expected.empty()) return false;
  // Hex digits in either case are the same signature.
  return secret_equals(lower(header.substr(7)), expected);
}

WebhookEvent parse_github(std::string_view event_header, std::string_view body,
                          std::string_view repo) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return malformed("the body is not a JSON object");
  if (event_header != "issues") {
    return ignored(fmt::format("event '{}' is not about issues", event_header));
  }
  const std::string action = string_at(j, "action");
  const json* issue = field_at(j, "issue");
  const std::optional<long long> number =
      issue_number_at(issue ? field_at(*issue, "number") : nullptr);
  if (!number) return malformed("issues event without a positive issue.number");
  const std::string full_name = string_at(j, "repository", "full_name");
  if (!iequals(full_name, repo)) {
    return ignored(fmt::format("repository '{}' is not the configured one", full_name));
  }
  if (action != "closed" && action != "reopened") {
    return ignored(fmt::format("action '{}' does not change the state", action));
  }
  WebhookEvent e;
  e.what = WebhookEvent::What::kState;
  e.key = scoped_key(std::string(repo), *number);
  e.closed = action == "closed";
  e.actor = string_at(j, "sender", "login");
  return e;
}

WebhookEvent parse_gitlab(std::string_view event_header, std::string_view body,
                          std::string_view project) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return malformed("the body is not a JSON object");
  if (string_at(j, "object_kind") != "issue") {
    return ignored(fmt::format("event '{}' is not about issues", event_header));
  }
  const json* attrs = field_at(j, "object_attributes");
  const std::optional<long long> iid = issue_number_at(attrs ? field_at(*attrs, "iid") : nullptr);
  if (!iid) return malformed("issue event without a positive object_attributes.iid");
  const json* p = field_at(j, "project");
  const json* id = p ? field_at(*p, "id") : nullptr;
  const bool same_project =
      (id && id->is_number_integer() && std::to_string(id->get<long long>()) == project) ||
      iequals(string_at(j, "project", "path_with_namespace"), project);
  if (!same_project) return ignored("not the configured project");
  const std::string action = string_at(*attrs, "action");
  if (action != "close" && action != "reopen") {
    return ignored(fmt::format("action '{}' does not change the state", action));
  }
  WebhookEvent e;
  e.what = WebhookEvent::What::kState;
  e.key = scoped_key(std::string(project), *iid);
  e.closed = action == "close";
  e.actor = string_at(j, "user", "username");
  return e;
}

WebhookEvent parse_jira(std::string_view body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return malformed("the body is not a JSON object");
  const std::string event = string_at(j, "webhookEvent");
  if (event != "jira:issue_updated") {
    return ignored(fmt::format("event '{}' does not change an issue's status", event));
  }
  const std::string key = string_at(j, "issue", "key");
  if (key.empty()) return malformed("issue event without issue.key");
  bool status_changed = false;
  if (const json* log = field_at(j, "changelog"); log) {
    if (const json* items = field_at(*log, "items"); items && items->is_array()) {
      for (const json& item : *items) {
        if (string_at(item, "field") == "status") status_changed = true;
      }
    }
  }
  if (!status_changed) return ignored("the status did not change");
  const json* fields = field_at(j["issue"], "fields");
  const json* status = fields ? field_at(*fields, "status") : nullptr;
  const json* category = status ? field_at(*status, "statusCategory") : nullptr;
  if (!category) return malformed("issue without fields.status.statusCategory");
  WebhookEvent e;
  e.what = WebhookEvent::What::kState;
  e.key = key;
  e.closed = string_at(*category, "key") == "done";
  e.actor = string_at(j, "user", "displayName");
  return e;
}

WebhookEndpoint::WebhookEndpoint(Kind kind, Settings settings, CommandHandler& handler, Clock clock)
    : kind_(kind), settings_(std::move(settings)), handler_(handler), clock_(std::move(clock)) {}

bool WebhookEndpoint::configured() const {
  if (settings_.active() != kind_) return false;
  switch (kind_) {
    case Kind::kGitHub:
      return !settings_.github_webhook_secret.empty();
    case Kind::kGitLab:
      return !settings_.gitlab_webhook_token.empty();
    case Kind::kJira:
      return !settings_.jira_webhook_secret.empty();
    case Kind::kNone:
      break;
  }
  return false;
}

std::string WebhookEndpoint::verify(const HttpRequest& r) const {
  switch (kind_) {
    case Kind::kGitHub: {
      const std::string_view sig = r.header("x-hub-signature-256");
      if (sig.empty()) return "missing X-Hub-Signature-256";
      if (!verify_hub_signature(settings_.github_webhook_secret, r.body, sig)) {
        return "X-Hub-Signature-256 does not match the body";
      }
      return {};
    }
    case Kind::kGitLab: {
      const std::string_view token = r.header("x-gitlab-token");
      if (token.empty()) return "missing X-Gitlab-Token";
      if (!secret_equals(token, settings_.gitlab_webhook_token)) return "wrong X-Gitlab-Token";
      return {};
    }
    case Kind::kJira: {
      const std::string_view sig = r.header("x-hub-signature");
      if (!sig.empty()) {
        if (!verify_hub_signature(settings_.jira_webhook_secret, r.body, sig)) {
          return "X-Hub-Signature does not match the body";
        }
        return {};
      }
      const std::string secret = query_param(r.target, "secret");
      if (secret.empty()) return "missing X-Hub-Signature (or the secret query parameter)";
      if (!secret_equals(secret, settings_.jira_webhook_secret)) return "wrong secret";
      return {};
    }
    case Kind::kNone:
      break;
  }
  return "no tracker";
}

void WebhookEndpoint::handle(const HttpRequest& request, Respond respond) {
  if (std::string why = verify(request); !why.empty()) {
    spdlog::warn("{} refused: {}", source_name(kind_), why);
    return respond(answer(401, "not verified: " + why));
  }
  WebhookEvent event;
  std::string delivery;
  switch (kind_) {
    case Kind::kGitHub:
      event = parse_github(request.header("x-github-event"), request.body, settings_.github_repo);
      delivery = request.header("x-github-delivery");
      break;
    case Kind::kGitLab:
      event =
          parse_gitlab(request.header("x-gitlab-event"), request.body, settings_.gitlab_project);
      delivery = request.header("x-gitlab-event-uuid");
      break;
    case Kind::kJira:
      event = parse_jira(request.body);
      delivery = request.header("x-atlassian-webhook-identifier");
      break;
    case Kind::kNone:
      return respond(answer(503, "no tracker"));
  }
  if (event.what == WebhookEvent::What::kMalformed) {
    return respond(answer(400, "malformed: " + event.reason));
  }
  if (event.what == WebhookEvent::What::kIgnored) {
    return respond(answer(200, "ignored: " + event.reason));
  }
  const Timestamp now = clock_();
  TrackerReport report;
  report.key = event.key;
  report.closed = event.closed;
  const std::string tracker = display_name(kind_);
  report.by = Person{"tracker:" + lower(tracker),
                     event.actor.empty() ? tracker : fmt::format("{} ({})", tracker, event.actor)};
  report.at = now;
  struct Result {
    bool duplicate = false;
    TrackerOutcome outcome = TrackerOutcome::kUnknownIssue;
  };
  auto result = std::make_shared<Result>();
  const std::string source(source_name(kind_));
  const std::string body_key = "body:" + sha256_hex(request.body);
  const std::string id_key = delivery.empty() ? std::string() : "id:" + delivery;
  handler_.transact_async(
      [this, result, source, body_key, id_key, report, now](Transaction& tx) {
        // Both are recorded when new, so either seen again later is a replay.
        const bool new_id = id_key.empty() || tx.first_delivery(source, id_key, now);
        const bool new_body = tx.first_delivery(source, body_key, now);
        if (!new_id || !new_body) {
          result->duplicate = true;
          return false;
        }
        result->outcome = handler_.tracker_state_in(tx, report);
        return result->outcome == TrackerOutcome::kDone ||
               result->outcome == TrackerOutcome::kReopened;
      },
      [result, respond = std::move(respond), key = report.key](std::optional<StoreError> error) {
        if (error) {
          spdlog::error("tracker webhook not recorded: {}", error->what());
          return respond(answer(503, "not recorded; please retry"));
        }
        if (result->duplicate) return respond(answer(200, "duplicate: already received"));
        if (result->outcome == TrackerOutcome::kUnknownIssue) {
          return respond(answer(200, fmt::format("ignored: no action item is tracked by {}", key)));
        }
        respond(answer(200, fmt::format("{}: {}", to_string(result->outcome), key)));
      });
}

}  // namespace scribe::trackers
