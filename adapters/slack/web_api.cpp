#include "adapters/slack/web_api.h"

#include <algorithm>
#include <exception>
#include <iterator>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "adapters/slack/blocks.h"
#include "util/json_fields.h"
#include "util/percent.h"

namespace scribe::slack {
namespace {

using nlohmann::json;

// Errors on which trying again cannot help: the channel, the token or the message itself
// is the problem.
constexpr std::string_view kPermanentErrors[] = {
    // conversations.open of a direct message
    "user_not_found",
    "user_disabled",
    "cannot_dm_bot",
    "channel_not_found",
    "not_in_channel",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "is_archived",
    "msg_too_long",
    "msg_blocks_too_long",
    "no_text",
    "invalid_blocks",
    "missing_scope",
    "not_authed",
    "not_allowed_token_type",
    "no_permission",
    "restricted_action",
    "invalid_arguments",
    "team_access_not_granted",
    "cannot_reply_to_message",
    // chat.update: the message is gone, or is not one the bot may edit.
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
    // chat.postEphemeral: the one person it is for cannot see the channel (any more).
    "user_not_in_channel",
    "user_not_found",
};

const json* find_message(const json& response, std::string_view ts) {
  const auto it = response.find("messages");
  if (it == response.end() || !it->is_array()) return nullptr;
  for (const auto& m : *it) {
    const auto t = m.find("ts");
    if (t != m.end() && t->is_string() && t->get_ref<const std::string&>() == ts) return &m;
  }
  return nullptr;
}

}  // namespace

WebApi::WebApi(Options options)
    : options_(std::move(options)), http_(options_.timeout, options_.connect_timeout) {
  while (options_.base_url.ends_with('/')) options_.base_url.pop_back();
}

WebApiResult WebApi::call(std::string_view method, const json& body) {
  const std::string url = fmt::format("{}/{}", options_.base_url, method);
  // Invalid UTF-8 from anywhere upstream becomes U+FFFD instead of an exception.
  const std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return finish(http_.request(
      "POST", url,
      {"Authorization: Bearer " + options_.token, "Content-Type: application/json; charset=utf-8"},
      text));
}

WebApiResult WebApi::get(std::string_view method,
                         const std::vector<std::pair<std::string, std::string>>& params) {
  std::string url = fmt::format("{}/{}", options_.base_url, method);
  char separator = '?';
  for (const auto& [name, value] : params) {
    url.push_back(separator);
    url.append(percent_encode(name)).append("=").append(percent_encode(value));
    separator = '&';
  }
  return finish(http_.request("GET", url, {"Authorization: Bearer " + options_.token}));
}

WebApiResult WebApi::finish(HttpResult http) const {
  WebApiResult result;
  result.http_status = http.status;
  if (http.transport_failed()) {
    result.error = http.transport_error();
    return result;
  }
  result.retry_after = http.retry_after();
  result.json = json::parse(http.body, nullptr, /*allow_exceptions=*/false);
  if (result.json.is_discarded()) result.json = nullptr;

  const bool success = http.status >= 200 && http.status < 300;
  const auto ok = result.json.is_object() ? result.json.find("ok") : result.json.end();
  if (success && ok != result.json.end() && ok->is_boolean() && ok->get<bool>()) {
    result.ok = true;
    return result;
  }
  const std::string error = result.json.is_object() ? string_at(result.json, "error") : "";
  if (!error.empty()) {
    result.error = error;
  } else if (!success) {
    result.error = fmt::format("HTTP {}", http.status);
  } else {
    result.error = "invalid_response";
  }
  return result;
}

WebApiResult WebApi::post_message(std::string_view channel, json payload) {
  payload["channel"] = channel;
  return call("chat.postMessage", payload);
}

WebApiResult WebApi::post_ephemeral(std::string_view channel, std::string_view user, json payload) {
  payload["channel"] = channel;
  payload["user"] = user;
  return call("chat.postEphemeral", payload);
}

WebApiResult WebApi::update_message(std::string_view channel, std::string_view ts, json payload) {
  payload["channel"] = channel;
  payload["ts"] = ts;
  return call("chat.update", payload);
}

WebApiResult WebApi::conversations_history(std::string_view channel, std::string_view ts) {
  return get("conversations.history", {{"channel", std::string(channel)},
                                       {"oldest", std::string(ts)},
                                       {"latest", std::string(ts)},
                                       {"inclusive", "true"},
                                       {"limit", "1"}});
}

WebApiResult WebApi::conversations_replies(std::string_view channel, std::string_view ts) {
  return get("conversations.replies", {{"channel", std::string(channel)},
                                       {"ts", std::string(ts)},
                                       {"oldest", std::string(ts)},
                                       {"latest", std::string(ts)},
                                       {"inclusive", "true"},
                                       {"limit", "1"}});
}

WebApiResult WebApi::read_message(std::string_view channel, std::string_view ts) {
  WebApiResult result = conversations_history(channel, ts);
  if (!result.ok) return result;
  if (const json* message = find_message(result.json, ts)) {
    result.json = *message;
    return result;
  }
  // Not a top-level message: a reply in a thread.
  result = conversations_replies(channel, ts);
  if (!result.ok && result.error != "thread_not_found") return result;
  if (const json* message = result.ok ? find_message(result.json, ts) : nullptr) {
    result.json = *message;
    return result;
  }
  result.ok = false;
  result.error = "message_not_found";
  result.json = nullptr;
  return result;
}

WebApiResult WebApi::open_direct(std::string_view user) {
  return call("conversations.open", {{"users", std::string(user)}});
}

WebApiResult WebApi::permalink(std::string_view channel, std::string_view ts) {
  return get("chat.getPermalink",
             {{"channel", std::string(channel)}, {"message_ts", std::string(ts)}});
}

WebApiResult WebApi::users_info(std::string_view user) {
  return get("users.info", {{"user", std::string(user)}});
}

std::optional<UserInfo> user_info(const WebApiResult& result) {
  if (!result.ok || !result.json.is_object()) return std::nullopt;
  const auto user = result.json.find("user");
  if (user == result.json.end() || !user->is_object()) return std::nullopt;
  UserInfo info;
  info.id = string_at(*user, "id");
  info.real_name = string_at(*user, "real_name");
  const auto profile = user->find("profile");
  if (profile != user->end() && profile->is_object()) {
    info.display_name = string_at(*profile, "display_name");
    if (info.real_name.empty()) info.real_name = string_at(*profile, "real_name");
  }
  info.tz = string_at(*user, "tz");
  const auto offset = user->find("tz_offset");
  if (offset != user->end() && offset->is_number_integer()) info.tz_offset = offset->get<int>();
  info.name = !info.display_name.empty() ? info.display_name
              : !info.real_name.empty()  ? info.real_name
                                         : string_at(*user, "name");
  if (info.name.empty()) info.name = info.id;
  return info;
}

DeliveryResult to_delivery_result(const WebApiResult& result) {
  using Outcome = DeliveryResult::Outcome;
  DeliveryResult out;
  out.maybe_delivered = !result.ok && result.http_status == 0;
  if (result.ok) {
    out.outcome = Outcome::kSent;
    // Posted even if Slack named no ts; replies to it then go to the channel instead.
    out.delivered_id = string_at(result.json, "ts");
    return out;
  }
  out.error = result.error;
  if (result.retry_after) out.retry_after = *result.retry_after;
  const bool permanent = std::find(std::begin(kPermanentErrors), std::end(kPermanentErrors),
                                   result.error) != std::end(kPermanentErrors);
  if (result.http_status == 0 || result.http_status == 429 || result.http_status >= 500) {
    out.outcome = Outcome::kRetry;  // transport, timeout, rate limit, Slack's side
  } else if (permanent) {
    out.outcome = Outcome::kPermanent;
    out.retry_after.reset();
  } else {
    // "ratelimited" and everything not known to be permanent: Slack reports passing
    // trouble as errors too (internal_error, fatal_error, service_unavailable,
    // request_timeout), and giving up would lose a message that the next try delivers.
    out.outcome = Outcome::kRetry;
  }
  return out;
}

namespace {

constexpr std::string_view kJobMarker = "scribe_outbox_job";

// The marker a post carries: the job's id and creation time, so that a job of the same id
// in another Scribe's database is not taken for it.
json job_marker(const OutboxMessage& m) {
  return {{"event_type", kJobMarker},
          {"event_payload", {{"job", m.id}, {"created", m.created_at.time_since_epoch().count()}}}};
}

// The ts of the message in `messages` (Slack's array) that carries `marker`; "" for none.
std::string marked_message(const json& answer, const json& marker) {
  const auto messages = answer.find("messages");
  if (messages == answer.end() || !messages->is_array()) return {};
  for (const json& m : *messages) {
    const auto metadata = m.find("metadata");
    if (metadata != m.end() && *metadata == marker) return string_at(m, "ts");
  }
  return {};
}

}  // namespace

SlackDeliverer::SlackDeliverer(WebApi::Options options) : api_(std::move(options)) {}

DeliveryResult SlackDeliverer::post_once(const OutboxMessage& message, const std::string& channel,
                                         json payload,
                                         const std::optional<std::string>& thread_id) {
  const json marker = job_marker(message);
  if (message.in_doubt) {
    const WebApiResult found =
        thread_id
            ? api_.get("conversations.replies", {{"channel", channel},
                                                 {"ts", *thread_id},
                                                 {"limit", "1000"},
                                                 {"include_all_metadata", "true"}})
            : api_.get("conversations.history",
                       {{"channel", channel}, {"limit", "200"}, {"include_all_metadata", "true"}});
    if (found.ok) {
      if (std::string ts = marked_message(found.json, marker); !ts.empty()) {
        spdlog::info("outbox #{}: already in {} as {} (an earlier delivery went unrecorded)",
                     message.id, channel, ts);
        DeliveryResult sent;
        sent.outcome = DeliveryResult::Outcome::kSent;
        sent.delivered_id = std::move(ts);
        return sent;
      }
    } else if (found.http_status == 0 || found.http_status == 429 || found.http_status >= 500) {
      DeliveryResult later = to_delivery_result(found);
      later.outcome = DeliveryResult::Outcome::kRetry;
      later.error = "looking for an earlier delivery: " + later.error;
      return later;
    } else {
      spdlog::warn("outbox #{}: cannot look for an earlier delivery in {} ({}); posting it",
                   message.id, channel, found.error);
    }
  }
  payload["metadata"] = marker;
  return to_delivery_result(api_.post_message(channel, std::move(payload)));
}

DeliveryResult SlackDeliverer::deliver(const OutboxMessage& message,
                                       const std::optional<std::string>& thread_id) {
  DeliveryResult failed;
  failed.outcome = DeliveryResult::Outcome::kPermanent;
  if (message.channel.platform != "slack") {
    failed.error = fmt::format("not a Slack channel (platform \"{}\")", message.channel.platform);
    return failed;
  }
  if (message.channel.channel.empty()) {
    failed.error = "no channel";
    return failed;
  }
  Parsed<OutgoingMessage> outgoing = outgoing_from_json(message.content);
  if (!outgoing) {
    failed.error = fmt::format("unreadable outbox content: {}", outgoing.error);
    return failed;
  }
  if (message.thread_parent_lost) mark_thread_parent_lost(*outgoing);
  std::string channel = message.channel.channel;
  if (message.kind == JobKind::kDirect) {
    const WebApiResult opened = api_.open_direct(channel);
    if (!opened.ok) return to_delivery_result(opened);
    const auto c = opened.json.find("channel");
    if (c == opened.json.end() || !c->is_object() || string_at(*c, "id").empty()) {
      DeliveryResult odd;  // Slack said ok without naming the conversation: try again later
      odd.error = "conversations.open named no channel";
      return odd;
    }
    channel = string_at(*c, "id");
    return post_once(message, channel, message_payload(channel, *outgoing, std::nullopt),
                     std::nullopt);
  }
  if (message.kind == JobKind::kUpdate) {
    if (!outgoing->replaces) {
      failed.error = "an update that names no message to replace";
      return failed;
    }
    return to_delivery_result(api_.update_message(
        channel, *outgoing->replaces, update_payload(channel, *outgoing->replaces, *outgoing)));
  }
  // A message for one person alone (a review hint to the author of an entry).
  if (outgoing->body.visibility == Reply::Visibility::kEphemeral && outgoing->notify.size() == 1 &&
      !outgoing->notify.front().id.empty()) {
    OutgoingMessage quiet = *outgoing;
    quiet.notify.clear();  // no "@author" lead in a message only they see
    return to_delivery_result(api_.post_ephemeral(channel, outgoing->notify.front().id,
                                                  message_payload(channel, quiet, std::nullopt)));
  }
  return post_once(message, channel, message_payload(channel, *outgoing, thread_id), thread_id);
}

}  // namespace scribe::slack
