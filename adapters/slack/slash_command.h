// Slack slash commands in: a parsed (and already verified) form becomes a platform-neutral
// Invocation, with Slack's escapes (<@U1|ann>, <#C1|x>, <url|label>, <!here>, &amp;) turned
// into plain text. The answer's layout (Block Kit) is in blocks.h.
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

// "&amp;" "&lt;" "&gt;" -> "&" "<" ">" (the inverse of escape_mrkdwn); nothing else.
std::string unescape_mrkdwn(std::string_view text);

}  // namespace scribe::slack
