#include "postmortem/html.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

namespace scribe {
namespace {}  // namespace

std::string escape_html(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string markdown_to_html(std::string_view markdown) {
  cmark_gfm_core_extensions_ensure_registered();
  const int options = CMARK_OPT_DEFAULT;  // safe: raw HTML is not passed through
  std::unique_ptr<cmark_parser, decltype(&cmark_parser_free)> parser(cmark_parser_new(options),
                                                                     &cmark_parser_free);
  // Tables are an extension: without attaching it, GFM tables stay paragraphs of pipes.
  for (const char* name : {"table", "strikethrough", "autolink"}) {
    if (cmark_syntax_extension* ext = cmark_find_syntax_extension(name)) {
      cmark_parser_attach_syntax_extension(parser.get(), ext);
    }
  }
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  std::unique_ptr<cmark_node, decltype(&cmark_node_free)> doc(cmark_parser_finish(parser.get()),
                                                              &cmark_node_free);
  if (!doc) throw std::runtime_error("markdown parse failed");
  char* html =
      cmark_render_html(doc.get(), options, cmark_parser_get_syntax_extensions(parser.get()));
  std::string out(html);
  std::free(html);
  return out;
}

std::string html_page(std::string_view title, std::string_view markdown) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n"
      "<style>body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;"
      "padding:0 1rem;line-height:1.45}}table{{border-collapse:collapse}}"
      "th,td{{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}}"
      "th{{background:#f4f4f4}}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
      escape_html(title), markdown_to_html(markdown));
}

}  // namespace scribe
