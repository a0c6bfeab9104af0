// Block Kit layout: how a Reply or an OutgoingMessage looks in Slack. The slash-command
// answer, and the chat.postMessage / chat.update payloads the outbox sends, always within
// Slack's block and text limits however long the reply or the draft it carries. Pure
// functions: no I/O, callable from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "commands/invocation.h"
#include "commands/outgoing.h"

namespace scribe::slack {

// Slack's mandatory mrkdwn escaping of the three control characters & < >.
std::string escape_mrkdwn(std::string_view text);

// Slack's limits and how much of a draft one reply shows. Sizes are in bytes, which is
// never less than Slack's character count, so staying within them keeps Slack happy.
struct RenderOptions {
  std::size_t max_blocks = 50;             // Slack: at most 50 blocks per message
  std::size_t max_section_chars = 3000;    // Slack: at most 3000 characters per section text
  std::size_t max_code_chunk = 2900;       // escaped draft content per ``` block
  std::size_t max_document_chars = 12000;  // draft bytes shown in one message
};

// The slash-command response body: {"response_type", "text", "blocks"}. `text` (the
// notification fallback) is reply.text, escaped and capped at one section's length. The
// first section(s) hold reply.text and its details; a document follows as ``` blocks split
// at line boundaries (before a "## " heading when possible, never inside a UTF-8
// sequence), with a closing note saying how much was shown when it had to be cut.
// Mentions in the text are never re-parsed by Slack.
std::string render_reply(const Reply& reply, const RenderOptions& options = {});

// What a message Scribe posts on its own (chat.postMessage, see web_api.h) adds to that layout.
struct BlockExtras {
  // mrkdwn put before reply.text in the fallback text and the first section, e.g. mentions
  // ("<@U1> "). Already escaped and short: it is never split.
  std::string lead;
  // Blocks of options.max_blocks left free for the caller (e.g. an "actions" block).
  std::size_t reserved_blocks = 0;
};

// {"text", "blocks"} laid out as render_reply lays out a reply, within the same limits. A
// truncated document's note says where the full draft is (`scribe draft`, the API).
nlohmann::json render_blocks(const Reply& reply, const RenderOptions& options = {},
                             const BlockExtras& extras = {});

// How much of a document one posted message carries; the rest is cut with a note. Slack
// refuses blocks of more than about 13,000 characters in all (msg_blocks_too_long), so split
// longer drafts over several messages (a thread).
inline constexpr std::size_t kPostedDocumentBytes = 11000;

// The chat.postMessage payload for `message` in `channel`: "text" (the notification
// fallback, escaped), "blocks" laid out like a slash-command reply (text and details in
// sections, the document in ``` blocks of at most 3000 characters each), the buttons in
// "actions" blocks (action_id = Button::action, value = Button::value), "thread_ts" when
// `thread_ts` is set, "unfurl_links": false. People in `notify` with a Slack user id are
// mentioned ("<@U1>") before the text; others by name, which pings nobody.
nlohmann::json message_payload(std::string_view channel, const OutgoingMessage& message,
                               const std::optional<std::string>& thread_ts = {});

// The chat.update payload that replaces message `ts` of `channel` with `message`: "channel",
// "ts", "text" and "blocks" as message_payload() lays them out. "blocks" is always present
// (empty when there are none), since Slack keeps a message's old blocks, and with them its
// buttons, when an update leaves "blocks" out.
nlohmann::json update_payload(std::string_view channel, std::string_view ts,
                              const OutgoingMessage& message);

}  // namespace scribe::slack
