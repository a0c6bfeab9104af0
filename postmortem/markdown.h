// Renders a postmortem draft as GitHub-flavoured Markdown: title and facts, summary,
// impact, key durations, timeline, root cause and whys, what went well / wrong / lucky,
// lessons, action items. Empty sections say so and name the command that fills them.
// User text is escaped only where it would break the document's structure (table
// cells, list items), so people's own `code` and *emphasis* survive.
#pragma once

#include <string>
#include <string_view>

#include "postmortem/draft.h"

namespace scribe {

// `command_prefix` is how users type commands on the platform the draft is posted to:
// "/" on Slack, "!" on Matrix.
std::string render_markdown(const Draft& draft, std::string_view command_prefix = "/");

}  // namespace scribe
