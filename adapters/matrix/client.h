// The Matrix client-server API as Scribe's application service uses it on its own
// initiative: sending messages (the outbox's MatrixDeliverer), joining rooms, reading an
// event or a display name back. Blocking calls over HttpClient, authenticated with the
// application service's as_token; the AS acts as its bot user through `user_id`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands/outgoing.h"
#include "net/http_client.h"
#include "outbox/delivery.h"

namespace scribe::matrix {

// The outcome of one client-server call.
struct ClientResult {
  bool ok = false;       // HTTP 2xx with a JSON object body
  long http_status = 0;  // 0: no HTTP response arrived
  // The Matrix "errcode" ("M_LIMIT_EXCEEDED", "M_FORBIDDEN"); empty when there was none.
  std::string errcode;
  // Matrix's "error", else a transport error ("transport: ..."), else "HTTP <status>" or
  // "invalid_response" (no JSON object). Empty when ok.
  std::string error;
  // From "retry_after_ms" (M_LIMIT_EXCEEDED), else from a Retry-After header (seconds).
  std::optional<std::chrono::milliseconds> retry_after;
  nlohmann::json json;  // the parsed response body; null when it was not JSON
};

// A client for one homeserver. It reuses one connection, so it is NOT thread-safe: each
// thread that calls the homeserver owns its own ClientApi.
class ClientApi {
 public:
  struct Options {
    std::string homeserver_url;  // "https://matrix.example.org"; no trailing slash needed
    // Sent as "Authorization: Bearer <as_token>": the application service's as_token, or a
    // bot account's access token (then `user_id` stays empty). Empty: no Authorization.
    std::string as_token;
    // The bot user ("@scribe:example.org"), sent as the `user_id` query parameter so that
    // the application service acts as that user. Empty: the AS's sender_localpart user.
    std::string user_id;
    std::chrono::milliseconds timeout = std::chrono::seconds(10);
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(2);
  };

  explicit ClientApi(Options options);

  // PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}. The homeserver
  // answers a repeated txnId with the first event_id, so a retry never posts twice.
  // On success json["event_id"] names the event.
  ClientResult send_message(std::string_view room_id, std::string_view txn_id,
                            const nlohmann::json& content);
  // POST /_matrix/client/v3/join/{roomIdOrAlias}: json["room_id"] on success.
  ClientResult join(std::string_view room_id_or_alias);
  // GET /_matrix/client/v3/rooms/{roomId}/event/{eventId}: json is the ClientEvent.
  ClientResult get_event(std::string_view room_id, std::string_view event_id);
  // GET /_matrix/client/v3/profile/{userId}/displayname: json["displayname"].
  ClientResult displayname(std::string_view user_id);
  // GET /_matrix/client/v3/account/whoami: json["user_id"] (the bot user in effect).
  ClientResult whoami();
  // GET/PUT /_matrix/client/v3/user/{userId}/account_data/{type}: the bot's own account data.
  // A type never set is 404 M_NOT_FOUND.
  ClientResult get_account_data(std::string_view user_id, std::string_view type);
  ClientResult put_account_data(std::string_view user_id, std::string_view type,
                                const nlohmann::json& content);
  // POST /_matrix/client/v3/createRoom: a private direct room ("is_direct": true, preset
  // trusted_private_chat) with `user_id` invited; json["room_id"] on success.
  ClientResult create_direct_room(std::string_view user_id);

  // A raw call: `path` starts with "/_matrix/", path segments already escaped; the
  // `user_id` query parameter is appended here. `body` is sent as JSON unless null.
  ClientResult request(const std::string& method, const std::string& path,
                       const nlohmann::json& body = nullptr);

  const Options& options() const { return options_; }
  // See HttpClient::set_cancel_flag: for the sync loop's long poll.
  void set_cancel_flag(const std::atomic<bool>* flag) { http_.set_cancel_flag(flag); }

 private:
  ClientResult finish(HttpResult http) const;

  Options options_;
  HttpClient http_;
};

// The transaction id of an outbox message: stable across retries and restarts.
std::string transaction_id(std::int64_t outbox_id);

// The m.room.message content for `message`:
//   msgtype    "m.text", or "m.notice" when the reply is ephemeral-visibility;
//   body       plain text: mentions, text, details (one per line), button hint, document
//              (Markdown source);
//   format / formatted_body  "org.matrix.custom.html" / markdown_to_html() of the same, with
//              text, details and hints escaped (escape_chat_markdown: user text shows as
//              typed, only `code` spans are markup), and the mentions as pills
//              (<a href="https://matrix.to/#/@u:hs">), the only links Scribe makes;
//   all user text passes display_text (util/text.h): bidi overrides and control
//   characters are shown as markers, invalid UTF-8 as U+FFFD;
//   m.mentions {"user_ids": [...]}: the people in `notify` with a Matrix user id;
//   m.relates_to  {"rel_type": "m.thread", "event_id": thread root, ...} when `thread_id`;
//   an edit when `replaces` is set: "* "-prefixed fallback, "m.new_content" holding the new
//   content, m.relates_to {"rel_type": "m.replace", "event_id": replaces}.
// Buttons have no Matrix equivalent: each becomes a hint line with the text command that
// does the same (button_hint), unless the message already names that command.
nlohmann::json message_content(const OutgoingMessage& message,
                               const std::optional<std::string>& thread_id = {});

// The hint that stands in for `button`: "Mark done: reply `!action done N` with the item's
// number." A button's value is the item's global id, not the number users type, so the hint
// does not name it. Empty for buttons without a text command (snooze).
std::string button_hint(const Button& button);

// Delivers outbox jobs for Matrix rooms: posts and updates (JobKind::kPost, kUpdate; the
// content is an OutgoingMessage, sent with the txnId transaction_id(message.id), as an
// m.notice when its visibility is ephemeral), joins (kJoin: the bot joins
// channel.channel, e.g. after an invite) and direct messages (kDirect: channel.channel is a
// user id; the message goes to the bot's direct room with that user, found in the bot's
// `m.direct` account data as Matrix clients record it, else created with the user invited
// and recorded there, so later messages reuse it). Used by one thread (the outbox sender).
// A direct room known to this deliverer is remembered; a crash between creating a room and
// recording it can leave one unused room behind (the next attempt creates another): the
// homeserver offers no idempotent createRoom.
//   200 with event_id (join: any 200)          -> kSent, delivered_id = event_id (join: room id)
//   429, M_LIMIT_EXCEEDED                      -> kRetry, retry_after from retry_after_ms
//   5xx, transport errors and timeouts         -> kRetry
//   M_FORBIDDEN, M_NOT_FOUND, M_UNKNOWN_TOKEN, M_MISSING_TOKEN, M_BAD_JSON, M_NOT_JSON,
//   M_TOO_LARGE, M_UNKNOWN, other 4xx          -> kPermanent
//   content that is not an OutgoingMessage, a channel that is not Matrix's -> kPermanent
class MatrixDeliverer : public Deliverer {
 public:
  explicit MatrixDeliverer(ClientApi::Options options);

  DeliveryResult deliver(const OutboxMessage& message,
                         const std::optional<std::string>& thread_id) override;

  ClientApi& api() { return api_; }

 private:
  // The direct room with `user_id` (found or created); a failed DeliveryResult otherwise.
  std::variant<std::string, DeliveryResult> direct_room(const std::string& user_id);

  ClientApi api_;
  std::string bot_user_id_;                          // learnt from whoami when not configured
  std::map<std::string, std::string> direct_rooms_;  // user id -> room id
};

// How deliver() maps a send or join result; `id_field` names the id of a success.
DeliveryResult to_delivery_result(const ClientResult& result,
                                  std::string_view id_field = "event_id");

}  // namespace scribe::matrix
