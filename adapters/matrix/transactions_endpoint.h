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
// Events of a transaction: RoomEvents (adapters/matrix/room_events.h) applies them, the
// same code a bot account's sync loop uses, so both modes behave alike.
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
#include "adapters/matrix/room_events.h"
#include "commands/handler.h"
#include "net/http_message.h"
#include "storage/store.h"

namespace scribe::matrix {

class TransactionsEndpoint {
 public:
  using Clock = std::function<Timestamp()>;
  // Kept for the callers that name them here; see RoomEvents.
  using InviteHandler = RoomEvents::InviteHandler;
  using ReplySink = RoomEvents::ReplySink;

  // `bot_user_id`: the full id of the AS's sender, e.g. "@scribe:example.org".
  TransactionsEndpoint(std::string hs_token, std::string bot_user_id, CommandHandler& handler,
                       Clock clock, RoomEvents::Hooks hooks, std::string homeserver_url = {});

  // True for the paths this endpoint answers (to route them here).
  static bool handles_path(std::string_view path);

  // Answers through `respond` once what the request changed is durable (or failed); does
  // not block.
  void handle(const HttpRequest& request, Respond respond);

 private:
  void on_transaction(const std::string& txn_id, const std::string& body, Respond respond);

  std::string hs_token_;
  std::string bot_user_id_;
  CommandHandler& handler_;
  Clock clock_;
  RoomEvents events_;
};

}  // namespace scribe::matrix
