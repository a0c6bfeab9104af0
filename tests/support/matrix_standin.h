// MatrixStandIn: a local stand-in for a Matrix homeserver, for tests. An HTTP/1.1 server
// (keep-alive) on 127.0.0.1 and an ephemeral port, run on a thread of its own, that records
// every client-server call and answers the ones Scribe's application service makes as a
// homeserver would: send (idempotent per txnId), join, get event, profile displayname,
// whoami, account data (get/put) and createRoom; and for a bot account: /login, /sync (with
// next_batch tokens "s<N>", inline filters' timeline limit and types, `limited` timelines,
// invites with their stripped state, long polls woken by new events), /rooms/{id}/messages
// (to read a gap) and a revoked token. Tests
// can script failures (429 M_LIMIT_EXCEEDED, 500, 403), a slow server and an outage. Like a
// homeserver it also pushes transactions to Scribe (push_transaction). Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace scribe::testing {

using MatrixHeaderList = std::vector<std::pair<std::string, std::string>>;

// One request as the stand-in received it.
struct MatrixCall {
  std::string http_method;                   // "PUT", "POST", "GET"
  std::string path;                          // decoded: "/_matrix/client/v3/rooms/!r:hs/send/..."
  std::string raw_path;                      // as sent, still percent-encoded
  std::map<std::string, std::string> query;  // decoded
  MatrixHeaderList headers;                  // names in lower case
  std::string body;
  nlohmann::json json;  // the body parsed as JSON; null when it is not
  std::chrono::steady_clock::time_point arrived;
  unsigned status = 0;  // what the stand-in answered

  std::string header(std::string_view name) const;   // "" when absent; any case
  std::string param(const std::string& name) const;  // query parameter, "" when absent
};

// A message the stand-in accepted (one per room and txnId).
struct MatrixSentMessage {
  std::string room_id;
  std::string txn_id;
  std::string event_id;  // "$1", "$2", ...
  std::string sender;    // the `user_id` the AS asserted; a bot account: the bot
  nlohmann::json content;
};

// A room made by createRoom.
struct MatrixCreatedRoom {
  std::string room_id;  // "!room1:<server_name>", ...
  std::string creator;  // the `user_id` the AS asserted; a bot account: the bot
  bool is_direct = false;
  std::vector<std::string> invited;
};

// What push_transaction() got back from Scribe.
struct PushResult {
  long status = 0;  // 0: no response
  std::string body;
  std::string error;  // transport error
  nlohmann::json json;
};

class MatrixStandIn {
 public:
  // `as_token`: what client-server calls must carry as "Authorization: Bearer <as_token>";
  // others get 401 M_UNKNOWN_TOKEN (M_MISSING_TOKEN without one). Empty: any token.
  explicit MatrixStandIn(std::string as_token = "as-standin",
                         std::string server_name = "standin.test");
  ~MatrixStandIn();  // closes every connection and stops the thread
  MatrixStandIn(const MatrixStandIn&) = delete;
  MatrixStandIn& operator=(const MatrixStandIn&) = delete;

  std::uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:<port>": the homeserver URL
  const std::string& as_token() const;
  const std::string& server_name() const;

  // An event get_event can return (its "room_id" and "event_id" are set here).
  void add_event(const std::string& room_id, const std::string& event_id, nlohmann::json event);
  void set_displayname(const std::string& user_id, const std::string& name);
  // Rooms that refuse a join with 403 M_FORBIDDEN; any other room can be joined.
  void forbid_join(const std::string& room_id);

  // The next `n` client-server calls get this answer. An empty body for 429 is
  // {"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":1500}.
  void fail_next(int n, unsigned status, std::string body = {}, MatrixHeaderList headers = {});
  // The same for the next `n` calls whose decoded path contains `path_part` ("/send/");
  // other calls are answered as usual (a bot account's /sync goes on meanwhile).
  void fail_next_to(std::string_view path_part, int n, unsigned status, std::string body = {},
                    MatrixHeaderList headers = {});
  // Every answer waits this long first; other connections are not held up.
  void set_delay(std::chrono::milliseconds delay);
  // Down: connections are closed at once, requests unanswered and not recorded.
  void set_down(bool down);

  // PUT <scribe_base_url>/_matrix/app/v1/transactions/<txn_id> with {"events": events} and
  // "Authorization: Bearer <hs_token>", as a homeserver pushes events to an AS.
  PushResult push_transaction(const std::string& scribe_base_url, const std::string& hs_token,
                              const std::string& txn_id, const nlohmann::json& events) const;

  // ---- a bot account's /sync ----
  // The bot account /sync serves: "@scribe:<server_name>".
  std::string bot_user_id() const;
  // Appends an event to `room_id`'s timeline (its "room_id" set; "event_id" "$s<N>" and
  // "origin_server_ts" now unless given); returns its event id. Long polls wake up.
  std::string add_room_event(const std::string& room_id, nlohmann::json event);
  // A `!command`-style m.text message from `sender` (a full user id); returns its event id.
  std::string add_message(const std::string& room_id, const std::string& sender,
                          const std::string& body);
  // The bot is in `room_id` already (joined before the test).
  void join_bot(const std::string& room_id);
  // `inviter` invites the bot to `room_id`; with `encrypted`, the room has m.room.encryption
  // in its state (and so in the invite's stripped state).
  void invite_bot(const std::string& room_id, const std::string& inviter, bool encrypted = false);
  // From now on the token is refused: 401 M_UNKNOWN_TOKEN, as after a logout.
  void revoke_token();
  // An account /login accepts (m.login.password): user localpart, password, the token given.
  void add_login(const std::string& user, const std::string& password, const std::string& token);
  // The newest stream position: the N of "s<N>".
  std::uint64_t stream_position() const;
  // Waits until a /sync asked with since >= "s<position>": Scribe stores a position only with
  // the effects of everything before it, so everything up to it has been applied.
  bool wait_for_sync_since(std::uint64_t position,
                           std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;

  std::vector<MatrixCall> calls() const;
  // Calls whose decoded path contains `path_part` ("/send/", "/join/").
  std::vector<MatrixCall> calls_to(std::string_view path_part) const;
  // Waits until at least `n` calls_to(path_part) were recorded; false on timeout.
  bool wait_for(std::string_view path_part, std::size_t n,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Messages accepted in `room` (all rooms when empty), one per txnId, in order.
  std::vector<MatrixSentMessage> sent_messages(const std::string& room = {}) const;
  // Waits until at least `n` sent_messages(room) exist; false on timeout.
  bool wait_for_messages(std::size_t n, const std::string& room = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Rooms joined, in order (a room joined twice is listed twice).
  std::vector<std::string> joins() const;
  // Rooms created (createRoom), in order.
  std::vector<MatrixCreatedRoom> created_rooms() const;
  // A user's account data of `type` as last PUT (GET/PUT .../user/{u}/account_data/{type});
  // null when never set.
  nlohmann::json account_data(const std::string& user_id, const std::string& type) const;
  std::size_t connections() const;

  struct Impl;  // opaque; Boost.Beast stays in the .cpp

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace scribe::testing
