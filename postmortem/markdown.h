// Renders a postmortem draft as GitHub-flavoured Markdown. The whole draft is the default
// template (postmortem/templates/default.md.mustache, template.h); a draft shortened for a
// chat message is written here, section by section within a byte budget, which a template
// cannot do, and reads exactly as the template's wherever the whole draft fits. The layout: title
// and facts, summary, impact, key durations, timeline, root cause and whys, what went well / wrong
// / lucky, lessons, action items. Empty sections say so and name the command that fills them. User
// text is text: every character that Markdown would read as markup is backslash-escaped
// (util/markdown_escape.h), so the draft (and the HTML made from it, html.h) shows exactly what was
// typed, and links appear only where Scribe writes them. Before escaping, text goes through
// display_text (util/text.h): invalid UTF-8 and bidi or control characters do not reach the reader.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "postmortem/draft.h"

namespace scribe {

// What a chat message shows of a draft at most (`max_bytes` below): Slack shows about
// 12,000 characters of a reply and Matrix events are capped at 64 KiB with their HTML.
inline constexpr std::size_t kChatDraftBytes = 10000;

// `command_prefix` is how users type commands on the platform the draft is posted to:
// "/" on Slack, "!" on Matrix. With `max_bytes` > 0 and a draft longer than that, the
// draft is shortened to about `max_bytes`: every section stays, long lists show their
// first items and how many are left out, the timeline its beginning and end, and a line
// says where the whole draft is (`scribe draft`, the API). Memory stays about `max_bytes`.
std::string render_markdown(const Draft& draft, std::string_view command_prefix = "/",
                            std::size_t max_bytes = 0);

// The whole draft as the built-in writer makes it, without the template: the reference the
// default template is tested against byte for byte (postmortem_default_template_test).
std::string render_markdown_reference(const Draft& draft, std::string_view command_prefix = "/");

}  // namespace scribe
