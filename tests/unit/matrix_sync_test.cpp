// The sync loop's pure parts: what a /sync response becomes for RoomEvents, and the filter;
// and the loop against the stand-in homeserver when its write fails with a programming
// error. The rest of the loop runs in tests/e2e/matrix_e2e_test.cpp.
#include "adapters/matrix/sync.h"

#include <date/tz.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "adapters/matrix/room_events.h"
#include "commands/handler.h"
#include "storage/store.h"
#include "support/matrix_standin.h"
#include "test_support.h"

namespace scribe::matrix {
namespace {

using nlohmann::json;

constexpr const char* kBot = "@scribe:example.org";

TEST(MatrixSyncTest, EventsOfAResponseCarryTheirRoomAndInvitesTheirStrippedState) {
  const json response = json::parse(R"({
    "next_batch": "s9",
    "rooms": {
      "join": {
        "!a:example.org": {
          "state": {"events": [
            {"type": "m.room.encryption", "state_key": "", "sender": "@x:example.org",
             "content": {"algorithm": "m.megolm.v1.aes-sha2"}},
            {"type": "m.room.name", "state_key": "", "sender": "@x:example.org",
             "content": {"name": "ignored"}}]},
          "timeline": {"events": [
            {"type": "m.room.message", "event_id": "$1", "sender": "@x:example.org",
             "origin_server_ts": 1, "content": {"msgtype": "m.text", "body": "!timeline x"}}],
            "limited": false}
        }
      },
      "invite": {
        "!b:example.org": {"invite_state": {"events": [
          {"type": "m.room.encryption", "state_key": "", "sender": "@y:example.org",
           "content": {"algorithm": "m.megolm.v1.aes-sha2"}},
          {"type": "m.room.member", "state_key": "@someone:example.org", "sender": "@y:example.org",
           "content": {"membership": "invite"}},
          {"type": "m.room.member", "state_key": "@scribe:example.org", "sender": "@y:example.org",
           "content": {"membership": "invite"}}]}}
      }
    }
  })");
  const json events = SyncLoop::events_of(response, kBot, /*timeline=*/true);
  ASSERT_EQ(events.size(), 3u) << events.dump(2);
  EXPECT_EQ(events[0]["type"], "m.room.encryption");
  EXPECT_EQ(events[0]["room_id"], "!a:example.org");
  EXPECT_EQ(events[1]["event_id"], "$1");
  EXPECT_EQ(events[1]["room_id"], "!a:example.org");
  EXPECT_EQ(events[2]["type"], "m.room.member");
  EXPECT_EQ(events[2]["room_id"], "!b:example.org");
  EXPECT_EQ(events[2]["state_key"], kBot);
  EXPECT_EQ(events[2]["unsigned"]["invite_room_state"].size(), 3u);

  // The first start: state and invites, never the timeline.
  const json first = SyncLoop::events_of(response, kBot, /*timeline=*/false);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0]["type"], "m.room.encryption");
  EXPECT_EQ(first[1]["type"], "m.room.member");

  EXPECT_TRUE(SyncLoop::events_of(json::object(), kBot, true).empty());
  EXPECT_TRUE(SyncLoop::events_of(json::parse(R"({"rooms": {"join": 3}})"), kBot, true).empty());
}

TEST(MatrixSyncTest, TheFilterAsksOnlyForWhatScribeReads) {
  const json f = SyncLoop::filter(100);
  EXPECT_EQ(f["room"]["timeline"]["limit"], 100);
  EXPECT_THAT(f["room"]["timeline"]["types"],
              ::testing::UnorderedElementsAre("m.room.message", "m.reaction", "m.room.member",
                                              "m.room.encryption", "m.room.encrypted"));
  EXPECT_EQ(f["room"]["state"]["types"], json::array({"m.room.encryption"}));
  for (const char* none : {"presence", "account_data"}) {
    EXPECT_EQ(f[none]["not_types"], json::array({"*"})) << none;
  }
  EXPECT_EQ(f["room"]["ephemeral"]["not_types"], json::array({"*"}));
  EXPECT_EQ(SyncLoop::filter(0)["room"]["timeline"]["limit"], 0);
  EXPECT_EQ(SyncLoop::stream_name(kBot), "matrix-sync:@scribe:example.org");
}

// A write that throws something other than a StoreError (a bug, say in a hook) is logged by
// the handler, which drops the completion uncalled. The loop waited for that completion for
// ever, and Matrix intake stopped in silence; now it counts as a failed write: the response
// is read again after the back-off, and the loop stops when asked.
TEST(MatrixSyncLoopTest, AWriteThatThrowsABugIsRetriedInsteadOfStoppingTheLoop) {
  using namespace std::chrono_literals;
  scribe::testing::MatrixStandIn hs("bot-token");
  std::filesystem::path dir;
  ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_sync_loop_", dir));
  {
    std::unique_ptr<Store> store = open_store((dir / "scribe.db").string());
    HandlerOptions handler_options;
    handler_options.platforms = test::platforms();
    CommandHandler handler(*store, date::locate_zone("UTC"), handler_options);
    std::mutex mu;
    std::condition_variable tried;
    int invites = 0;  // guarded by mu
    RoomEvents::Hooks hooks;
    hooks.on_invite = [&](Transaction&, const std::string&) -> bool {
      {
        std::lock_guard lock(mu);
        ++invites;
      }
      tried.notify_all();
      throw std::logic_error("a bug in the invite hook");
    };
    RoomEvents events(hs.bot_user_id(), handler, hooks, hs.base_url());
    SyncLoop::Options options;
    options.api.homeserver_url = hs.base_url();
    options.api.as_token = "bot-token";
    options.api.timeout = 5s;
    options.user_id = hs.bot_user_id();
    options.poll_timeout = 1s;
    options.backoff_first = 10ms;
    options.backoff_max = 50ms;
    SyncLoop loop(options, events, handler, *store, [] {
      return std::chrono::time_point_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now());
    });
    loop.start();
    const auto stored = [&] {
      std::optional<std::string> position;
      store->read([&](Transaction& tx) {
        position = tx.stream_position(SyncLoop::stream_name(hs.bot_user_id()));
      });
      return position;
    };
    // A plain message moves the stream; the bot asking from there means the first start and
    // that message are stored.
    hs.join_bot("!r0:standin.test");
    hs.add_message("!r0:standin.test", "@alice:standin.test", "hello");
    ASSERT_TRUE(hs.wait_for_sync_since(hs.stream_position()));
    const std::optional<std::string> before = stored();
    ASSERT_TRUE(before.has_value());

    hs.invite_bot("!r:standin.test", "@alice:standin.test");
    {
      std::unique_lock lock(mu);
      tried.wait_for(lock, 20s, [&] { return invites >= 3; });
    }
    // Each try ran the hook again: the loop came back after every failed write.
    {
      std::lock_guard lock(mu);
      EXPECT_GE(invites, 3);
    }
    loop.stop();
    // Nothing of the failing response was kept: the stored position is still before it.
    EXPECT_EQ(stored(), before);
  }
  test::remove_temp_dir(dir);
}

}  // namespace
}  // namespace scribe::matrix
