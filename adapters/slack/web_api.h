// The Slack Web API as Scribe uses it on its own initiative: posting messages (the outbox's
// SlackDeliverer) and reading a message or a user back. Blocking calls over HttpClient.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands/outgoing.h"
#include "net/http_client.h"
#include "outbox/delivery.h"

namespace scribe::slack {

// The outcome of one Web API call.
struct WebApiResult {
  bool ok = false;  // HTTP 2xx and {"ok": true}
  // Slack's "error" ("channel_not_found"), else a transport error ("transport: ..."), else
  // "HTTP <status>" or "invalid_response" (no JSON). Empty when ok.
  std::string error;
  long http_status = 0;  // 0: no HTTP response arrived
  // Retry-After in seconds, whenever the response carried one (Slack sends it with 429).
  std::optional<std::chrono::seconds> retry_after;
  nlohmann::json json;  // the parsed response body; null when it was not JSON
};

// A client for https://slack.com/api (or a stand-in) with a bot token. It reuses one
// connection, so it is NOT thread-safe: each thread that calls Slack owns its own WebApi.
class WebApi {
 public:
  struct Options {
    std::string base_url = "https://slack.com/api";  // no trailing slash needed
    std::string token;                               // xoxb-…, sent as a bearer token
    // Bounds a whole call; connecting alone is given `connect_timeout`.
    std::chrono::milliseconds timeout = std::chrono::seconds(10);
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(2);
  };

  explicit WebApi(Options options);

  // POST <base>/<method> with a JSON body, e.g. call("chat.update", {...}).
  WebApiResult call(std::string_view method, const nlohmann::json& body);
  // GET <base>/<method>?<params>, percent-encoded (Slack's read methods).
  WebApiResult get(std::string_view method,
                   const std::vector<std::pair<std::string, std::string>>& params);

  // chat.postMessage with `payload` (text, blocks, thread_ts, ...) and "channel" set to
  // `channel`. On success json["ts"] names the new message.
  WebApiResult post_message(std::string_view channel, nlohmann::json payload);
  // chat.postEphemeral: `payload` shown in `channel` to `user` alone.
  WebApiResult post_ephemeral(std::string_view channel, std::string_view user,
                              nlohmann::json payload);
  // chat.update of the message `ts` in `channel` with `payload` (text, blocks); "channel"
  // and "ts" are set here. On success json["ts"] names the (same) message.
  WebApiResult update_message(std::string_view channel, std::string_view ts,
                              nlohmann::json payload);
  // The top-level message `ts` of `channel`: json["messages"] holds it, or is empty.
  WebApiResult conversations_history(std::string_view channel, std::string_view ts);
  // The thread of `ts` (the message itself first when it starts one).
  WebApiResult conversations_replies(std::string_view channel, std::string_view ts);
  // The message `ts` wherever it is (history, then replies): on success `json` is the
  // message object itself ({"user", "text", "ts", ...}); error "message_not_found" when
  // Slack has no such message.
  WebApiResult read_message(std::string_view channel, std::string_view ts);
  // conversations.open of a direct message with `user`: json["channel"]["id"] names it.
  WebApiResult open_direct(std::string_view user);
  // chat.getPermalink: json["permalink"] is the message's URL.
  WebApiResult permalink(std::string_view channel, std::string_view ts);
  // users.info: json["user"] holds the profile; see UserInfo.
  WebApiResult users_info(std::string_view user);

 private:
  WebApiResult finish(HttpResult http) const;

  Options options_;
  HttpClient http_;
};

// What Scribe needs of a Slack user (from users.info).
struct UserInfo {
  std::string id;
  std::string name;          // what humans read: display name, else real name, else handle
  std::string real_name;     // may be empty
  std::string display_name;  // may be empty
  std::string tz;            // IANA zone ("Europe/Berlin"); empty when Slack gave none
  int tz_offset = 0;         // seconds east of UTC, as Slack reported it
};
// The user of a successful users_info() result; nullopt when the call failed.
std::optional<UserInfo> user_info(const WebApiResult& result);

// Delivers post jobs (JobKind::kPost) for Slack channels through chat.postMessage, and
// update jobs (kUpdate) through chat.update of the message OutgoingMessage::replaces names
// (then `thread_id` is not needed: the message stays where it is), and direct jobs (kDirect,
// channel.channel a user id) through conversations.open then chat.postMessage to the
// direct conversation it names; conversations.open returns the same conversation each
// time, so a retry after a failed post posts once. Like its WebApi, used by one thread
// (the outbox sender).
// Every post carries a marker in its message metadata (the job's id and creation time). A
// job in doubt (OutboxMessage::in_doubt: an earlier delivery may have gone out unrecorded)
// is first looked for among the channel's newest 200 messages (or its thread's replies);
// if it is there, that message is the delivery and nothing is posted. When Slack cannot
// say for a passing reason the job is retried; when it will not (no history scope, say),
// the job is posted: at least once rather than lost.
//   ok                                    -> kSent, delivered_id = the message's ts
//   429, "ratelimited"                    -> kRetry, retry_after from Retry-After
//   5xx, transport errors and timeouts    -> kRetry
//   channel_not_found, not_in_channel, invalid_auth, token_revoked, ... -> kPermanent
//   (chat.update) message_not_found, cant_update_message, edit_window_closed -> kPermanent
//   (chat.postEphemeral, for an ephemeral message that notifies one person with a Slack id)
//   user_not_in_channel, user_not_found   -> kPermanent
//   any other Slack error                 -> kRetry (Slack has transient ones)
//   content that is not an OutgoingMessage, a channel that is not Slack's, an update
//   without `replaces`                    -> kPermanent
class SlackDeliverer : public Deliverer {
 public:
  explicit SlackDeliverer(WebApi::Options options);

  DeliveryResult deliver(const OutboxMessage& message,
                         const std::optional<std::string>& thread_id) override;

 private:
  // chat.postMessage of `payload` marked as `message`'s delivery, unless the job is in doubt
  // and such a message is already in `channel` (or the thread `thread_id`).
  DeliveryResult post_once(const OutboxMessage& message, const std::string& channel,
                           nlohmann::json payload, const std::optional<std::string>& thread_id);

  WebApi api_;
};

// How deliver() maps a chat.postMessage or chat.update result.
DeliveryResult to_delivery_result(const WebApiResult& result);

}  // namespace scribe::slack
