// The promises of a Slack message body Scribe renders (adapters/slack/blocks.h),
// checked on the JSON text: within Slack's limits, every piece of text escaped as mrkdwn,
// no code block that user text could close, and no UTF-8 sequence cut in two.
#pragma once

#include <string_view>

#include "adapters/slack/blocks.h"

namespace scribe::fuzz {

// Aborts (see FUZZ_CHECK) when `body` breaks a promise. `source`: the user text the reply
// was made from, shown in the report; a U+FFFD in the body is a cut sequence unless the
// source had one.
void check_slack_body(std::string_view body, const slack::RenderOptions& options,
                      std::string_view source);

}  // namespace scribe::fuzz
