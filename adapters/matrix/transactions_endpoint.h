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
// 200. Ordering:
//   1. A transaction whose txnId is recorded as done ("matrix-txn") is answered {} at once.
//   2. Each event with an effect is checked against "matrix-event" (its event_id): a seen
//      event is skipped. Otherwise it is handed to the handler (which commits), its reply
//      to the ReplySink, and only then its event_id is recorded.
//   3. After all events the txnId is recorded as done, then 200 {}.
// So every event is applied at least once: nothing that was acknowledged can be lost,
// and a store failure in the middle (503 M_UNKNOWN, the homeserver retries) resumes at the
// event that failed. The one trade-off: a crash (kill -9) between the handler's commit
// and the recording of that event's id re-runs that single event on the retry, e.g. a
// `!timeline` recorded twice (visible in `!timeline list`, removable with `!timeline
// delete N`). The opposite order would lose that event silently instead. Marked messages
// and invites are idempotent anyway.
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
  // Called with the room id when the bot user is invited.
  using InviteHandler = std::function<void(const std::string& room_id)>;
  // Called with the answer to a command, the room it came from and the command's event id.
  using ReplySink = std::function<void(const ChannelRef& channel, const Reply& reply,
                                       const std::string& in_reply_to_event_id)>;

  // `store`: where the seen transaction and event ids are kept (the handler's store).
  // `bot_user_id`: the full id of the AS's sender, e.g. "@scribe:example.org".
  TransactionsEndpoint(std::string hs_token, std::string bot_user_id, CommandHandler& handler,
                       Store& store, Clock clock, InviteHandler on_invite, ReplySink reply_sink);

  // True for the paths this endpoint answers (to route them here).
  static bool handles_path(std::string_view path);

  HttpResponse handle(const HttpRequest& request);

 private:
  HttpResponse on_transaction(const std::string& txn_id, const std::string& body);
  // Handles one event, unless it is one of ours, of no interest, or already handled.
  void on_event(const nlohmann::json& event, const nlohmann::json& events);
  void on_message(const nlohmann::json& event);
  void on_reaction(const nlohmann::json& event, const nlohmann::json& events);
  void on_member(const nlohmann::json& event);
  bool seen(std::string_view source, std::string_view key);
  void remember(std::string_view source, std::string_view key);

  std::string hs_token_;
  std::string bot_user_id_;
  CommandHandler& handler_;
  Store& store_;
  Clock clock_;
  InviteHandler on_invite_;
  ReplySink reply_sink_;
};

}  // namespace scribe::matrix
