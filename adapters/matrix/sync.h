// SyncLoop: Scribe as a plain Matrix bot account (SCRIBE_MATRIX_ACCESS_TOKEN), for
// homeservers whose administrator will not register an application service, or a Scribe no
// homeserver can reach. One thread long-polls GET /_matrix/client/v3/sync (30 s) with an
// inline filter that asks only for what Scribe reads: timeline m.room.message, m.reaction,
// m.room.member, m.room.encryption and m.room.encrypted; state m.room.encryption; no
// presence, receipts, typing or account data. Invites arrive in `rooms.invite`.
//
// Each response's events go through RoomEvents (room_events.h), the code the application
// service's transactions use, in ONE store transaction that also stores the response's
// next_batch (Transaction::set_stream_position). So a crash before the commit repeats the
// response (nothing of it was kept), one after it never sees it again, and an event seen
// twice is skipped by its event id: a command is never skipped nor run twice, and replies,
// joins and notices go through the same outbox with the same keys as in the other mode.
//
// First start (no stored position for this user): one sync with a timeline limit of 0
// learns the current position; pending invites and rooms' encryption state are acted on,
// but no message typed before Scribe started is run as a command. Later starts resume
// from the stored position. A room whose timeline comes back `limited` (more happened
// than one response holds) has its gap read with /rooms/{id}/messages back to the
// previous position before anything is committed, so nothing is skipped.
//
// Errors: M_UNKNOWN_TOKEN / M_MISSING_TOKEN (the token was revoked or is wrong) is logged
// as an error once per episode and makes token_accepted() false (the service's /readyz
// answers 503) until a sync succeeds again; it is retried at the longest back-off.
// M_LIMIT_EXCEEDED / 429 waits retry_after_ms (else Retry-After, else the back-off). An
// outage (no answer, 5xx, a store failure) waits an exponential back-off with jitter:
// 1 s doubling to 60 s, each wait drawn between half and all of that.
//
// Threads: start() runs the loop on a thread of its own; stop() (any thread, idempotent)
// ends a long poll within about a second and joins it. token_accepted() is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "adapters/matrix/client.h"
#include "adapters/matrix/room_events.h"
#include "commands/handler.h"
#include "storage/store.h"

namespace scribe::matrix {

class SyncLoop {
 public:
  using Clock = std::function<Timestamp()>;
  struct Options {
    // The homeserver and the bot account's access token (in as_token; user_id empty).
    ClientApi::Options api;
    std::string user_id;  // the bot account, "@scribe:example.org"
    std::chrono::milliseconds poll_timeout = std::chrono::seconds(30);
    std::chrono::milliseconds backoff_first = std::chrono::seconds(1);
    std::chrono::milliseconds backoff_max = std::chrono::seconds(60);
    int timeline_limit = 100;  // events per room and response before a gap is read
  };

  SyncLoop(Options options, const RoomEvents& events, CommandHandler& handler, Store& store,
           Clock clock);
  ~SyncLoop();  // stop()s
  SyncLoop(const SyncLoop&) = delete;
  SyncLoop& operator=(const SyncLoop&) = delete;

  void start();
  void stop();

  // False while the homeserver refuses the access token.
  bool token_accepted() const { return token_accepted_.load(); }

  // The stream_positions name of a bot account's sync token.
  static std::string stream_name(std::string_view user_id);
  // The /sync filter (inline JSON); `timeline_limit` 0 for the first start.
  static nlohmann::json filter(int timeline_limit);
  // The events of a /sync response for RoomEvents: every joined room's encryption state and
  // timeline, each given its room_id, and each invite of `user_id` as an m.room.member
  // invite event with the room's stripped state in unsigned.invite_room_state (as the AS
  // API gives it). `timeline`: false for the first start (state and invites only).
  static nlohmann::json events_of(const nlohmann::json& response, std::string_view user_id,
                                  bool timeline);

 private:
  void run();
  // Waits `delay` unless stopped first; returns false when stopped.
  bool pause(std::chrono::milliseconds delay);
  std::chrono::milliseconds backoff();
  // Handles a failed call: logs, and waits as the failure asks. False when stopped.
  bool after_failure(const ClientResult& result, std::string_view what);
  std::optional<std::string> load_position();
  // Commits `events` and the position `next_batch`; false when the store failed.
  bool commit(const nlohmann::json& events, const std::string& next_batch);
  // Fills each limited room's gap (before its timeline) from /messages; false on failure.
  bool fill_gaps(nlohmann::json& response, const std::string& since, ClientResult& failure);

  Options options_;
  const RoomEvents& events_;
  CommandHandler& handler_;
  Store& store_;
  Clock clock_;
  ClientApi api_;
  std::string filter_;          // the incremental filter, serialised
  std::string initial_filter_;  // the first start's
  std::atomic<bool> stopping_{false};
  std::atomic<bool> token_accepted_{true};
  int failures_ = 0;  // consecutive, for the back-off; the loop's thread only
  std::mutex mu_;
  std::condition_variable wake_;
  std::thread thread_;
};

// POST /_matrix/client/v3/login with m.login.password for `user` (a localpart or a full
// user id): on success json has "access_token", "user_id", "device_id". `device_name` is
// shown in the account's sessions list.
ClientResult password_login(const std::string& homeserver_url, const std::string& user,
                            const std::string& password, const std::string& device_name);

}  // namespace scribe::matrix
