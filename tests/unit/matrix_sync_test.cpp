// The sync loop's pure parts: what a /sync response becomes for RoomEvents, and the filter.
// The loop itself runs against the stand-in homeserver in tests/e2e/matrix_e2e_test.cpp.
#include "adapters/matrix/sync.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace scribe::matrix
