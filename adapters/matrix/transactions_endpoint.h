// TransactionsEndpoint: the inbound half of the Matrix application service (AS API v1).
//
//   PUT  /_matrix/app/v1/transactions/{txnId}  (and the legacy /transactions/{txnId})
//   GET  /_matrix/app/v1/users/{userId}        (and /users/{userId})
//   GET  /_matrix/app/v1/rooms/{roomAlias}     (and /rooms/{roomAlias})
//   POST /_matrix/app/v1/ping
//
// Authentication: `Authorization: Bearer <hs_token>`, or the legacy `access_token` query
// parameter, compared in constant time. No credentials: 401 M_UNAUTHORIZED; wrong ones:
// 403 M_FORBIDDEN. Either way nothing is read or stored. Errors are Matrix error bodies
// {"errcode": ..., "error": ...}; unknown paths are 404 M_UNRECOGNIZED, a wrong method
// 405 M_UNRECOGNIZED, a body that is not a JSON object with an "events" array 400
// M_NOT_JSON / M_BAD_JSON.
//
// Events of a transaction:
// - `m.room.message` with msgtype `m.text` whose body starts with `!incident`,
//   `!timeline` or `!action` runs that command (prefix "!") with the sender as author and
//   `origin_server_ts` as its time. Mention pills in `formatted_body` and bare user ids
//   ("@alice:example.org") become "@alice" with the person in Invocation::mentions. A
//   rich reply's fallback (the "> <@bob:x> …" quote lines) is dropped. The Reply goes to
//   the ReplySink with the command's event id (to reply in thread/as a reply). Matrix has
//   no ephemeral messages: the sink is expected to post Reply::Visibility::kEphemeral as
//   an `m.notice` to the room; this endpoint only passes the visibility along.
// - Notices (`m.notice`, what bots send), other msgtypes and messages of the bot user
//   itself are ignored, so Scribe never answers itself or another bot.
// - Edits (`m.relates_to.rel_type == "m.replace"`) are ignored: the original command has
//   already run and replied; running the edited text again would record a second event
//   (or a second action item), and a command cannot be "undone" by an edit. The reply to
//   an edit would also be confusing. Users correct with `!timeline edit N …`.
// - `m.reaction` with key 📌 (with or without U+FE0F) on a message: when the message is
//   in the same transaction it is recorded directly (CommandHandler::
//   record_marked_message); otherwise a durable fetch job (JobKind::kFetch) is written to
//   the outbox with fetch_job() as its content, and the fetcher reads the message through the
//   client-server API (GET /_matrix/client/v3/rooms/{roomId}/event/{eventId}) and records it.
// - `m.room.member` with membership "invite" and state_key == the bot user calls the
//   InviteHandler with the room id (the caller queues the join).
//
// Replays and crashes. The homeserver retries a transaction (same txnId) until it gets a
// 200. One transaction of the homeserver is one transaction of the store: the txnId
// ("matrix-txn"), each event's id ("matrix-event"), every command's effect and its reply
// (an outbox row) commit together, and only then is 200 {} sent. So a replayed txnId is
// answered {} and changes nothing, a store failure (503 M_UNKNOWN) leaves nothing behind
// and the retry runs the whole transaction, and a crash at any point neither loses nor
// doubles an event or its reply. An event without an event_id is covered by its
// transaction's txnId (recorded in the same commit); an event id seen in an earlier
// transaction is skipped.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "adapters/matrix/message_text.h"
#include "adapters/matrix/platform.h"
#include "commands/handler.h"
#include "net/http_message.h"
#include "storage/store.h"

namespace scribe::matrix {

// A fetch job's content, JSON:
//   {"room_id": "!r:example.org", "event_id": "$ev", "marked_by": "@bob:example.org",
//    "received_at": 1763648700000}
// received_at: the reaction's origin_server_ts, milliseconds since the Unix epoch. The
// fetcher records the message with marked_by = Person{marked_by, localpart},
// channel = channel_of(room_id), received_at as given.
struct FetchJob {
  std::string room_id;
  std::string event_id;
  std::string marked_by;
  Timestamp received_at{};
};
std::string fetch_job(const FetchJob& job);
// nullopt when `content` is not such a job.
std::optional<FetchJob> parse_fetch_job(std::string_view content);

class TransactionsEndpoint {
 public:
  using Clock = std::function<Timestamp()>;
  // Both are called inside the store transaction of the homeserver's transaction, on the
  // store's writer thread: they write through `tx` only (the outbox), and return whether
  // they enqueued anything.
  // Called with the room id when the bot user is invited.
  using InviteHandler = std::function<bool(Transaction& tx, const std::string& room_id)>;
  // Called with the answer to a command, the room it came from and the command's event id.
  using ReplySink =
      std::function<bool(Transaction& tx, const ChannelRef& channel, const Reply& reply,
                         const std::string& in_reply_to_event_id)>;

  // `bot_user_id`: the full id of the AS's sender, e.g. "@scribe:example.org".
  TransactionsEndpoint(std::string hs_token, std::string bot_user_id, CommandHandler& handler,
                       Clock clock, InviteHandler on_invite, ReplySink reply_sink,
                       std::string homeserver_url = {});

  // True for the paths this endpoint answers (to route them here).
  static bool handles_path(std::string_view path);

  // Answers through `respond` once what the request changed is durable (or failed); does
  // not block.
  void handle(const HttpRequest& request, Respond respond);

 private:
  void on_transaction(const std::string& txn_id, const std::string& body, Respond respond);
  // Inside the store transaction; each returns whether it enqueued to the outbox. Handles
  // one event, unless it is one of ours, of no interest, or already handled.
  bool on_event(Transaction& tx, const nlohmann::json& event, const nlohmann::json& events,
                Timestamp now);
  bool on_message(Transaction& tx, const nlohmann::json& event, Timestamp now);
  bool on_reaction(Transaction& tx, const nlohmann::json& event, const nlohmann::json& events,
                   Timestamp now);
  bool on_member(Transaction& tx, const nlohmann::json& event);

  std::string hs_token_;
  std::string bot_user_id_;
  CommandHandler& handler_;
  Clock clock_;
  InviteHandler on_invite_;
  ReplySink reply_sink_;
  std::string homeserver_url_;  // for the media links of pinned files; may be empty
};

}  // namespace scribe::matrix
