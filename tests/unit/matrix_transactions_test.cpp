// Matrix application service, inbound: PUT /_matrix/app/v1/transactions/{txnId} and the
// user/room queries over a real SQLite store: authentication (401/403 with the spec's error
// codes, nothing stored), malformed bodies, commands with origin_server_ts, replays (also
// across reopening the store), the bot's own messages and edits ignored, invites, 📌
// reactions (fetch job or direct record) and mention translation.
#include "adapters/matrix/transactions_endpoint.h"

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "storage/store.h"
#include "support/await_response.h"
#include "test_support.h"

namespace scribe::matrix {
namespace {

using nlohmann::json;
using test::utc;
using ::testing::HasSubstr;

const Timestamp kNow = utc(2026, 11, 20, 14, 30);
const Timestamp kStart = utc(2026, 11, 20, 14, 2, 7, 250);
const Timestamp kLater = utc(2026, 11, 20, 14, 6, 1, 500);
constexpr const char* kHsToken = "hs-token-unit";
constexpr const char* kBot = "@scribe:example.org";
constexpr const char* kRoom = "!incident-room:example.org";

std::int64_t ms(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// An m.room.message event as a homeserver pushes it (client event format).
json text_message(const std::string& event_id, const std::string& sender, const std::string& body,
                  Timestamp at, const std::string& room = kRoom) {
  return {{"type", "m.room.message"},
          {"event_id", event_id},
          {"room_id", room},
          {"sender", sender},
          {"origin_server_ts", ms(at)},
          {"unsigned", {{"age", 1234}}},
          {"content", {{"msgtype", "m.text"}, {"body", body}}}};
}

json reaction(const std::string& event_id, const std::string& sender, const std::string& target,
              const std::string& key, Timestamp at) {
  return {{"type", "m.reaction"},
          {"event_id", event_id},
          {"room_id", kRoom},
          {"sender", sender},
          {"origin_server_ts", ms(at)},
          {"content",
           {{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", target}, {"key", key}}}}}};
}

json invite(const std::string& event_id, const std::string& invitee, const std::string& room) {
  return {{"type", "m.room.member"},
          {"event_id", event_id},
          {"room_id", room},
          {"sender", "@alice:example.org"},
          {"state_key", invitee},
          {"origin_server_ts", ms(kNow)},
          {"content", {{"membership", "invite"}, {"displayname", "Scribe"}}}};
}

struct SentReply {
  ChannelRef channel;
  Reply reply;
  std::string in_reply_to;
};

class MatrixTransactionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_matrix_txn_", dir_));
    open();
  }

  void TearDown() override {
    close();
    test::remove_temp_dir(dir_);
  }

  void open() {
    store_ = open_store((dir_ / "scribe.db").string());
    HandlerOptions options;
    options.platforms = test::platforms();
    handler_ = std::make_unique<CommandHandler>(*store_, date::locate_zone("UTC"), options);
    endpoint_ = std::make_unique<TransactionsEndpoint>(
        kHsToken, kBot, *handler_, [] { return kNow; },
        RoomEvents::Hooks{
            [this](Transaction&, const std::string& room) {
              invites_.push_back(room);
              return false;
            },
            [this](Transaction&, const ChannelRef& c, const Reply& r, const std::string& ev) {
              replies_.push_back(SentReply{c, r, ev});
              return false;
            },
            [this](Transaction&, const std::string& room) {
              encrypted_.push_back(room);
              return false;
            }});
  }

  void close() {
    endpoint_.reset();
    handler_.reset();
    store_.reset();
  }

  HttpResponse call(const HttpRequest& r) {
    return test::await_response([&](Respond respond) { endpoint_->handle(r, std::move(respond)); });
  }

  static HttpRequest request(const std::string& method, const std::string& target,
                             const std::string& body = {}, const std::string& token = kHsToken) {
    HttpRequest r;
    r.method = method;
    r.target = target;
    if (!token.empty()) r.headers.emplace_back("authorization", "Bearer " + token);
    r.headers.emplace_back("content-type", "application/json");
    r.body = body;
    return r;
  }

  HttpResponse put(const std::string& txn, const json& events,
                   const std::string& token = kHsToken) {
    return call(request("PUT", "/_matrix/app/v1/transactions/" + txn,
                        json{{"events", events}}.dump(), token));
  }

  std::optional<Incident> incident() {
    std::optional<Incident> out;
    store_->read([&](Transaction& tx) { out = tx.current_incident(channel_of(kRoom)); });
    return out;
  }

  std::vector<TimelineEvent> timeline() {
    std::vector<TimelineEvent> out;
    store_->read([&](Transaction& tx) {
      if (auto inc = tx.current_incident(channel_of(kRoom))) out = tx.events(inc->id, false);
    });
    return out;
  }

  std::vector<OutboxMessage> outbox() {
    std::vector<OutboxMessage> out;
    store_->read([&](Transaction& tx) {
      for (std::int64_t id = 1;; ++id) {
        auto m = tx.find_outbox(id);
        if (!m) break;
        out.push_back(*m);
      }
    });
    return out;
  }

  static json error_body(const HttpResponse& r) {
    EXPECT_EQ(r.content_type, "application/json");
    return json::parse(r.body, nullptr, false);
  }

  void start_incident() {
    ASSERT_EQ(put("t-start", json::array({text_message("$start", "@alice:example.org",
                                                       "!incident start sev2 DB down", kStart)}))
                  .status,
              200);
    ASSERT_TRUE(incident().has_value());
    replies_.clear();
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CommandHandler> handler_;
  std::unique_ptr<TransactionsEndpoint> endpoint_;
  std::vector<std::string> encrypted_;  // rooms the encrypted-room hook was called for
  std::vector<std::string> invites_;
  std::vector<SentReply> replies_;
};

// ---- authentication ----

TEST_F(MatrixTransactionsTest, BearerTokenAndLegacyQueryParameterAreAccepted) {
  HttpResponse r = put(
      "t1",
      json::array({text_message("$1", "@alice:example.org", "!incident start DB down", kStart)}));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(json::parse(r.body), json::object());
  EXPECT_TRUE(incident().has_value());

  // Legacy: ?access_token=, and the legacy path without /_matrix/app/v1.
  const std::string body =
      json{{"events",
            json::array({text_message("$2", "@alice:example.org", "!timeline deploy", kLater)})}}
          .dump();
  r = call(request("PUT", std::string("/transactions/t2?access_token=") + kHsToken, body, ""));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(timeline().size(), 2u);  // the start and "deploy"
}

TEST_F(MatrixTransactionsTest, MissingTokenIs401WrongTokenIs403AndNothingChanges) {
  const json events =
      json::array({text_message("$1", "@alice:example.org", "!incident start DB down", kStart),
                   invite("$inv", kBot, "!other:example.org")});
  HttpResponse r = put("t1", events, "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_body(r)["errcode"], "M_UNAUTHORIZED");

  r = put("t1", events, "not-the-token");
  EXPECT_EQ(r.status, 403);
  const json body = error_body(r);
  EXPECT_EQ(body["errcode"], "M_FORBIDDEN");
  EXPECT_TRUE(body["error"].is_string());

  r = call(request("PUT", "/_matrix/app/v1/transactions/t1?access_token=wrong",
                   json{{"events", events}}.dump(), ""));
  EXPECT_EQ(r.status, 403);
  // A bearer token that is a prefix of the real one is still wrong.
  r = put("t1", events, std::string(kHsToken).substr(0, 5));
  EXPECT_EQ(r.status, 403);

  EXPECT_FALSE(incident().has_value());
  EXPECT_TRUE(invites_.empty());
  EXPECT_TRUE(replies_.empty());
  EXPECT_TRUE(outbox().empty());

  // Nothing was recorded as seen either: the same txnId with the right token is processed.
  r = put("t1", events);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(incident().has_value());
  EXPECT_EQ(invites_.size(), 1u);
}

TEST_F(MatrixTransactionsTest, MalformedBodiesAre400) {
  const auto refused = [&](const std::string& body, const std::string& errcode) {
    const HttpResponse r = call(request("PUT", "/_matrix/app/v1/transactions/bad", body));
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(error_body(r)["errcode"], errcode) << body;
  };
  refused("", "M_NOT_JSON");
  refused("{\"events\": [", "M_NOT_JSON");
  refused("[]", "M_BAD_JSON");
  refused("{}", "M_BAD_JSON");
  refused(R"({"events": {}})", "M_BAD_JSON");
  // The refused txnId was not recorded: a good body under it is processed.
  const HttpResponse r = put(
      "bad", json::array({text_message("$1", "@alice:example.org", "!incident start x", kStart)}));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(incident().has_value());
}

TEST_F(MatrixTransactionsTest, UnknownPathsAndMethodsAreUnrecognized) {
  HttpResponse r = call(request("GET", "/_matrix/app/v1/transactions/t1"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(error_body(r)["errcode"], "M_UNRECOGNIZED");
  r = call(request("GET", "/_matrix/app/v1/thirdparty/protocol/irc"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_body(r)["errcode"], "M_UNRECOGNIZED");
  r = call(request("POST", "/_matrix/app/v1/ping", R"({"transaction_id":"p1"})"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
}

// ---- commands ----

TEST_F(MatrixTransactionsTest, StartThenBackdatedTimelineUseOriginServerTs) {
  const json events = json::array(
      {text_message("$start", "@alice:example.org", "!incident start sev2 DB down", kStart),
       text_message("$tl", "@bob:example.org", "!timeline 14:05 failover started", kLater)});
  const HttpResponse r = put("txn-1", events);
  ASSERT_EQ(r.status, 200) << r.body;

  const auto inc = incident();
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->title, "DB down");
  EXPECT_EQ(inc->channel, (ChannelRef{"matrix", "example.org", kRoom}));
  EXPECT_EQ(inc->declared_at, kStart);
  EXPECT_EQ(inc->commander, (Person{"@alice:example.org", "alice"}));

  const auto events_now = timeline();
  ASSERT_EQ(events_now.size(), 2u);
  EXPECT_EQ(events_now[1].text, "failover started");
  EXPECT_EQ(events_now[1].occurred_at, utc(2026, 11, 20, 14, 5));
  EXPECT_EQ(events_now[1].recorded_at, kLater);
  EXPECT_EQ(events_now[1].author, (Person{"@bob:example.org", "bob"}));

  ASSERT_EQ(replies_.size(), 2u);
  EXPECT_EQ(replies_[0].channel, (ChannelRef{"matrix", "example.org", kRoom}));
  EXPECT_EQ(replies_[0].in_reply_to, "$start");
  EXPECT_EQ(replies_[1].in_reply_to, "$tl");
  EXPECT_THAT(replies_[0].reply.text, HasSubstr("DB down"));
}

TEST_F(MatrixTransactionsTest, CommandHelpUsesTheBangPrefix) {
  ASSERT_EQ(
      put("t",
          json::array({text_message("$1", "@alice:example.org", "!timeline no incident", kStart)}))
          .status,
      200);
  ASSERT_EQ(replies_.size(), 1u);
  EXPECT_THAT(replies_[0].reply.text, HasSubstr("!incident start"));
  EXPECT_EQ(replies_[0].reply.visibility, Reply::Visibility::kEphemeral);
}

TEST_F(MatrixTransactionsTest, OtherMessagesAreNotCommands) {
  const json events =
      json::array({text_message("$1", "@alice:example.org", "hello !incident start nope", kStart),
                   text_message("$2", "@alice:example.org", "!incidents start nope", kStart),
                   text_message("$3", "@alice:example.org", "!ban @spam:example.org", kStart)});
  json notice = text_message("$4", "@otherbot:example.org", "!incident start bot loop", kStart);
  notice["content"]["msgtype"] = "m.notice";
  json image = text_message("$5", "@alice:example.org", "!incident start picture", kStart);
  image["content"]["msgtype"] = "m.image";
  json all = events;
  all.push_back(notice);
  all.push_back(image);
  all.push_back({{"type", "m.room.topic"}, {"event_id", "$6"}, {"sender", "@a:b"}, {"content", 1}});
  all.push_back("not an event");
  EXPECT_EQ(put("t", all).status, 200);
  EXPECT_FALSE(incident().has_value());
  EXPECT_TRUE(replies_.empty());
}

TEST_F(MatrixTransactionsTest, TheBotsOwnMessagesAreIgnored) {
  EXPECT_EQ(
      put("t", json::array({text_message("$1", kBot, "!incident start echo", kStart)})).status,
      200);
  EXPECT_FALSE(incident().has_value());
  EXPECT_TRUE(replies_.empty());
}

TEST_F(MatrixTransactionsTest, EditsAreIgnored) {
  ASSERT_NO_FATAL_FAILURE(start_incident());
  json edit = text_message("$edit", "@alice:example.org", "* !timeline failover done", kLater);
  edit["content"]["m.new_content"] = {{"msgtype", "m.text"}, {"body", "!timeline failover done"}};
  edit["content"]["m.relates_to"] = {{"rel_type", "m.replace"}, {"event_id", "$orig"}};
  // Even a client that does not put "* " in front of an edit's body.
  json edit2 = edit;
  edit2["event_id"] = "$edit2";
  edit2["content"]["body"] = "!timeline failover done";
  EXPECT_EQ(put("t-edit", json::array({edit, edit2})).status, 200);
  EXPECT_EQ(timeline().size(), 1u);
  EXPECT_TRUE(replies_.empty());
}

TEST_F(MatrixTransactionsTest, ARichReplyIsACommandWithoutItsFallback) {
  ASSERT_NO_FATAL_FAILURE(start_incident());
  json reply = text_message(
      "$r", "@bob:example.org",
      "> <@alice:example.org> the db is slow\n> second line\n\n!timeline #detected slow queries",
      kLater);
  reply["content"]["m.relates_to"] = {{"m.in_reply_to", {{"event_id", "$x"}}}};
  EXPECT_EQ(put("t-r", json::array({reply})).status, 200);
  const auto events = timeline();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].text, "slow queries");
  EXPECT_EQ(events[1].kind, EventKind::kDetected);
}

// ---- replays ----

TEST_F(MatrixTransactionsTest, AReplayedTransactionIsProcessedOnceAlsoAfterARestart) {
  ASSERT_NO_FATAL_FAILURE(start_incident());
  const json events =
      json::array({text_message("$a", "@bob:example.org", "!timeline failover", kLater),
                   invite("$inv", kBot, "!other:example.org")});
  EXPECT_EQ(put("txn-9", events).status, 200);
  EXPECT_EQ(put("txn-9", events).status, 200);
  EXPECT_EQ(timeline().size(), 2u);
  EXPECT_EQ(replies_.size(), 1u);
  EXPECT_EQ(invites_.size(), 1u);

  close();
  open();
  const HttpResponse r = put("txn-9", events);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(timeline().size(), 2u);
  EXPECT_EQ(replies_.size(), 1u);
  EXPECT_EQ(invites_.size(), 1u);

  // A retry after a crash in the middle comes with the same txnId, but the txnId was not
  // recorded yet: events already handled (their ids recorded) are skipped, the rest run.
  store_->write([](Transaction& tx) { tx.first_delivery("matrix-event", "$b", kNow); });
  const json partly =
      json::array({text_message("$b", "@bob:example.org", "!timeline handled before", kLater),
                   text_message("$c", "@bob:example.org", "!timeline not yet", kLater)});
  EXPECT_EQ(put("txn-10", partly).status, 200);
  const auto now = timeline();
  ASSERT_EQ(now.size(), 3u);
  EXPECT_EQ(now[2].text, "not yet");
}

// ---- invites ----

TEST_F(MatrixTransactionsTest, AnInviteOfTheBotCallsTheInviteHandler) {
  json joined = invite("$j", kBot, "!x:example.org");
  joined["content"]["membership"] = "join";
  const json events = json::array({invite("$1", kBot, "!ops:example.org"),
                                   invite("$2", "@carol:example.org", "!ops:example.org"), joined});
  EXPECT_EQ(put("t", events).status, 200);
  EXPECT_EQ(invites_, std::vector<std::string>{"!ops:example.org"});
}

// A room Scribe cannot read says so: the room's encryption event, an encrypted message, and an
// invite whose stripped state shows encryption (after the invite's own handler, so the join is
// queued before the notice). Encrypted messages are not recorded as deliveries.
TEST_F(MatrixTransactionsTest, EncryptedRoomsCallTheEncryptedRoomHandler) {
  json encryption = {{"type", "m.room.encryption"},
                     {"room_id", "!sealed:example.org"},
                     {"sender", "@alice:example.org"},
                     {"state_key", ""},
                     {"event_id", "$enc"},
                     {"content", {{"algorithm", "m.megolm.v1.aes-sha2"}}}};
  json encrypted = {{"type", "m.room.encrypted"},
                    {"room_id", "!other:example.org"},
                    {"sender", "@bob:example.org"},
                    {"event_id", "$cipher"},
                    {"content", {{"algorithm", "m.megolm.v1.aes-sha2"}, {"ciphertext", "x"}}}};
  json invited = invite("$inv", kBot, "!new:example.org");
  invited["unsigned"]["invite_room_state"] =
      json::array({{{"type", "m.room.encryption"},
                    {"state_key", ""},
                    {"sender", "@alice:example.org"},
                    {"content", {{"algorithm", "m.megolm.v1.aes-sha2"}}}}});
  json plain_invite = invite("$inv2", kBot, "!plain:example.org");
  ASSERT_EQ(put("t", json::array({encryption, encrypted, invited, plain_invite})).status, 200);
  EXPECT_EQ(encrypted_, (std::vector<std::string>{"!sealed:example.org", "!other:example.org",
                                                  "!new:example.org"}));
  EXPECT_EQ(invites_, (std::vector<std::string>{"!new:example.org", "!plain:example.org"}));
}

TEST_F(MatrixTransactionsTest, TheEncryptedRoomNoticeSaysWhatToDoInstead) {
  const Reply notice = encrypted_room_notice(kBot);
  EXPECT_EQ(notice.visibility, Reply::Visibility::kEphemeral);
  EXPECT_THAT(notice.text, ::testing::HasSubstr("end-to-end encrypted"));
  ASSERT_FALSE(notice.details.empty());
  EXPECT_THAT(notice.details[0], ::testing::HasSubstr("without encryption"));
  EXPECT_THAT(notice.details[0], ::testing::HasSubstr(kBot));
}

// ---- 📌 reactions ----

TEST_F(MatrixTransactionsTest, APinReactionQueuesAFetchJob) {
  ASSERT_NO_FATAL_FAILURE(start_incident());
  const json events = json::array(
      {reaction("$re", "@bob:example.org", "$msg", "\xF0\x9F\x93\x8C", kLater),
       reaction("$other", "@bob:example.org", "$msg2", "\xF0\x9F\x91\x8D", kLater)});  // 👍
  ASSERT_EQ(put("t", events).status, 200);

  const auto queued = outbox();
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].channel, (ChannelRef{"matrix", "example.org", kRoom}));
  EXPECT_EQ(queued[0].kind, JobKind::kFetch);
  const json job = json::parse(queued[0].content);
  EXPECT_EQ(job, (json{{"room_id", kRoom},
                       {"event_id", "$msg"},
                       {"marked_by", "@bob:example.org"},
                       {"received_at", ms(kLater)}}));
  const auto parsed = parse_fetch_job(queued[0].content);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->event_id, "$msg");
  EXPECT_EQ(parsed->received_at, kLater);
  std::optional<OutboxMessage> by_key;
  store_->read([&](Transaction& tx) {
    by_key = tx.find_outbox_by_key("fetch:matrix/example.org/" + std::string(kRoom) + "/$msg");
  });
  EXPECT_TRUE(by_key.has_value());
  EXPECT_EQ(timeline().size(), 1u);  // recorded only when fetched

  EXPECT_FALSE(parse_fetch_job("{}").has_value());
  EXPECT_FALSE(parse_fetch_job("nope").has_value());
}

TEST_F(MatrixTransactionsTest, APinReactionOnAMessageOfTheSameTransactionIsRecordedAtOnce) {
  ASSERT_NO_FATAL_FAILURE(start_incident());
  const json events = json::array(
      {text_message("$msg", "@carol:example.org", "replica lag is 40s", kLater),
       reaction("$re", "@bob:example.org", "$msg", "\xF0\x9F\x93\x8C\xEF\xB8\x8F", kNow)});
  ASSERT_EQ(put("t", events).status, 200);
  EXPECT_TRUE(outbox().empty());
  const auto now = timeline();
  ASSERT_EQ(now.size(), 2u);
  EXPECT_EQ(now[1].text, "replica lag is 40s");
  EXPECT_EQ(now[1].occurred_at, kLater);
  EXPECT_EQ(now[1].author, (Person{"@carol:example.org", "carol"}));
}

// ---- mentions ----

TEST_F(MatrixTransactionsTest, PillsAndBareUserIdsBecomeMentions) {
  ASSERT_NO_FATAL_FAILURE(start_incident());
  json pill = text_message("$p", "@alice:example.org", "!incident commander Bob Smith", kLater);
  pill["content"]["format"] = "org.matrix.custom.html";
  pill["content"]["formatted_body"] =
      R"(!incident commander <a href="https://matrix.to/#/%40bob%3Aexample.org">Bob Smith</a>)";
  ASSERT_EQ(put("t1", json::array({pill})).status, 200);
  auto inc = incident();
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->commander, (Person{"@bob:example.org", "bob"}));

  ASSERT_EQ(put("t2", json::array({text_message("$b", "@bob:example.org",
                                                "!action Add replica alert @carol:example.org "
                                                "due +3d #detect",
                                                kLater)}))
                .status,
            200);
  std::vector<ActionItem> items;
  store_->read([&](Transaction& tx) { items = tx.actions(inc->id); });
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].owner, (Person{"@carol:example.org", "carol"}));
}

TEST(MatrixMessageText, TranslatesPillsAndIds) {
  std::vector<Person> mentions;
  json content = {
      {"msgtype", "m.text"},
      {"body", "!timeline alice and @dave:example.org:8448 paged carol."},
      {"format", "org.matrix.custom.html"},
      {"formatted_body",
       "<mx-reply><blockquote><a href=\"https://matrix.to/#/@zed:example.org\">zed</a>"
       "</blockquote></mx-reply>!timeline <a href='https://matrix.to/#/@alice:example.org'>"
       "alice</a> and @dave:example.org:8448 paged <a "
       "href=\"https://matrix.to/#/@carol:example.org?via=example.org\">carol</a>. <a "
       "href=\"https://matrix.to/#/!room:example.org\">room</a>"}};
  EXPECT_EQ(message_text(content, mentions), "!timeline @alice and @dave paged @carol.");
  ASSERT_EQ(mentions.size(), 3u);
  EXPECT_EQ(mentions[0], (Person{"@alice:example.org", "alice"}));
  EXPECT_EQ(mentions[1], (Person{"@carol:example.org", "carol"}));
  EXPECT_EQ(mentions[2], (Person{"@dave:example.org:8448", "dave"}));

  mentions.clear();
  content = {{"body", "mail bob@example.org:25, ping @eve:example.org. 14:05 @ noon"}};
  EXPECT_EQ(message_text(content, mentions), "mail bob@example.org:25, ping @eve. 14:05 @ noon");
  ASSERT_EQ(mentions.size(), 1u);
  EXPECT_EQ(mentions[0], (Person{"@eve:example.org", "eve"}));
}

// Found by fuzz/matrix_message_fuzzer.cpp: a pill's link decoded "&#xD800;" (or "%FF",
// "%00") into a user id that was not UTF-8, which then went into the text, the store and
// the reply's m.mentions, where JSON refuses it. Such links name no one; character
// references that are no characters read as U+FFFD, as in HTML.
TEST(MatrixMessageText, LinksToIdsThatAreNotTextNameNoOne) {
  for (const char* href :
       {"https://matrix.to/#/@bo&#xD800;b:example.org", "https://matrix.to/#/@bo&#0;b:example.org",
        "https://matrix.to/#/@bo&#x110000;b:example.org",
        "https://matrix.to/#/@bo&#99999999;b:example.org",
        "https://matrix.to/#/@bo%FFb:example.org", "https://matrix.to/#/@bo%00b:example.org"}) {
    SCOPED_TRACE(href);
    std::vector<Person> mentions;
    const json content = {{"msgtype", "m.text"},
                          {"body", "!action fix alerts bob due +3d"},
                          {"format", "org.matrix.custom.html"},
                          {"formatted_body", std::string("!action fix alerts <a href=\"") + href +
                                                 "\">bob</a> due +3d"}};
    EXPECT_EQ(message_text(content, mentions), "!action fix alerts bob due +3d");
    EXPECT_TRUE(mentions.empty());
  }
  std::vector<Person> mentions;
  const json escaped = {
      {"body", "ping bob"},
      {"format", "org.matrix.custom.html"},
      {"formatted_body", "ping <a href=\"https://matrix.to/#/&#x40;bob:example.org\">bob</a>"}};
  EXPECT_EQ(message_text(escaped, mentions), "ping @bob");
  ASSERT_EQ(mentions.size(), 1u);
  EXPECT_EQ(mentions[0].id, "@bob:example.org");
}

// Found by fuzz/matrix_transactions_fuzzer.cpp: a command event without a room_id ran in a
// channel with no id, declaring an incident nobody can reach and queueing a reply to nowhere.
TEST_F(MatrixTransactionsTest, ACommandWithoutARoomChangesNothing) {
  json event =
      text_message("$noroom", "@alice:example.org", "!incident start sev2 DB down", kStart);
  event.erase("room_id");
  ASSERT_EQ(put("t-noroom", json::array({event})).status, 200);
  std::vector<Incident> incidents;
  store_->read([&](Transaction& tx) { incidents = tx.list_incidents(10); });
  EXPECT_TRUE(incidents.empty());
  EXPECT_TRUE(replies_.empty());
  EXPECT_TRUE(outbox().empty());
}

// Found by fuzzing the Matrix transactions endpoint with extreme origin_server_ts values:
// INT64_MAX as a command's time overflowed the reading of "14:05" and "-15m" (UBSan) and
// was stored as the time the command came in. A time no calendar shows is not used; the
// command counts as received when it arrived.
TEST_F(MatrixTransactionsTest, AnOriginServerTsOutsideTheCalendarIsNotUsed) {
  ASSERT_NO_FATAL_FAILURE(start_incident());
  const json stamps = json::array({std::numeric_limits<std::int64_t>::max(),
                                   std::numeric_limits<std::int64_t>::min(),
                                   std::numeric_limits<std::uint64_t>::max(), 253402300800000});
  for (std::size_t i = 0; i < stamps.size(); ++i) {
    SCOPED_TRACE(stamps[i].dump());
    json clock = text_message("$c" + std::to_string(i), "@bob:example.org",
                              "!timeline 14:05 failover " + std::to_string(i), kNow);
    json relative = text_message("$r" + std::to_string(i), "@bob:example.org",
                                 "!timeline -15m paged " + std::to_string(i), kNow);
    clock["origin_server_ts"] = stamps[i];
    relative["origin_server_ts"] = stamps[i];
    ASSERT_EQ(put("t-ts" + std::to_string(i), json::array({clock, relative})).status, 200);
    const auto events = timeline();
    ASSERT_GE(events.size(), 2u);
    const auto at = [&](const std::string& text) {
      const auto it = std::find_if(events.begin(), events.end(),
                                   [&](const TimelineEvent& e) { return e.text == text; });
      return it == events.end() ? std::optional<TimelineEvent>{} : *it;
    };
    const auto c = at("failover " + std::to_string(i));
    const auto r = at("paged " + std::to_string(i));
    ASSERT_TRUE(c && r);
    EXPECT_EQ(c->occurred_at, utc(2026, 11, 20, 14, 5));
    EXPECT_EQ(c->recorded_at, kNow);
    EXPECT_EQ(r->occurred_at, kNow - std::chrono::minutes{15});
    EXPECT_EQ(r->recorded_at, kNow);
  }
}

TEST(MatrixIds, LocalpartsAndServerNames) {
  EXPECT_EQ(localpart_of("@alice:example.org"), "alice");
  EXPECT_EQ(server_name_of("!room:example.org:8448"), "example.org:8448");
  EXPECT_EQ(server_name_of("!opaqueroomid"), "");
  EXPECT_EQ(channel_of("!r:ex.org"), (ChannelRef{"matrix", "ex.org", "!r:ex.org"}));
}

// ---- user and room queries ----

TEST_F(MatrixTransactionsTest, UserAndRoomQueries) {
  HttpResponse r = call(request("GET", "/_matrix/app/v1/users/%40scribe%3Aexample.org"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  r = call(request("GET", "/_matrix/app/v1/users/@scribe:example.org"));
  EXPECT_EQ(r.status, 200);
  r = call(request("GET", "/users/%40scribe%3Aexample.org"));  // legacy
  EXPECT_EQ(r.status, 200);

  r = call(request("GET", "/_matrix/app/v1/users/%40someone%3Aexample.org"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_body(r)["errcode"], "M_NOT_FOUND");
  r = call(request("GET", "/_matrix/app/v1/rooms/%23incidents%3Aexample.org"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_body(r)["errcode"], "M_NOT_FOUND");

  r = call(request("GET", "/_matrix/app/v1/users/%40scribe%3Aexample.org", "", ""));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_body(r)["errcode"], "M_UNAUTHORIZED");
  r = call(request("GET", "/_matrix/app/v1/rooms/%23a%3Ab", "", "wrong"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_body(r)["errcode"], "M_FORBIDDEN");
}

// The specification's own example transaction (PUT /_matrix/app/v1/transactions/{txnId}:
// a membership state event and an m.text message, with the ephemeral receipt and presence
// that Matrix 1.13 added), rebuilt here field by field. Scribe must take it as it is and
// answer exactly the example response, {}; the same shape carrying a command declares an
// incident at the event's origin_server_ts.
json spec_example_transaction(const std::string& body,
                              const std::string& event_id = "$143273582443PhrSn:example.org") {
  const json room_event = {{"event_id", "$143273582443PhrSn:example.org"},
                           {"room_id", "!jEsUZKDJdhlrceRyVU:example.org"},
                           {"sender", "@example:example.org"},
                           {"origin_server_ts", 1432735824653},
                           {"unsigned", {{"age", 1234}, {"membership", "join"}}}};
  json member = room_event;
  member["event_id"] = "$143273582443PhrSm:example.org";
  member["type"] = "m.room.member";
  member["state_key"] = "@alice:example.org";
  member["content"] = {{"avatar_url", "mxc://example.org/SEsfnsuifSDFSSEF"},
                       {"displayname", "Alice Margatroid"},
                       {"membership", "join"},
                       {"reason", "Looking for support"}};
  json message = room_event;
  message["event_id"] = event_id;
  message["type"] = "m.room.message";
  message["content"] = {{"body", body},
                        {"format", "org.matrix.custom.html"},
                        {"formatted_body", "<b>" + body + "</b>"},
                        {"msgtype", "m.text"}};
  return {{"ephemeral",
           {{{"type", "m.receipt"},
             {"room_id", "!jEsUZKDJdhlrceRyVU:example.org"},
             {"content", json::object()}},
            {{"type", "m.presence"},
             {"sender", "@example:localhost"},
             {"content", {{"presence", "online"}}}}}},
          {"events", {member, message}}};
}

TEST_F(MatrixTransactionsTest, TheSpecsExampleTransactionGetsTheSpecsExampleResponse) {
  HttpResponse r =
      call(request("PUT", "/_matrix/app/v1/transactions/35",
                   spec_example_transaction("This is an example text message").dump()));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json::object());
  const ChannelRef room = channel_of("!jEsUZKDJdhlrceRyVU:example.org");
  std::optional<Incident> none;
  store_->read([&](Transaction& tx) { none = tx.current_incident(room); });
  EXPECT_FALSE(none.has_value()) << "an ordinary message is not a command";

  r = call(request(
      "PUT", "/_matrix/app/v1/transactions/36",
      spec_example_transaction("!incident start From the example", "$143273582443PhrSo:example.org")
          .dump()));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json::object());
  std::optional<Incident> declared;
  store_->read([&](Transaction& tx) { declared = tx.current_incident(room); });
  ASSERT_TRUE(declared.has_value());
  EXPECT_EQ(declared->title, "From the example");
  EXPECT_EQ(declared->declared_at, Timestamp{std::chrono::milliseconds(1432735824653)});
}

}  // namespace
}  // namespace scribe::matrix
