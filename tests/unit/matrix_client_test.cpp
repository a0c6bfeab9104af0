#include "adapters/matrix/client.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "commands/outgoing.h"
#include "postmortem/draft.h"
#include "postmortem/markdown.h"
#include "support/hostile_texts.h"
#include "support/matrix_standin.h"
#include "support/visible_text.h"
#include "util/text.h"

namespace scribe::matrix {
namespace {

using nlohmann::json;
using Outcome = DeliveryResult::Outcome;
using scribe::testing::MatrixCall;
using scribe::testing::MatrixStandIn;
using namespace std::chrono_literals;

constexpr const char* kBot = "@scribe:standin.test";
constexpr const char* kRoom = "!incident:standin.test";

ClientApi::Options options_for(const MatrixStandIn& hs, std::string token = "") {
  ClientApi::Options options;
  options.homeserver_url = hs.base_url();
  options.as_token = token.empty() ? hs.as_token() : std::move(token);
  options.user_id = kBot;
  options.timeout = 2s;
  return options;
}

// As CommandHandler::post enqueues it.
OutboxMessage outbox(const OutgoingMessage& message, std::int64_t id = 7) {
  OutboxMessage m;
  m.id = id;
  m.channel = ChannelRef{"matrix", "standin.test", kRoom};
  m.kind = message.replaces ? JobKind::kUpdate : JobKind::kPost;
  m.content = to_json(message);
  return m;
}

OutgoingMessage text_message(std::string text) {
  OutgoingMessage m;
  m.body.text = std::move(text);
  return m;
}

// The content of the one message the stand-in accepted.
json sent_content(const MatrixStandIn& hs) {
  const auto sent = hs.sent_messages(kRoom);
  EXPECT_EQ(sent.size(), 1u);
  return sent.empty() ? json() : sent.front().content;
}

// ---- ClientApi ----

TEST(MatrixClient, SendUsesPutWithBearerTokenUserIdAndEscapedPath) {
  MatrixStandIn hs;
  ClientApi api(options_for(hs));
  const ClientResult result =
      api.send_message(kRoom, "scribe-1", {{"msgtype", "m.text"}, {"body", "hi"}});
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.http_status, 200);
  EXPECT_EQ(result.json["event_id"], "$1");

  const auto calls = hs.calls_to("/send/");
  ASSERT_EQ(calls.size(), 1u);
  const MatrixCall& call = calls.front();
  EXPECT_EQ(call.http_method, "PUT");
  EXPECT_EQ(call.raw_path,
            "/_matrix/client/v3/rooms/%21incident%3Astandin.test/send/m.room.message/scribe-1");
  EXPECT_EQ(call.path,
            "/_matrix/client/v3/rooms/!incident:standin.test/send/m.room.message/scribe-1");
  EXPECT_EQ(call.header("authorization"), "Bearer as-standin");
  EXPECT_EQ(call.param("user_id"), kBot);
  EXPECT_EQ(call.json["body"], "hi");
}

TEST(MatrixClient, WrongTokenIsUnknownToken) {
  MatrixStandIn hs;
  ClientApi api(options_for(hs, "wrong"));
  const ClientResult result = api.send_message(kRoom, "t", {{"msgtype", "m.text"}, {"body", "x"}});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.http_status, 401);
  EXPECT_EQ(result.errcode, "M_UNKNOWN_TOKEN");
  EXPECT_EQ(to_delivery_result(result).outcome, Outcome::kPermanent);
}

TEST(MatrixClient, LimitExceededCarriesRetryAfterMs) {
  MatrixStandIn hs;
  hs.fail_next(1, 429);
  ClientApi api(options_for(hs));
  const ClientResult result = api.send_message(kRoom, "t", {{"msgtype", "m.text"}, {"body", "x"}});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.errcode, "M_LIMIT_EXCEEDED");
  ASSERT_TRUE(result.retry_after.has_value());
  EXPECT_EQ(*result.retry_after, 1500ms);
}

TEST(MatrixClient, RetryAfterHeaderWhenBodyHasNone) {
  MatrixStandIn hs;
  hs.fail_next(1, 429, R"({"errcode":"M_LIMIT_EXCEEDED","error":"slow down"})",
               {{"Retry-After", "3"}});
  ClientApi api(options_for(hs));
  const ClientResult result = api.join(kRoom);
  ASSERT_TRUE(result.retry_after.has_value());
  EXPECT_EQ(*result.retry_after, 3000ms);
}

TEST(MatrixClient, JoinPostsToJoinEndpoint) {
  MatrixStandIn hs;
  ClientApi api(options_for(hs));
  const ClientResult result = api.join(kRoom);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.json["room_id"], kRoom);
  const auto calls = hs.calls_to("/join/");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls.front().http_method, "POST");
  EXPECT_EQ(calls.front().json, json::object());
  EXPECT_EQ(hs.joins(), std::vector<std::string>{kRoom});
}

TEST(MatrixClient, GetEventReturnsRegisteredEvent) {
  MatrixStandIn hs;
  hs.add_event(kRoom, "$abc",
               {{"type", "m.room.message"},
                {"sender", "@alice:standin.test"},
                {"origin_server_ts", 1700000000123LL},
                {"content", {{"msgtype", "m.text"}, {"body", "db is down"}}}});
  ClientApi api(options_for(hs));
  const ClientResult result = api.get_event(kRoom, "$abc");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.json["content"]["body"], "db is down");
  EXPECT_EQ(result.json["sender"], "@alice:standin.test");
  EXPECT_EQ(result.json["event_id"], "$abc");
  EXPECT_EQ(hs.calls_to("/event/").front().http_method, "GET");

  const ClientResult missing = api.get_event(kRoom, "$nope");
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.http_status, 404);
  EXPECT_EQ(missing.errcode, "M_NOT_FOUND");
}

TEST(MatrixClient, DisplaynameReadsProfile) {
  MatrixStandIn hs;
  hs.set_displayname("@alice:standin.test", "Alice Liddell");
  ClientApi api(options_for(hs));
  const ClientResult result = api.displayname("@alice:standin.test");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.json["displayname"], "Alice Liddell");
  EXPECT_EQ(hs.calls_to("/profile/").front().raw_path,
            "/_matrix/client/v3/profile/%40alice%3Astandin.test/displayname");
}

TEST(MatrixClient, TransportErrorWhenDown) {
  MatrixStandIn hs;
  hs.set_down(true);
  ClientApi api(options_for(hs));
  const ClientResult result = api.join(kRoom);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.http_status, 0);
  EXPECT_EQ(to_delivery_result(result).outcome, Outcome::kRetry);
}

// ---- message_content ----

TEST(MatrixDeliverer, ContentHasMarkdownBodyAndHtmlWithTable) {
  OutgoingMessage m = text_message("INC-7 resolved");
  m.body.details = {"- one", "- two"};
  m.body.document = "## Timeline\n\n| When | What |\n|---|---|\n| 10:00 | **alert** |\n";
  const json content = message_content(m);
  EXPECT_EQ(content["msgtype"], "m.text");
  EXPECT_EQ(content["format"], "org.matrix.custom.html");
  const std::string body = content["body"];
  EXPECT_EQ(body.rfind("INC-7 resolved\n\n- one\n- two\n\n## Timeline", 0), 0u) << body;
  EXPECT_NE(body.find("| 10:00 | **alert** |"), std::string::npos);
  const std::string html = content["formatted_body"];
  EXPECT_NE(html.find("<table>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td><strong>alert</strong></td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<li>one</li>"), std::string::npos) << html;
  EXPECT_NE(html.find("<h2>Timeline</h2>"), std::string::npos) << html;
  EXPECT_EQ(content["m.mentions"], json({{"user_ids", json::array()}}));
  EXPECT_FALSE(content.contains("m.relates_to"));
}

TEST(MatrixDeliverer, HtmlInTextIsEscaped) {
  const json content = message_content(text_message("<script>x</script>"));
  const std::string html = content["formatted_body"];
  EXPECT_EQ(html.find("<script>"), std::string::npos) << html;
}

TEST(MatrixDeliverer, NotifyBecomesPillsAndMentions) {
  OutgoingMessage m = text_message("action #2 is due");
  m.notify = {{"@alice:standin.test", "Alice <A>"}, {"U0SLACK", "bob"}};
  const json content = message_content(m);
  const std::string html = content["formatted_body"];
  EXPECT_EQ(
      html.rfind("<p><a href=\"https://matrix.to/#/@alice:standin.test\">Alice &lt;A&gt;</a>", 0),
      0u)
      << html;
  EXPECT_NE(html.find("@bob"), std::string::npos);
  EXPECT_EQ(content["m.mentions"]["user_ids"], json::array({"@alice:standin.test"}));
  const std::string body = content["body"];
  EXPECT_EQ(body.rfind("Alice <A>, @bob: action #2 is due", 0), 0u) << body;
}

TEST(MatrixDeliverer, ThreadRelation) {
  const json content = message_content(text_message("reply"), std::string("$root"));
  EXPECT_EQ(content["m.relates_to"]["rel_type"], "m.thread");
  EXPECT_EQ(content["m.relates_to"]["event_id"], "$root");
  EXPECT_EQ(content["m.relates_to"]["is_falling_back"], true);
  EXPECT_EQ(content["m.relates_to"]["m.in_reply_to"]["event_id"], "$root");
}

TEST(MatrixDeliverer, ButtonsBecomeHintLine) {
  OutgoingMessage m = text_message("Action #2 of INC-7 is due");
  m.buttons = {{"Mark done", std::string(kActionDone), "41"},
               {"Snooze 1 day", std::string(kActionSnooze), "41"}};
  const json content = message_content(m);
  const std::string body = content["body"];
  EXPECT_NE(body.find("Mark done: reply `!action done N` with the item's number."),
            std::string::npos)
      << body;
  EXPECT_EQ(body.find("41"), std::string::npos) << "the global id is not the item's number";
  EXPECT_EQ(body.find("Snooze"), std::string::npos);
  EXPECT_NE(content["formatted_body"].get<std::string>().find("<code>!action done N</code>"),
            std::string::npos);

  // A message that already names the command gets no extra hint.
  m.body.details = {"Done? Click \"Mark done\" or type `!action done 2`."};
  const std::string body2 = message_content(m)["body"];
  EXPECT_EQ(body2.find("with the item's number"), std::string::npos) << body2;
}

// ---- MatrixDeliverer against the stand-in ----

TEST(MatrixDeliverer, SendsWithStableTxnIdAndReturnsEventId) {
  MatrixStandIn hs;
  MatrixDeliverer deliverer(options_for(hs));
  const DeliveryResult result = deliverer.deliver(outbox(text_message("hello")), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kSent) << result.error;
  EXPECT_EQ(result.delivered_id, "$1");
  const auto calls = hs.calls_to("/send/");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls.front().http_method, "PUT");
  EXPECT_TRUE(calls.front().path.ends_with("/send/m.room.message/scribe-7")) << calls.front().path;
  EXPECT_EQ(calls.front().header("authorization"), "Bearer as-standin");
  EXPECT_EQ(sent_content(hs)["body"], "hello");
}

TEST(MatrixDeliverer, RetryReusesTxnIdAndPostsOnce) {
  MatrixStandIn hs;
  MatrixDeliverer deliverer(options_for(hs));
  const OutboxMessage message = outbox(text_message("once"), 42);
  // The first try reaches the homeserver but the answer is lost (client timeout).
  hs.set_delay(2500ms);
  const DeliveryResult first = deliverer.deliver(message, std::nullopt);
  EXPECT_EQ(first.outcome, Outcome::kRetry);
  hs.set_delay(0ms);
  const DeliveryResult second = deliverer.deliver(message, std::nullopt);
  EXPECT_EQ(second.outcome, Outcome::kSent) << second.error;
  const auto calls = hs.calls_to("/send/");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].path, calls[1].path);
  EXPECT_TRUE(calls[0].path.ends_with("/scribe-42"));
  ASSERT_EQ(hs.sent_messages(kRoom).size(), 1u);
  EXPECT_EQ(second.delivered_id, hs.sent_messages(kRoom).front().event_id);
}

TEST(MatrixDeliverer, ThreadIdBecomesThreadRelation) {
  MatrixStandIn hs;
  MatrixDeliverer deliverer(options_for(hs));
  const DeliveryResult result =
      deliverer.deliver(outbox(text_message("in thread")), std::string("$root"));
  ASSERT_EQ(result.outcome, Outcome::kSent) << result.error;
  const json content = sent_content(hs);
  EXPECT_EQ(content["m.relates_to"]["rel_type"], "m.thread");
  EXPECT_EQ(content["m.relates_to"]["event_id"], "$root");
}

// A reply whose thread's first message was given up goes to the room on its own, marked.
TEST(MatrixDeliverer, AReplyWhoseParentWasGivenUpIsMarked) {
  MatrixStandIn hs;
  MatrixDeliverer deliverer(options_for(hs));
  OutboxMessage message = outbox(text_message("Draft, part 1"));
  message.thread_parent = 6;
  message.thread_parent_lost = true;
  const DeliveryResult result = deliverer.deliver(message, std::nullopt);
  ASSERT_EQ(result.outcome, Outcome::kSent) << result.error;
  const json content = sent_content(hs);
  EXPECT_FALSE(content.contains("m.relates_to"));
  EXPECT_EQ(content["body"], "(reply to a message that could not be posted) Draft, part 1");
  EXPECT_NE(content["formatted_body"].get<std::string>().find(
                "(reply to a message that could not be posted)"),
            std::string::npos)
      << content.dump();
}

TEST(MatrixDeliverer, ReplacesBecomesEdit) {
  MatrixStandIn hs;
  MatrixDeliverer deliverer(options_for(hs));
  OutgoingMessage m = text_message("Action #2 done");
  m.replaces = "$old";
  m.notify = {{"@alice:standin.test", "Alice"}};
  const DeliveryResult result = deliverer.deliver(outbox(m), std::string("$root"));
  ASSERT_EQ(result.outcome, Outcome::kSent) << result.error;
  const json content = sent_content(hs);
  EXPECT_EQ(content["m.relates_to"], json({{"rel_type", "m.replace"}, {"event_id", "$old"}}));
  EXPECT_EQ(content["body"], "* Alice: Action #2 done");
  EXPECT_EQ(content["m.mentions"], json::object());
  const json& fresh = content["m.new_content"];
  EXPECT_EQ(fresh["body"], "Alice: Action #2 done");
  EXPECT_EQ(fresh["msgtype"], "m.text");
  EXPECT_EQ(fresh["format"], "org.matrix.custom.html");
  EXPECT_EQ(fresh["m.mentions"]["user_ids"], json::array({"@alice:standin.test"}));
  EXPECT_FALSE(fresh.contains("m.relates_to"));
}

TEST(MatrixDeliverer, EphemeralVisibilityIsNotice) {
  MatrixStandIn hs;
  MatrixDeliverer deliverer(options_for(hs));
  OutgoingMessage only_you = text_message("only you");
  only_you.body.visibility = Reply::Visibility::kEphemeral;  // carried by to_json
  ASSERT_EQ(deliverer.deliver(outbox(only_you), std::nullopt).outcome, Outcome::kSent);
  EXPECT_EQ(sent_content(hs)["msgtype"], "m.notice");
}

TEST(MatrixDeliverer, LimitExceededIsRetryAfter1500ms) {
  MatrixStandIn hs;
  hs.fail_next(1, 429);
  MatrixDeliverer deliverer(options_for(hs));
  const DeliveryResult result = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kRetry);
  ASSERT_TRUE(result.retry_after.has_value());
  EXPECT_EQ(*result.retry_after, 1500ms);
  EXPECT_NE(result.error.find("M_LIMIT_EXCEEDED"), std::string::npos);
  EXPECT_TRUE(hs.sent_messages().empty());
  // The next try goes through.
  EXPECT_EQ(deliverer.deliver(outbox(text_message("x")), std::nullopt).outcome, Outcome::kSent);
  EXPECT_EQ(hs.sent_messages().size(), 1u);
}

TEST(MatrixDeliverer, ServerErrorIsRetry) {
  MatrixStandIn hs;
  hs.fail_next(1, 500, R"({"errcode":"M_UNKNOWN","error":"Internal server error"})");
  MatrixDeliverer deliverer(options_for(hs));
  const DeliveryResult result = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kRetry);
  hs.fail_next(1, 502, "<html>bad gateway</html>");
  EXPECT_EQ(deliverer.deliver(outbox(text_message("x")), std::nullopt).outcome, Outcome::kRetry);
}

TEST(MatrixDeliverer, ForbiddenAndNotFoundArePermanent) {
  MatrixStandIn hs;
  MatrixDeliverer deliverer(options_for(hs));
  hs.fail_next(1, 403, R"({"errcode":"M_FORBIDDEN","error":"not in room"})");
  DeliveryResult result = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kPermanent);
  EXPECT_NE(result.error.find("M_FORBIDDEN"), std::string::npos);
  hs.fail_next(1, 404, R"({"errcode":"M_NOT_FOUND","error":"no room"})");
  result = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kPermanent);
  EXPECT_FALSE(result.retry_after.has_value());
}

TEST(MatrixDeliverer, UnparseableContentIsPermanent) {
  MatrixStandIn hs;
  MatrixDeliverer deliverer(options_for(hs));
  OutboxMessage message = outbox(text_message("x"));
  message.content = "not json";
  EXPECT_EQ(deliverer.deliver(message, std::nullopt).outcome, Outcome::kPermanent);
  message.channel.platform = "slack";
  message.content = to_json(text_message("x"));
  EXPECT_EQ(deliverer.deliver(message, std::nullopt).outcome, Outcome::kPermanent);
  EXPECT_TRUE(hs.calls().empty());
}

TEST(MatrixDeliverer, JoinJob) {
  MatrixStandIn hs;
  MatrixDeliverer deliverer(options_for(hs));
  OutboxMessage message;
  message.id = 8;
  message.channel = ChannelRef{"matrix", "standin.test", "!new:standin.test"};
  message.kind = JobKind::kJoin;
  message.content = "{}";
  const DeliveryResult result = deliverer.deliver(message, std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kSent) << result.error;
  EXPECT_EQ(result.delivered_id, "!new:standin.test");
  EXPECT_EQ(hs.joins(), std::vector<std::string>{"!new:standin.test"});
  EXPECT_EQ(hs.calls_to("/join/").front().param("user_id"), kBot);

  hs.forbid_join("!closed:standin.test");
  message.channel.channel = "!closed:standin.test";
  EXPECT_EQ(deliverer.deliver(message, std::nullopt).outcome, Outcome::kPermanent);
}

// The client-server API's own examples: the send endpoint answers {"event_id": …} (its
// example id "$YUwRidLecu:example.com"), and an m.room.message needs string `msgtype` and
// `body`, with `formatted_body` only alongside `format: org.matrix.custom.html`.
TEST(MatrixSpecExamples, SendResponseAndMessageContentHaveTheSpecsShape) {
  ClientResult sent;
  sent.ok = true;
  sent.http_status = 200;
  sent.json = json{{"event_id", "$YUwRidLecu:example.com"}};
  const DeliveryResult r = to_delivery_result(sent);
  EXPECT_EQ(r.outcome, Outcome::kSent);
  EXPECT_EQ(r.delivered_id, "$YUwRidLecu:example.com");

  OutgoingMessage m;
  m.body.text = "INC-1 resolved";
  m.body.document = "| a | b |\n|---|---|\n| 1 | 2 |\n";
  const json content = message_content(m);
  ASSERT_TRUE(content.contains("msgtype"));
  ASSERT_TRUE(content.contains("body"));
  EXPECT_TRUE(content["msgtype"].is_string());
  EXPECT_TRUE(content["body"].is_string());
  EXPECT_EQ(content["format"], "org.matrix.custom.html");
  EXPECT_TRUE(content["formatted_body"].is_string());
  EXPECT_NE(content["formatted_body"].get<std::string>().find("<table>"), std::string::npos);
}

// Text typed by users shows as typed in formatted_body: the only link is Scribe's pill;
// the draft's cells show exactly the typed text.
TEST(MatrixDeliverer, UserTextIsTextInFormattedBody) {
  for (const std::string& typed : testing::hostile_texts()) {
    OutgoingMessage m = text_message("Recorded #4: " + typed);
    m.body.details = {"#4 14:05:00 note @eve: " + typed, "- listed: " + typed};
    m.notify = {{"@eve:standin.test", "<img src=x>"}};
    const json content = message_content(m);
    const std::string html = content["formatted_body"];
    std::size_t links = 0;
    for (std::size_t at = html.find("<a "); at != std::string::npos;
         at = html.find("<a ", at + 1)) {
      ++links;
    }
    EXPECT_EQ(links, 1u) << html;
    EXPECT_EQ(
        html.rfind("<p><a href=\"https://matrix.to/#/@eve:standin.test\">&lt;img src=x&gt;</a>: ",
                   0),
        0u)
        << html;
    for (const char* bad : {"<img", "<script", "raw HTML omitted", "<em>", "<strong>", "<h1>",
                            "<blockquote>", "<pre>", "<hr", "<ol", "<table>"}) {
      EXPECT_EQ(html.find(bad), std::string::npos) << bad << " in " << html;
    }
    const std::string shown = "<img src=x>: Recorded #4: " + typed +
                              "\n#4 14:05:00 note @eve: " + typed + "\nlisted: " + typed;
    // Backtick pairs are the one markup replies keep (Scribe quotes commands so).
    if (typed.find('`') == std::string::npos) {
      EXPECT_EQ(testing::visible_text(html), testing::expected_block(shown)) << typed;
    }
    EXPECT_EQ(content["body"],
              display_text("<img src=x>: Recorded #4: " + typed +
                           "\n\n#4 14:05:00 note @eve: " + typed + "\n\n- listed: " + typed));
  }
}

TEST(MatrixDeliverer, DraftCellsShowTheTypedText) {
  IncidentRecord record;
  record.incident.id = 7;
  record.incident.title = "[t](https://evil)";
  const auto& texts = testing::hostile_texts();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    TimelineEvent e;
    e.seq = static_cast<int>(i + 1);
    e.author = Person{"@eve:standin.test", "eve"};
    e.text = texts[i];
    record.events.push_back(std::move(e));
  }
  OutgoingMessage m = text_message("Postmortem draft of INC-7:");
  m.body.document =
      render_markdown(assemble_draft(std::move(record), Timestamp{}), "!", kChatDraftBytes);
  const std::string html = message_content(m)["formatted_body"];
  EXPECT_EQ(html.find("<a "), std::string::npos) << html;
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  const std::vector<std::string> bodies = testing::elements(html, "tbody");
  ASSERT_EQ(bodies.size(), 2u);  // key durations, timeline
  const std::vector<std::string> rows = testing::elements(bodies[1], "tr");
  ASSERT_EQ(rows.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::vector<std::string> cells = testing::elements(rows[i], "td");
    ASSERT_EQ(cells.size(), 6u);
    EXPECT_EQ(testing::visible_text(cells[5]), testing::expected_cell(texts[i])) << i;
  }
}

}  // namespace
}  // namespace scribe::matrix
