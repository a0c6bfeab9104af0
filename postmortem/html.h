// Markdown → HTML with GitHub-flavoured tables (cmark-gfm), for the API's
// postmortem.html and for Matrix's formatted_body. Raw HTML in the input is escaped
// (cmark's safe mode), so user text cannot inject markup.
#pragma once

#include <string>
#include <string_view>

namespace scribe {

// `s` with & < > " ' escaped: safe as HTML text and inside quoted attributes.
std::string escape_html(std::string_view s);

// The HTML fragment for `markdown`.
std::string markdown_to_html(std::string_view markdown);

// A whole standalone page around the fragment, with a minimal readable stylesheet.
std::string html_page(std::string_view title, std::string_view markdown);

}  // namespace scribe
