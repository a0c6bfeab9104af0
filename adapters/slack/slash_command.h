// Slack slash commands in and out. Inbound: a parsed (and already verified) form becomes a
// platform-neutral Invocation, with Slack's escapes (<@U1|ann>, <#C1|x>, <url|label>,
// <!here>, &amp;) turned into plain text. Outbound: a Reply becomes the JSON body Slack
// expects as the immediate response, always within Slack's block and text limits, however
// long the reply or the draft it carries.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "adapters/slack/form.h"
#include "commands/invocation.h"

namespace scribe::slack {

struct SlashCommand {
  Invocation invocation;
  // Where delayed answers may be posted (Slack: valid 30 minutes, 5 uses); may be empty.
  std::string response_url;
};

struct SlashCommandResult {
  std::optional<SlashCommand> command;  // set on success
  std::string error;                    // on failure: short, no prefix, names missing fields

  explicit operator bool() const { return command.has_value(); }
};

// Slack's periodic certificate check ("ssl_check=1", no command): answer 200, do nothing.
bool is_ssl_check(const Form& form);

// Requires channel_id, user_id and command ("/incident" -> "incident"); team_id and
// user_name are optional (a missing name reads as the user id).
SlashCommandResult to_invocation(const Form& form, Timestamp received_at);

// Slack message text -> plain text: "<@U1|ann>" -> "@ann" (and U1 -> "@U1" when Slack
// gave no name), "<#C1|ops>" -> "#ops", "<https://x|label>" -> "https://x",
// "<!here>" -> "@here", "&amp;" "&lt;" "&gt;" -> "&" "<" ">". Mentioned people are appended
// to `mentions` once each (by id). Leading and trailing whitespace is trimmed.
std::string translate_text(std::string_view slack_text, std::vector<Person>& mentions);

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

}  // namespace scribe::slack
