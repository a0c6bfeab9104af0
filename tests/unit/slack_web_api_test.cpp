#include "adapters/slack/blocks.h"
#include "adapters/slack/web_api.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "commands/outgoing.h"
#include "support/slack_standin.h"

namespace scribe::slack {
namespace {

using nlohmann::json;
using Outcome = DeliveryResult::Outcome;
using scribe::testing::SlackCall;
using scribe::testing::SlackStandIn;
using scribe::testing::SlackStandInUser;
using namespace std::chrono_literals;

WebApi::Options options_for(const SlackStandIn& slack, std::string token = "") {
  WebApi::Options options;
  options.base_url = slack.base_url();
  options.token = token.empty() ? slack.token() : std::move(token);
  options.timeout = 2s;
  return options;
}

// As CommandHandler enqueues it.
OutboxMessage outbox(const OutgoingMessage& message, std::string channel = "C0INCIDENT") {
  OutboxMessage m;
  m.id = 7;
  m.channel = ChannelRef{"slack", "T1", std::move(channel)};
  m.kind = message.replaces ? JobKind::kUpdate : JobKind::kPost;
  m.content = to_json(message);
  return m;
}

OutgoingMessage text_message(std::string text) {
  OutgoingMessage m;
  m.body.text = std::move(text);
  return m;
}

// The one chat.postMessage the stand-in received.
json posted_payload(const SlackStandIn& slack) {
  const std::vector<SlackCall> calls = slack.calls_to("chat.postMessage");
  EXPECT_EQ(calls.size(), 1u);
  return calls.empty() ? json() : calls.front().json;
}

std::string section_text(const json& block) { return block.at("text").at("text"); }

std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, 5, "&amp;") == 0) {
      out += '&';
      i += 5;
    } else if (s.compare(i, 4, "&lt;") == 0) {
      out += '<';
      i += 4;
    } else if (s.compare(i, 4, "&gt;") == 0) {
      out += '>';
      i += 4;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// ---- WebApi ----

TEST(SlackWebApi, PostMessageSendsBearerTokenAndJsonAndReturnsTs) {
  SlackStandIn slack;
  WebApi api(options_for(slack));
  const WebApiResult result = api.post_message("C1", {{"text", "hello"}});
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.http_status, 200);
  EXPECT_TRUE(result.error.empty());

  const std::vector<SlackCall> calls = slack.calls_to("/api/chat.postMessage");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].http_method, "POST");
  EXPECT_EQ(calls[0].header("Authorization"), "Bearer xoxb-standin");
  EXPECT_EQ(calls[0].header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(calls[0].json, (json{{"channel", "C1"}, {"text", "hello"}}));

  const std::vector<json> posted = slack.posted_messages();
  ASSERT_EQ(posted.size(), 1u);
  EXPECT_EQ(result.json.at("ts"), posted[0].at("ts"));
  EXPECT_EQ(result.json.at("ts"), "1700000000.000100");
}

TEST(SlackWebApi, TimestampsAreUniqueAndIncreasing) {
  SlackStandIn slack;
  WebApi api(options_for(slack));
  const std::string first = api.post_message("C1", {{"text", "a"}}).json.at("ts");
  const std::string second = api.post_message("C1", {{"text", "b"}}).json.at("ts");
  EXPECT_LT(first, second);
}

TEST(SlackWebApi, ReusesOneConnection) {
  SlackStandIn slack;
  WebApi api(options_for(slack));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(api.post_message("C1", {{"text", "x"}}).ok);
  EXPECT_EQ(slack.connections(), 1u);
}

TEST(SlackWebApi, WrongTokenIsInvalidAuth) {
  SlackStandIn slack;
  WebApi api(options_for(slack, "xoxb-wrong"));
  const WebApiResult result = api.post_message("C1", {{"text", "hello"}});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "invalid_auth");
  EXPECT_EQ(result.http_status, 200);
}

TEST(SlackWebApi, RateLimitCarriesRetryAfter) {
  SlackStandIn slack;
  slack.fail_next(1, 429, "", {{"Retry-After", "2"}});
  WebApi api(options_for(slack));
  const WebApiResult result = api.post_message("C1", {{"text", "hello"}});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.http_status, 429);
  EXPECT_EQ(result.error, "ratelimited");
  ASSERT_TRUE(result.retry_after.has_value());
  EXPECT_EQ(*result.retry_after, 2s);
}

TEST(SlackWebApi, ServerErrorWithoutJson) {
  SlackStandIn slack;
  slack.fail_next(1, 502, "<html>bad gateway</html>");
  WebApi api(options_for(slack));
  const WebApiResult result = api.post_message("C1", {{"text", "hello"}});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.http_status, 502);
  EXPECT_EQ(result.error, "HTTP 502");
  EXPECT_TRUE(result.json.is_null());
}

TEST(SlackWebApi, NothingListeningIsATransportError) {
  std::string base_url;
  {
    SlackStandIn gone;
    base_url = gone.base_url();
  }
  WebApi::Options options;
  options.base_url = base_url;
  options.token = "xoxb-standin";
  WebApi api(options);
  const WebApiResult result = api.post_message("C1", {{"text", "hello"}});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.http_status, 0);
  EXPECT_TRUE(result.error.starts_with("transport: ")) << result.error;
}

TEST(SlackWebApi, ConversationsHistoryReturnsTheRegisteredMessage) {
  SlackStandIn slack;
  slack.add_message("C1", "1700000100.000100", "U0ALICE", "before");
  slack.add_message("C1", "1700000200.000200", "U0BOB", "the one");
  slack.add_message("C1", "1700000300.000300", "U0ALICE", "after");
  WebApi api(options_for(slack));
  const WebApiResult result = api.conversations_history("C1", "1700000200.000200");
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.json.at("messages").size(), 1u);
  const json& message = result.json["messages"][0];
  EXPECT_EQ(message.at("ts"), "1700000200.000200");
  EXPECT_EQ(message.at("user"), "U0BOB");
  EXPECT_EQ(message.at("text"), "the one");

  const SlackCall call = slack.calls_to("conversations.history").at(0);
  EXPECT_EQ(call.http_method, "GET");
  EXPECT_EQ(call.header("authorization"), "Bearer xoxb-standin");
  EXPECT_EQ(call.param("channel"), "C1");
  EXPECT_EQ(call.param("oldest"), "1700000200.000200");
  EXPECT_EQ(call.param("latest"), "1700000200.000200");
  EXPECT_EQ(call.param("inclusive"), "true");
  EXPECT_EQ(call.param("limit"), "1");
}

TEST(SlackWebApi, ConversationsRepliesReturnsTheThread) {
  SlackStandIn slack;
  slack.add_message("C1", "1700000100.000100", "U0ALICE", "parent");
  slack.add_message("C1", "1700000150.000100", "U0BOB", "reply", "1700000100.000100");
  WebApi api(options_for(slack));
  const WebApiResult result = api.conversations_replies("C1", "1700000150.000100");
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.json.at("messages").size(), 1u);
  EXPECT_EQ(result.json["messages"][0].at("text"), "reply");
}

TEST(SlackWebApi, ReadMessageFindsTopLevelAndThreadedMessages) {
  SlackStandIn slack;
  slack.add_message("C1", "1700000100.000100", "U0ALICE", "parent");
  slack.add_message("C1", "1700000150.000100", "U0BOB", "a reply", "1700000100.000100");
  WebApi api(options_for(slack));

  const WebApiResult top = api.read_message("C1", "1700000100.000100");
  ASSERT_TRUE(top.ok) << top.error;
  EXPECT_EQ(top.json.at("text"), "parent");

  const WebApiResult reply = api.read_message("C1", "1700000150.000100");
  ASSERT_TRUE(reply.ok) << reply.error;
  EXPECT_EQ(reply.json.at("text"), "a reply");
  EXPECT_EQ(reply.json.at("user"), "U0BOB");

  const WebApiResult missing = api.read_message("C1", "1700000999.000100");
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.error, "message_not_found");

  const WebApiResult no_channel = api.read_message("C404", "1700000100.000100");
  EXPECT_FALSE(no_channel.ok);
  EXPECT_EQ(no_channel.error, "channel_not_found");
}

TEST(SlackWebApi, UsersInfoReturnsNameAndTimeZone) {
  SlackStandIn slack;
  slack.add_user({"U0ALICE", "alice", "Alice Liddell", "", "Europe/Berlin", 3600});
  slack.add_user({"U0BOB", "bob", "Robert Tables", "bobby", "America/New_York", -18000});
  WebApi api(options_for(slack));

  const std::optional<UserInfo> alice = user_info(api.users_info("U0ALICE"));
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->id, "U0ALICE");
  EXPECT_EQ(alice->name, "Alice Liddell");  // no display name
  EXPECT_EQ(alice->real_name, "Alice Liddell");
  EXPECT_EQ(alice->tz, "Europe/Berlin");
  EXPECT_EQ(alice->tz_offset, 3600);

  const std::optional<UserInfo> bob = user_info(api.users_info("U0BOB"));
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(bob->name, "bobby");
  EXPECT_EQ(bob->display_name, "bobby");
  EXPECT_EQ(bob->tz, "America/New_York");

  const WebApiResult unknown = api.users_info("U0NOBODY");
  EXPECT_EQ(unknown.error, "user_not_found");
  EXPECT_FALSE(user_info(unknown).has_value());
  EXPECT_EQ(slack.calls_to("users.info").at(0).param("user"), "U0ALICE");
}

// ---- SlackDeliverer ----

TEST(SlackDeliverer, PostsAndReturnsTheTs) {
  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  const DeliveryResult result = deliverer.deliver(outbox(text_message("Resolved")), std::nullopt);
  ASSERT_EQ(result.outcome, Outcome::kSent) << result.error;
  const std::vector<json> posted = slack.posted_messages();
  ASSERT_EQ(posted.size(), 1u);
  EXPECT_EQ(result.delivered_id, posted[0].at("ts"));
  EXPECT_EQ(posted[0].at("channel"), "C0INCIDENT");
  EXPECT_EQ(posted[0].at("text"), "Resolved");
  EXPECT_EQ(posted[0].at("unfurl_links"), false);
  EXPECT_FALSE(posted[0].contains("thread_ts"));
  EXPECT_EQ(section_text(posted[0].at("blocks").at(0)), "Resolved");
}

TEST(SlackDeliverer, RepliesInTheThreadWhenGivenOne) {
  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  const DeliveryResult parent = deliverer.deliver(outbox(text_message("Summary")), std::nullopt);
  ASSERT_EQ(parent.outcome, Outcome::kSent);
  const DeliveryResult child =
      deliverer.deliver(outbox(text_message("Draft, part 1")), parent.delivered_id);
  ASSERT_EQ(child.outcome, Outcome::kSent);
  EXPECT_NE(child.delivered_id, parent.delivered_id);
  const std::vector<json> posted = slack.posted_messages();
  ASSERT_EQ(posted.size(), 2u);
  EXPECT_EQ(posted[1].at("thread_ts"), parent.delivered_id);
}

// Each post is marked as its job's delivery; a job in doubt whose post is already in the
// channel (an earlier sender died before recording it) is not posted again.
TEST(SlackDeliverer, AJobInDoubtAlreadyPostedIsNotPostedAgain) {
  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  OutboxMessage job = outbox(text_message("Postmortem draft of INC-4"));
  const DeliveryResult first = deliverer.deliver(job, std::nullopt);
  ASSERT_EQ(first.outcome, Outcome::kSent) << first.error;
  const json metadata = slack.posted_messages().at(0).at("metadata");
  EXPECT_EQ(metadata.at("event_type"), "scribe_outbox_job");
  EXPECT_EQ(metadata.at("event_payload").at("job"), job.id);
  // Other messages came after it, and another job of the same id from elsewhere.
  OutboxMessage other = outbox(text_message("unrelated"));
  other.created_at = job.created_at + std::chrono::seconds(5);
  ASSERT_EQ(deliverer.deliver(other, std::nullopt).outcome, Outcome::kSent);
  slack.add_message("C0INCIDENT", "1800000000.000100", "U0ALICE", "typing along");

  job.in_doubt = true;
  const DeliveryResult again = deliverer.deliver(job, std::nullopt);
  ASSERT_EQ(again.outcome, Outcome::kSent) << again.error;
  EXPECT_EQ(again.delivered_id, first.delivered_id);
  EXPECT_EQ(slack.posted_messages().size(), 2u) << "nothing posted a second time";
  const auto looked = slack.calls_to("conversations.history");
  ASSERT_EQ(looked.size(), 1u);
  EXPECT_EQ(looked[0].param("include_all_metadata"), "true");
}

// In doubt but not there (the earlier sender died before posting): posted now; in a thread,
// the thread's replies are where it is looked for.
TEST(SlackDeliverer, AJobInDoubtNotPostedYetIsPostedInItsThread) {
  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  const DeliveryResult parent = deliverer.deliver(outbox(text_message("Summary")), std::nullopt);
  ASSERT_EQ(parent.outcome, Outcome::kSent);
  OutboxMessage reply = outbox(text_message("Draft, part 1"));
  reply.id = 8;
  reply.in_doubt = true;
  const DeliveryResult result = deliverer.deliver(reply, parent.delivered_id);
  ASSERT_EQ(result.outcome, Outcome::kSent) << result.error;
  EXPECT_EQ(slack.posted_messages().size(), 2u);
  const auto looked = slack.calls_to("conversations.replies");
  ASSERT_EQ(looked.size(), 1u);
  EXPECT_EQ(looked[0].param("ts"), parent.delivered_id);
  // Asked again (the answer to the post was lost), it is found in the thread.
  EXPECT_EQ(deliverer.deliver(reply, parent.delivered_id).delivered_id, result.delivered_id);
  EXPECT_EQ(slack.posted_messages().size(), 2u);
}

// When Slack cannot say for a passing reason, the job waits rather than risk a second post;
// a post whose answer never came may have been delivered, and says so.
TEST(SlackDeliverer, AJobInDoubtWaitsWhenSlackCannotSayAndALostAnswerIsInDoubt) {
  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  ASSERT_EQ(deliverer.deliver(outbox(text_message("hello")), std::nullopt).outcome,
            Outcome::kSent);  // the channel exists
  OutboxMessage job = outbox(text_message("Draft"));
  job.id = 9;
  job.in_doubt = true;
  slack.fail_next(1, 503);
  const DeliveryResult later = deliverer.deliver(job, std::nullopt);
  EXPECT_EQ(later.outcome, Outcome::kRetry);
  EXPECT_EQ(slack.posted_messages().size(), 1u);
  EXPECT_FALSE(later.maybe_delivered);

  std::string base_url;
  {
    SlackStandIn gone;
    base_url = gone.base_url();
  }
  WebApi::Options nowhere = options_for(slack);
  nowhere.base_url = base_url;
  SlackDeliverer unreachable(nowhere);
  const DeliveryResult lost = unreachable.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(lost.outcome, Outcome::kRetry);
  EXPECT_TRUE(lost.maybe_delivered);
}

// A reply whose thread's first message was given up goes to the channel on its own, marked.
TEST(SlackDeliverer, AReplyWhoseParentWasGivenUpIsMarked) {
  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  OutboxMessage message = outbox(text_message("Draft, part 1"));
  message.thread_parent = 6;
  message.thread_parent_lost = true;
  ASSERT_EQ(deliverer.deliver(message, std::nullopt).outcome, Outcome::kSent);
  const std::vector<json> posted = slack.posted_messages();
  ASSERT_EQ(posted.size(), 1u);
  EXPECT_FALSE(posted[0].contains("thread_ts"));
  EXPECT_EQ(posted[0].at("text"), "(reply to a message that could not be posted) Draft, part 1");
  EXPECT_EQ(section_text(posted[0].at("blocks").at(0)),
            "(reply to a message that could not be posted) Draft, part 1");
}

TEST(SlackDeliverer, EscapesTheFallbackText) {
  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  ASSERT_EQ(deliverer.deliver(outbox(text_message("p99 < 1s & <!here>")), std::nullopt).outcome,
            Outcome::kSent);
  EXPECT_EQ(posted_payload(slack).at("text"), "p99 &lt; 1s &amp; &lt;!here&gt;");
}

TEST(SlackDeliverer, RateLimitIsRetriedAfterRetryAfter) {
  SlackStandIn slack;
  slack.fail_next(1, 429, "", {{"Retry-After", "3"}});
  SlackDeliverer deliverer(options_for(slack));
  const DeliveryResult result = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kRetry);
  ASSERT_TRUE(result.retry_after.has_value());
  EXPECT_EQ(*result.retry_after, std::chrono::milliseconds(3000));
  EXPECT_TRUE(slack.posted_messages().empty());
}

TEST(SlackDeliverer, ServerErrorIsRetried) {
  SlackStandIn slack;
  slack.fail_next(1, 500, "oops");
  SlackDeliverer deliverer(options_for(slack));
  const DeliveryResult result = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kRetry);
  EXPECT_EQ(result.error, "HTTP 500");
  // The next try goes through.
  EXPECT_EQ(deliverer.deliver(outbox(text_message("x")), std::nullopt).outcome, Outcome::kSent);
}

// An ephemeral message for one person with a Slack id goes to them alone.
TEST(SlackDeliverer, AnEphemeralMessageForOnePersonIsPostedToThemAlone) {
  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  OutgoingMessage hint = text_message("A reviewer's note on timeline #3");
  hint.body.visibility = Reply::Visibility::kEphemeral;
  hint.notify = {Person{"U0ALICE", "alice"}};
  const DeliveryResult result = deliverer.deliver(outbox(hint), std::nullopt);
  ASSERT_EQ(result.outcome, Outcome::kSent) << result.error;
  EXPECT_TRUE(slack.posted_messages().empty()) << "nothing in the channel";
  const auto calls = slack.calls_to("chat.postEphemeral");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].json.at("channel"), "C0INCIDENT");
  EXPECT_EQ(calls[0].json.at("user"), "U0ALICE");
  EXPECT_EQ(calls[0].json.at("text"), "A reviewer's note on timeline #3");

  // Someone who left the channel cannot get it: given up, not retried forever (the
  // channel's later messages wait behind it).
  slack.fail_next_error(1, "user_not_in_channel");
  EXPECT_EQ(deliverer.deliver(outbox(hint), std::nullopt).outcome, Outcome::kPermanent);

  // Without a Slack id (or for several people) it is an ordinary message.
  hint.notify = {Person{"", "alice"}};
  ASSERT_EQ(deliverer.deliver(outbox(hint), std::nullopt).outcome, Outcome::kSent);
  EXPECT_EQ(slack.posted_messages().size(), 1u);
}

TEST(SlackDeliverer, ChannelNotFoundIsPermanent) {
  SlackStandIn slack;
  slack.fail_next_error(1, "channel_not_found");
  SlackDeliverer deliverer(options_for(slack));
  const DeliveryResult result = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kPermanent);
  EXPECT_EQ(result.error, "channel_not_found");
}

TEST(SlackDeliverer, NotInChannelAndInvalidAuthArePermanent) {
  SlackStandIn slack;
  slack.fail_next_error(1, "not_in_channel");
  SlackDeliverer deliverer(options_for(slack));
  const DeliveryResult not_in_channel = deliverer.deliver(outbox(text_message("x")), {});
  EXPECT_EQ(not_in_channel.outcome, Outcome::kPermanent);
  EXPECT_EQ(not_in_channel.error, "not_in_channel");

  SlackDeliverer wrong_token(options_for(slack, "xoxb-revoked"));
  const DeliveryResult invalid_auth = wrong_token.deliver(outbox(text_message("x")), {});
  EXPECT_EQ(invalid_auth.outcome, Outcome::kPermanent);
  EXPECT_EQ(invalid_auth.error, "invalid_auth");
}

TEST(SlackDeliverer, RatelimitedErrorIsRetried) {
  SlackStandIn slack;
  slack.fail_next_error(1, "ratelimited");
  SlackDeliverer deliverer(options_for(slack));
  const DeliveryResult result = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kRetry);
  EXPECT_EQ(result.error, "ratelimited");
}

TEST(SlackDeliverer, UnknownSlackErrorIsRetried) {
  SlackStandIn slack;
  slack.fail_next_error(1, "internal_error");
  SlackDeliverer deliverer(options_for(slack));
  const DeliveryResult result = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kRetry);
  EXPECT_EQ(result.error, "internal_error");
}

TEST(SlackDeliverer, OutageIsRetried) {
  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  slack.set_down(true);
  const DeliveryResult refused = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(refused.outcome, Outcome::kRetry);
  EXPECT_TRUE(refused.error.starts_with("transport: ")) << refused.error;
  EXPECT_GE(slack.refused(), 1u);

  slack.set_down(true, SlackStandIn::DownMode::k503);
  const DeliveryResult unavailable = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(unavailable.outcome, Outcome::kRetry);
  EXPECT_EQ(unavailable.error, "service_unavailable");

  slack.set_down(false);
  EXPECT_EQ(deliverer.deliver(outbox(text_message("x")), std::nullopt).outcome, Outcome::kSent);
  EXPECT_EQ(slack.posted_messages().size(), 1u);
}

TEST(SlackDeliverer, ClosedPortIsRetried) {
  WebApi::Options options;
  {
    SlackStandIn gone;
    options = options_for(gone);
  }
  SlackDeliverer deliverer(options);
  const DeliveryResult result = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kRetry);
  EXPECT_TRUE(result.error.starts_with("transport: ")) << result.error;
}

TEST(SlackDeliverer, TimeoutIsRetried) {
  SlackStandIn slack;
  slack.set_delay(1500ms);
  WebApi::Options options = options_for(slack);
  options.timeout = 200ms;
  SlackDeliverer deliverer(options);
  const auto start = std::chrono::steady_clock::now();
  const DeliveryResult result = deliverer.deliver(outbox(text_message("x")), std::nullopt);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(result.outcome, Outcome::kRetry);
  EXPECT_TRUE(result.error.starts_with("transport: ")) << result.error;
}

TEST(SlackDeliverer, LongDocumentIsSplitIntoCodeBlocksAndNothingIsLost) {
  std::string document = "# INC-1 Checkout outage\n";
  for (int i = 0; document.size() < 8000; ++i) {
    document += "## Section " + std::to_string(i) + "\n";
    document += "- 14:0" + std::to_string(i % 10) + " p99 latency > 1.2 s & errors < 5% `x`\n";
  }
  OutgoingMessage message = text_message("Postmortem draft for INC-1");
  message.body.document = document;
  message.body.incident = 1;

  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  ASSERT_EQ(deliverer.deliver(outbox(message), std::nullopt).outcome, Outcome::kSent);
  const json payload = posted_payload(slack);
  const json& blocks = payload.at("blocks");
  std::string shown;
  std::size_t code_blocks = 0;
  for (const auto& block : blocks) {
    ASSERT_EQ(block.at("type"), "section");
    const std::string text = section_text(block);
    EXPECT_LE(text.size(), 3000u);
    if (!text.starts_with("```")) continue;
    ++code_blocks;
    ASSERT_TRUE(text.ends_with("\n```")) << text;
    shown += unescape(text.substr(4, text.size() - 7));
  }
  EXPECT_GE(code_blocks, 3u);
  EXPECT_EQ(shown, document);
}

TEST(SlackDeliverer, DocumentBeyondOneMessageIsCutWithANote) {
  std::string document;
  while (document.size() < 2 * kPostedDocumentBytes) document += "- a line of the timeline\n";
  OutgoingMessage message = text_message("Draft");
  message.body.document = document;
  message.body.incident = 9;

  SlackStandIn slack;  // refuses blocks too long for Slack
  SlackDeliverer deliverer(options_for(slack));
  ASSERT_EQ(deliverer.deliver(outbox(message), std::nullopt).outcome, Outcome::kSent);
  const json payload = posted_payload(slack);
  const json& note = payload.at("blocks").back();
  ASSERT_EQ(note.at("type"), "context");
  const std::string text = note.at("elements").at(0).at("text");
  EXPECT_NE(text.find("`scribe draft INC-9`"), std::string::npos) << text;
  EXPECT_EQ(text.find("outbox"), std::string::npos) << text;
}

TEST(SlackDeliverer, ButtonsBecomeAnActionsBlock) {
  OutgoingMessage message = text_message("Action item 3 is due tomorrow");
  message.buttons = {{"Mark done", "action.done", "42"}, {"Snooze 1 day", "action.snooze", "42"}};

  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  ASSERT_EQ(deliverer.deliver(outbox(message), std::nullopt).outcome, Outcome::kSent);
  const json payload = posted_payload(slack);
  const json& blocks = payload.at("blocks");
  ASSERT_EQ(blocks.size(), 2u);
  const json& actions = blocks[1];
  ASSERT_EQ(actions.at("type"), "actions");
  ASSERT_EQ(actions.at("elements").size(), 2u);
  const json& done = actions["elements"][0];
  EXPECT_EQ(done.at("type"), "button");
  EXPECT_EQ(done.at("action_id"), "action.done");
  EXPECT_EQ(done.at("value"), "42");
  EXPECT_EQ(done.at("text").at("type"), "plain_text");
  EXPECT_EQ(done.at("text").at("text"), "Mark done");
  EXPECT_EQ(actions["elements"][1].at("action_id"), "action.snooze");
}

TEST(SlackDeliverer, RepeatedActionsGoToSeparateBlocks) {
  OutgoingMessage message = text_message("Two items are overdue");
  message.buttons = {{"Mark #1 done", "action.done", "1"}, {"Mark #2 done", "action.done", "2"}};

  SlackStandIn slack;  // refuses duplicate action_ids within a block, as Slack does
  SlackDeliverer deliverer(options_for(slack));
  ASSERT_EQ(deliverer.deliver(outbox(message), std::nullopt).outcome, Outcome::kSent);
  const json payload = posted_payload(slack);
  const json& blocks = payload.at("blocks");
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[1].at("elements").at(0).at("value"), "1");
  EXPECT_EQ(blocks[2].at("elements").at(0).at("value"), "2");
}

TEST(SlackDeliverer, NotifiedPeopleAreMentioned) {
  OutgoingMessage message = text_message("Action item 3 is overdue");
  message.notify = {{"U0ALICE", "alice"}, {"", "bob"}, {"U0ALICE", "alice"}};

  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  ASSERT_EQ(deliverer.deliver(outbox(message), std::nullopt).outcome, Outcome::kSent);
  const json payload = posted_payload(slack);
  EXPECT_EQ(payload.at("text"), "<@U0ALICE> @bob Action item 3 is overdue");
  EXPECT_EQ(section_text(payload.at("blocks").at(0)), "<@U0ALICE> @bob Action item 3 is overdue");
}

TEST(SlackDeliverer, UnparseableContentIsPermanent) {
  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  OutboxMessage message = outbox(text_message("x"));
  for (const char* content : {"not json", "[1, 2]", R"({"details": []})", R"({"text": 5})"}) {
    message.content = content;
    const DeliveryResult result = deliverer.deliver(message, std::nullopt);
    EXPECT_EQ(result.outcome, Outcome::kPermanent) << content;
    EXPECT_FALSE(result.error.empty()) << content;
  }
  EXPECT_TRUE(slack.calls().empty());
}

TEST(SlackDeliverer, NonSlackChannelIsPermanent) {
  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  OutboxMessage message = outbox(text_message("x"));
  message.channel.platform = "matrix";
  EXPECT_EQ(deliverer.deliver(message, std::nullopt).outcome, Outcome::kPermanent);
  EXPECT_TRUE(slack.calls().empty());
}

// ---- the stand-in itself ----

TEST(SlackStandIn, WaitsForCallsFromAnotherThread) {
  SlackStandIn slack;
  std::thread sender([&] {
    WebApi api(options_for(slack));
    for (int i = 0; i < 3; ++i) api.post_message("C1", {{"text", "x"}});
  });
  EXPECT_TRUE(slack.wait_for_calls("chat.postMessage", 3, 5s));
  sender.join();
  EXPECT_FALSE(slack.wait_for_calls("chat.postMessage", 4, 50ms));
  EXPECT_EQ(slack.calls_to("users.info").size(), 0u);
}

TEST(SlackStandIn, SlowAnswersDoNotHoldUpOtherConnections) {
  SlackStandIn slack;
  slack.set_delay(800ms);
  std::thread slow([&] {
    WebApi api(options_for(slack));
    api.post_message("C1", {{"text", "slow"}});
  });
  ASSERT_TRUE(slack.wait_for_calls("chat.postMessage", 1, 5s));
  slack.set_delay(0ms);
  WebApi api(options_for(slack));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(api.post_message("C1", {{"text", "fast"}}).ok);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  slow.join();
}

// ---- Replacing a message (chat.update) ----

TEST(OutgoingMessage, ReplacesSurvivesTheJsonRoundTrip) {
  OutgoingMessage m = text_message("☑️ Done: Add alert — marked by @bob");
  m.buttons = {{"Mark done", "action.done", "42"}};
  m.replaces = "1700000000.000100";
  const OutgoingMessage back = outgoing_from_json(to_json(m)).value.value();
  EXPECT_EQ(back.replaces, "1700000000.000100");
  EXPECT_EQ(back.body.text, m.body.text);
  EXPECT_EQ(back.buttons, m.buttons);

  // A new message has none, and content written before the field existed reads as new.
  const OutgoingMessage fresh = outgoing_from_json(to_json(text_message("x"))).value.value();
  EXPECT_EQ(fresh.replaces, std::nullopt);
  EXPECT_FALSE(json::parse(to_json(text_message("x"))).contains("replaces"));
  EXPECT_EQ(outgoing_from_json(R"({"text": "old", "buttons": []})").value.value().replaces,
            std::nullopt);
  EXPECT_EQ(outgoing_from_json(R"({"text": "x", "replaces": ""})").value.value().replaces,
            std::nullopt);
  EXPECT_EQ(outgoing_from_json(R"({"text": "x", "replaces": 17})").value.value().replaces,
            std::nullopt);
}

// Everything a deliverer needs travels in the JSON, the visibility included; content that
// is not an outgoing message is an error, never an exception.
TEST(OutgoingMessage, VisibilitySurvivesTheJsonRoundTripAndBadContentIsAnError) {
  EXPECT_EQ(OutgoingMessage{}.body.visibility, Reply::Visibility::kChannel);
  OutgoingMessage notice = text_message("only you");
  notice.body.visibility = Reply::Visibility::kEphemeral;
  EXPECT_EQ(json::parse(to_json(notice)).at("visibility"), "ephemeral");
  EXPECT_EQ(outgoing_from_json(to_json(notice)).value.value().body.visibility,
            Reply::Visibility::kEphemeral);
  EXPECT_EQ(outgoing_from_json(to_json(text_message("all"))).value.value().body.visibility,
            Reply::Visibility::kChannel);
  // Written before the field was stored: the channel.
  EXPECT_EQ(outgoing_from_json(R"({"text": "old"})").value.value().body.visibility,
            Reply::Visibility::kChannel);
  for (const char* bad : {"not json", "[]", R"({"no": "text"})", R"({"text": 5})",
                          R"({"text": "x", "buttons": [1]})"}) {
    const Parsed<OutgoingMessage> parsed = outgoing_from_json(bad);
    EXPECT_FALSE(parsed) << bad;
    EXPECT_FALSE(parsed.error.empty()) << bad;
  }
}

TEST(SlackWebApi, UpdatePayloadAlwaysCarriesBlocks) {
  OutgoingMessage m = text_message("Done & dusted");
  const json payload = update_payload("C0INCIDENT", "1700000000.000100", m);
  EXPECT_EQ(payload.at("channel"), "C0INCIDENT");
  EXPECT_EQ(payload.at("ts"), "1700000000.000100");
  EXPECT_EQ(payload.at("text"), "Done &amp; dusted");
  ASSERT_TRUE(payload.at("blocks").is_array());
  EXPECT_FALSE(payload.contains("thread_ts"));
  EXPECT_FALSE(payload.contains("unfurl_links"));
  // Without text or buttons there are no blocks, but the key is there, so that Slack drops
  // the old ones (and their buttons) instead of keeping them.
  OutgoingMessage empty;
  EXPECT_EQ(update_payload("C0INCIDENT", "1.2", empty).at("blocks"), json::array());
}

TEST(SlackDeliverer, AMessageThatReplacesAnotherIsAChatUpdate) {
  SlackStandIn slack;
  slack.add_message("C0INCIDENT", "1700000000.000100", "UBOTSCRIBE", "⏰ Action #1 is due today");
  SlackDeliverer deliverer(options_for(slack));
  OutgoingMessage m = text_message("☑️ Done: Add alert — marked by @bob");
  m.replaces = "1700000000.000100";
  // A thread given by the outbox does not matter: the message stays where it is.
  const DeliveryResult result = deliverer.deliver(outbox(m), std::string("1699999999.000001"));
  ASSERT_EQ(result.outcome, Outcome::kSent) << result.error;
  EXPECT_EQ(result.delivered_id, "1700000000.000100");
  EXPECT_TRUE(slack.calls_to("chat.postMessage").empty());
  const std::vector<SlackCall> updates = slack.calls_to("chat.update");
  ASSERT_EQ(updates.size(), 1u);
  const json& payload = updates[0].json;
  EXPECT_EQ(updates[0].header("authorization"), "Bearer " + slack.token());
  EXPECT_EQ(payload.at("channel"), "C0INCIDENT");
  EXPECT_EQ(payload.at("ts"), "1700000000.000100");
  EXPECT_EQ(payload.at("text"), "☑️ Done: Add alert — marked by @bob");
  EXPECT_FALSE(payload.contains("thread_ts"));
  const json& blocks = payload.at("blocks");
  ASSERT_FALSE(blocks.empty());
  for (const auto& block : blocks) EXPECT_NE(block.at("type"), "actions") << "no buttons left";

  WebApi api(options_for(slack));
  const WebApiResult read = api.read_message("C0INCIDENT", "1700000000.000100");
  ASSERT_TRUE(read.ok) << read.error;
  EXPECT_EQ(read.json.at("text"), "☑️ Done: Add alert — marked by @bob");
}

TEST(SlackDeliverer, AnUpdateKeepsTheButtonsItStillHas) {
  SlackStandIn slack;
  slack.add_message("C0INCIDENT", "1700000000.000100", "UBOTSCRIBE", "⏰ reminder");
  SlackDeliverer deliverer(options_for(slack));
  OutgoingMessage m = text_message("💤 Snoozed until 2026-11-21 14:04:00 UTC by @bob");
  m.buttons = {{"Mark done", "action.done", "42"}};
  m.replaces = "1700000000.000100";
  ASSERT_EQ(deliverer.deliver(outbox(m), std::nullopt).outcome, Outcome::kSent);
  const std::vector<SlackCall> updates = slack.calls_to("chat.update");
  ASSERT_EQ(updates.size(), 1u);
  const json& last = updates[0].json.at("blocks").back();
  ASSERT_EQ(last.at("type"), "actions");
  ASSERT_EQ(last.at("elements").size(), 1u);
  EXPECT_EQ(last.at("elements")[0].at("action_id"), "action.done");
  EXPECT_EQ(last.at("elements")[0].at("value"), "42");
}

TEST(SlackDeliverer, AnUpdateOfAMessageThatIsGoneIsPermanent) {
  SlackStandIn slack;
  SlackDeliverer deliverer(options_for(slack));
  OutgoingMessage m = text_message("☑️ Done");
  m.replaces = "1700000000.000100";
  DeliveryResult result = deliverer.deliver(outbox(m), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kPermanent);
  EXPECT_EQ(result.error, "message_not_found");
  for (const char* error : {"cant_update_message", "edit_window_closed"}) {
    slack.fail_next_error(1, error);
    result = deliverer.deliver(outbox(m), std::nullopt);
    EXPECT_EQ(result.outcome, Outcome::kPermanent) << error;
    EXPECT_EQ(result.error, error);
  }
  // Passing trouble is retried as for new messages.
  slack.fail_next(1, 429, "", {{"Retry-After", "2"}});
  result = deliverer.deliver(outbox(m), std::nullopt);
  EXPECT_EQ(result.outcome, Outcome::kRetry);
  EXPECT_EQ(result.retry_after, std::chrono::milliseconds(2000));
}

}  // namespace
}  // namespace scribe::slack
