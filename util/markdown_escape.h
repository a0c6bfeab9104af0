// User text as Markdown that shows it exactly as typed: every character that CommonMark, or
// the GFM table extension, would read as markup is backslash-escaped, and links appear only
// where the caller writes them. Used for postmortem drafts (postmortem/markdown.h) and for
// chat replies on platforms that render Markdown (Matrix). Pure functions, callable from
// any thread.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace scribe {

// Appends one line of display-safe text (util/text.h) with its inline markup escaped: code
// spans, emphasis, links and images, autolinks and raw HTML, table cells, entities ("&amp;",
// not "AT&T"), backslashes before punctuation or at the end, '_' outside words. Line-start
// constructs are append_markdown_line's. `hashes`: also escape '#', for places inside a
// heading, where a trailing "#" would be taken as its closing sequence.
void append_markdown_escaped(fmt::memory_buffer& out, std::string_view line, bool hashes);

// Appends one line of display-safe text as a block of its own: blanks around it dropped
// (four leading ones would make a code block, two trailing ones a hard break), a heading,
// quote, list, rule, underline or fence marker at its start escaped, the rest as
// append_markdown_escaped. `code_spans`: text between matching backtick runs stays a code
// span (chat replies, where Scribe quotes commands that way).
void append_markdown_line(fmt::memory_buffer& out, std::string_view line, bool code_spans);

// A chat reply's text (one line or several) as Markdown that shows it as written:
// display_text (util/text.h) first, then each line as append_markdown_line with `code`
// spans kept.
std::string escape_chat_markdown(std::string_view text);

// A URL as the destination of a Markdown link written by Scribe: only http:// and https://
// URLs without spaces or control characters are kept (empty otherwise: the caller shows no
// link), and the characters that could end the destination or a table cell early
// ( ) < > | \ ` and quotes are percent-encoded (inside a link destination nothing else is
// markup).
std::string markdown_link_destination(std::string_view url);

}  // namespace scribe
