// RoomEvents: what Scribe does with the events of Matrix rooms, however they arrive: pushed
// by the homeserver to the application service (TransactionsEndpoint) or pulled by a bot
// account's sync loop (SyncLoop). Both hand a batch of client events to apply() inside one
// store transaction, so the two modes give the same commands, replies, joins, notices and
// idempotency.
//
// Events (each must carry "room_id"; a sync response's are given theirs by the caller):
// - `m.room.message` with msgtype `m.text` whose body starts with `!incident`,
//   `!timeline` or `!action` runs that command (prefix "!") with the sender as author and
//   `origin_server_ts` as its time. Mention pills in `formatted_body` and bare user ids
//   ("@alice:example.org") become "@alice" with the person in Invocation::mentions. A
//   rich reply's fallback (the "> <@bob:x> …" quote lines) is dropped. The Reply goes to
//   the ReplySink with the command's event id (to reply in thread/as a reply). Matrix has
//   no ephemeral messages: the sink is expected to post Reply::Visibility::kEphemeral as
//   an `m.notice` to the room; this class only passes the visibility along.
// - Notices (`m.notice`, what bots send), other msgtypes and messages of the bot user
//   itself are ignored, so Scribe never answers itself or another bot.
// - Edits (`m.relates_to.rel_type == "m.replace"`) are ignored: the original command has
//   already run and replied; running the edited text again would record a second event
//   (or a second action item), and a command cannot be "undone" by an edit. Users correct
//   with `!timeline edit N …`.
// - `m.reaction` with key 📌 (with or without U+FE0F) on a message: when the message is
//   in the same batch it is recorded directly (CommandHandler::record_marked_in);
//   otherwise a durable fetch job (JobKind::kFetch) is written to the outbox with
//   fetch_job() as its content, and the fetcher reads the message through the
//   client-server API and records it.
// - `m.room.member` with membership "invite" and state_key == the bot user calls the
//   InviteHandler with the room id (the caller queues the join). When the invite's
//   stripped room state (`unsigned.invite_room_state`, as both the AS API and /sync's
//   invite_state give it) holds `m.room.encryption`, the EncryptedRoomHandler is called
//   too, after the join.
// - `m.room.encryption` (the room was made end-to-end encrypted) and `m.room.encrypted` (a
//   message Scribe cannot read) call the EncryptedRoomHandler with the room id: Scribe
//   cannot read such a room, and the handler tells the room so, once (it keys its notice by
//   room). Encrypted messages are not recorded as deliveries (a busy encrypted room would
//   otherwise write a row per message for nothing).
//
// Idempotency: each event of interest with an event_id is recorded ("matrix-event") in the
// caller's transaction; one seen before is skipped, so a batch delivered twice (a replayed
// AS transaction, a sync response whose commit was lost) changes nothing the second time.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "commands/handler.h"
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

// The notice an end-to-end encrypted room gets: Scribe cannot read it, and what to do
// instead. `bot_user_id` names the bot to invite to the other room.
Reply encrypted_room_notice(std::string_view bot_user_id);

class RoomEvents {
 public:
  // Each is called inside the store transaction of the batch, on the store's writer
  // thread: it writes through `tx` only (the outbox), and returns whether it enqueued.
  // Called with the room id when the bot user is invited.
  using InviteHandler = std::function<bool(Transaction& tx, const std::string& room_id)>;
  // Called with the answer to a command, the room it came from and the command's event id.
  using ReplySink =
      std::function<bool(Transaction& tx, const ChannelRef& channel, const Reply& reply,
                         const std::string& in_reply_to_event_id)>;
  // Called with the room id of a room found to be end-to-end encrypted (possibly again).
  using EncryptedRoomHandler = std::function<bool(Transaction& tx, const std::string& room_id)>;

  struct Hooks {
    InviteHandler on_invite;
    ReplySink reply_sink;
    EncryptedRoomHandler on_encrypted;
  };

  // `bot_user_id`: the bot's full id, e.g. "@scribe:example.org". `homeserver_url`: for the
  // media links of pinned files; may be empty.
  RoomEvents(std::string bot_user_id, CommandHandler& handler, Hooks hooks,
             std::string homeserver_url = {});

  // Applies `events` (a JSON array of client events) inside `tx`; `now` stands in for a
  // missing origin_server_ts. Returns whether anything was enqueued to the outbox.
  bool apply(Transaction& tx, const nlohmann::json& events, Timestamp now) const;

  const std::string& bot_user_id() const { return bot_user_id_; }

 private:
  bool on_event(Transaction& tx, const nlohmann::json& event, const nlohmann::json& events,
                Timestamp now) const;
  bool on_message(Transaction& tx, const nlohmann::json& event, Timestamp now) const;
  bool on_reaction(Transaction& tx, const nlohmann::json& event, const nlohmann::json& events,
                   Timestamp now) const;
  bool on_member(Transaction& tx, const nlohmann::json& event) const;
  bool on_encrypted(Transaction& tx, const std::string& room_id) const;

  std::string bot_user_id_;
  CommandHandler& handler_;
  Hooks hooks_;
  std::string homeserver_url_;
};

}  // namespace scribe::matrix
