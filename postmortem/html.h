// Markdown → HTML with GitHub-flavoured tables (cmark-gfm), for the API's
// postmortem.html and for Matrix's formatted_body. Raw HTML in the input is escaped
// (cmark's safe mode) and bare URLs stay text (no autolink extension), so what users
// typed, escaped by the Markdown renderer, cannot become markup or links.
//
// Memory: cmark's tree takes about twenty times the Markdown it holds (a node per cell
// and per escaped character), so a large document is parsed in pieces of about
// `kHtmlPieceBytes`, cut before a heading or between table rows; each piece's HTML is
// appended to one output buffer and its tree freed before the next. For Markdown as
// Scribe writes it (no fenced code, no link reference definitions) the result is the
// same as parsing the whole document at once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace scribe {

inline constexpr std::size_t kHtmlPieceBytes = 64 * 1024;

// `s` with & < > " ' escaped: safe as HTML text and inside quoted attributes.
std::string escape_html(std::string_view s);

// The HTML fragment for `markdown`, appended to `out`.
void append_markdown_html(std::string& out, std::string_view markdown,
                          std::size_t piece_bytes = kHtmlPieceBytes);
std::string markdown_to_html(std::string_view markdown);

// A whole standalone page around the fragment, with a minimal readable stylesheet,
// built in one buffer.
std::string html_page(std::string_view title, std::string_view markdown);

}  // namespace scribe
