// Matrix in end-to-end tests, in either of Scribe's Matrix modes: as an application service
// (the stand-in homeserver pushes transactions to the real `scribe serve`) or as a bot
// account (the real `scribe serve` long-polls the stand-in's /sync). MatrixOn<Fixture>
// starts any fixture derived from ScribeE2E with Matrix in a mode and delivers events as
// the homeserver does in that mode, so one test body runs in both (a TEST_P over
// MatrixMode); the stand-in records what Scribe sends back through the client-server API.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fixture.h"
#include "support/matrix_standin.h"

namespace scribe::testing {

enum class MatrixMode { kAppService, kBotAccount };

inline std::string matrix_mode_name(const ::testing::TestParamInfo<MatrixMode>& info) {
  return info.param == MatrixMode::kAppService ? "AppService" : "BotAccount";
}

inline void PrintTo(MatrixMode mode, std::ostream* os) {
  *os << (mode == MatrixMode::kAppService ? "AppService" : "BotAccount");
}

inline const auto kBothMatrixModes =
    ::testing::Values(MatrixMode::kAppService, MatrixMode::kBotAccount);

// What the homeserver and an application service share to authenticate its pushes.
inline constexpr const char* kMatrixHsToken = "hs-token-e2e-7d1f";
inline constexpr const char* kMatrixBot = "@scribe:standin.test";

// A message typed in a room before Scribe first started (a bot account must not run it).
struct MatrixHistory {
  std::string room, sender, body;
};

template <typename Fixture>
class MatrixOn : public Fixture {
  static_assert(std::is_base_of_v<ScribeE2E, Fixture>);

 protected:
  // Starts Scribe in Matrix as `mode`, through Fixture::SetUp. A bot account has joined
  // `rooms` already (the first is room_, where message() types), and `history` was typed
  // there before; returns once its first /sync has learnt the current position.
  void configure(MatrixMode mode, std::vector<std::string> rooms,
                 const std::vector<MatrixHistory>& history = {}) {
    mode_ = mode;
    if (!rooms.empty()) room_ = rooms.front();
    this->env_["SCRIBE_MATRIX_HOMESERVER_URL"] = homeserver_.base_url();
    this->env_["SCRIBE_MATRIX_USER_ID"] = kMatrixBot;
    if (mode == MatrixMode::kAppService) {
      this->env_["SCRIBE_MATRIX_AS_TOKEN"] = homeserver_.as_token();
      this->env_["SCRIBE_MATRIX_HS_TOKEN"] = kMatrixHsToken;
    } else {
      this->env_["SCRIBE_MATRIX_ACCESS_TOKEN"] = homeserver_.as_token();
      for (const auto& room : rooms) homeserver_.join_bot(room);
      for (const auto& h : history) homeserver_.add_message(h.room, h.sender, h.body);
    }
    Fixture::SetUp();
    if (mode == MatrixMode::kBotAccount) {
      // The first sync has learnt the current position: what follows is new.
      ASSERT_TRUE(homeserver_.wait_for_sync_since(homeserver_.stream_position()))
          << this->scribe_->logs();
    }
  }

  bool bot_account() const { return mode_ == MatrixMode::kBotAccount; }

  // Delivers `events` as the homeserver does in this mode, and returns once Scribe has
  // stored their effects: the AS transaction `txn`'s 200, or a /sync asked from a position
  // past them (Scribe stores a position only with the effects of what came before it).
  void deliver(const std::string& txn, const nlohmann::json& events) {
    if (mode_ == MatrixMode::kAppService) {
      const auto r = push(txn, events);
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(r.json, nlohmann::json::object());
      return;
    }
    for (nlohmann::json event : events) {
      const std::string room = event["room_id"];
      homeserver_.add_room_event(room, std::move(event));
    }
    ASSERT_TRUE(homeserver_.wait_for_sync_since(homeserver_.stream_position()))
        << this->scribe_->logs();
  }

  // `@alice` invites the bot to `room`, optionally an end-to-end encrypted one.
  void invite_bot(const std::string& room, bool encrypted) {
    if (mode_ == MatrixMode::kBotAccount) {
      homeserver_.invite_bot(room, "@alice:standin.test", encrypted);
      ASSERT_TRUE(homeserver_.wait_for_sync_since(homeserver_.stream_position()))
          << this->scribe_->logs();
      return;
    }
    nlohmann::json invite = {{"type", "m.room.member"},
                             {"room_id", room},
                             {"sender", "@alice:standin.test"},
                             {"state_key", kMatrixBot},
                             {"event_id", "$invite" + std::to_string(++event_counter_)},
                             {"origin_server_ts", now_ms()},
                             {"content", {{"membership", "invite"}}}};
    if (encrypted) {
      invite["unsigned"]["invite_room_state"] =
          nlohmann::json::array({{{"type", "m.room.encryption"},
                                  {"state_key", ""},
                                  {"sender", "@alice:standin.test"},
                                  {"content", {{"algorithm", "m.megolm.v1.aes-sha2"}}}}});
    }
    const auto r =
        push("txn-invite-" + std::to_string(event_counter_), nlohmann::json::array({invite}));
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // A message (`!command` or not) typed by `user` (a localpart) at `ts_ms` in `room`
  // (default: room_).
  nlohmann::json message(const std::string& user, const std::string& body, std::int64_t ts_ms,
                         const std::string& room = "") {
    return {{"type", "m.room.message"},
            {"room_id", room.empty() ? room_ : room},
            {"sender", "@" + user + ":standin.test"},
            {"event_id", "$e" + std::to_string(++event_counter_)},
            {"origin_server_ts", ts_ms},
            {"content", {{"msgtype", "m.text"}, {"body", body}}}};
  }

  // `user` types `body` in room_ now; returns once its effects are stored.
  void say(const std::string& user, const std::string& body) {
    ASSERT_NO_FATAL_FAILURE(deliver("txn-say-" + std::to_string(event_counter_ + 1),
                                    nlohmann::json::array({message(user, body, now_ms())})));
  }

  PushResult push(const std::string& txn, const nlohmann::json& events,
                  const std::string& token = kMatrixHsToken) {
    return homeserver_.push_transaction(this->scribe_->base_url(), token, txn, events);
  }

  static std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // How many timeline events of incident `id` have this text.
  int events_with_text(int id, const std::string& text) {
    const nlohmann::json incident = this->api_json("/api/incidents/" + std::to_string(id));
    int n = 0;
    for (const auto& e : incident["timeline"]) n += e["text"] == text ? 1 : 0;
    return n;
  }

  MatrixStandIn homeserver_;
  MatrixMode mode_ = MatrixMode::kAppService;
  std::string room_;
  int event_counter_ = 0;
};

}  // namespace scribe::testing
