#include "postmortem/html.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>

#include <cstdlib>
#include <iterator>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

namespace scribe {

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

namespace {

using Parser = std::unique_ptr<cmark_parser, decltype(&cmark_parser_free)>;
using Node = std::unique_ptr<cmark_node, decltype(&cmark_node_free)>;

constexpr int kOptions = CMARK_OPT_DEFAULT;  // safe: raw HTML is not passed through

// The HTML of `head` followed by `body`, parsed as one document, appended to `out`.
void render_piece(std::string& out, std::string_view head, std::string_view body) {
  cmark_gfm_core_extensions_ensure_registered();
  Parser parser(cmark_parser_new(kOptions), &cmark_parser_free);
  // Tables are an extension: without attaching it, GFM tables stay paragraphs of pipes.
  // Only tables: "autolink" would turn a URL a user typed into a live link however it is
  // escaped, and Scribe writes no strikethrough.
  if (cmark_syntax_extension* ext = cmark_find_syntax_extension("table")) {
    cmark_parser_attach_syntax_extension(parser.get(), ext);
  }
  cmark_parser_feed(parser.get(), head.data(), head.size());
  cmark_parser_feed(parser.get(), body.data(), body.size());
  Node doc(cmark_parser_finish(parser.get()), &cmark_node_free);
  if (!doc) throw std::runtime_error("markdown parse failed");
  char* html =
      cmark_render_html(doc.get(), kOptions, cmark_parser_get_syntax_extensions(parser.get()));
  if (html == nullptr) throw std::runtime_error("markdown render failed");
  doc.reset();  // the tree is the large part: gone before the text is copied
  out.append(html);
  std::free(html);
}

bool is_delimiter_row(std::string_view line) {
  return line.starts_with('|') && line.find('-') != std::string_view::npos &&
         line.find_first_not_of("|:- \t\r\n") == std::string_view::npos;
}

// How cmark-gfm opens and closes a table's body; a piece that continues a table is parsed
// with the table's head again, and these seams are cut away.
constexpr std::string_view kTableStart = "<table>\n<thead>\n";
constexpr std::string_view kBodyStart = "</thead>\n<tbody>\n";
constexpr std::string_view kTableEnd = "</tbody>\n</table>\n";

// Renders `md` in pieces; false (with `out` unchanged) if cmark's output did not have the
// expected seams, so the caller can parse the document whole instead.
bool render_in_pieces(std::string& out, std::string_view md, std::size_t piece_bytes) {
  const std::size_t out_start = out.size();
  std::size_t piece = 0;        // where the current piece starts in md
  std::string_view table_head;  // header and delimiter rows of the table being read
  bool in_table = false;
  bool continues_table = false;  // the current piece starts inside a table
  std::size_t body_rows = 0;     // rows of that table in the current piece
  bool previous_blank = true;
  std::string_view previous_line;

  const auto flush = [&](std::size_t end, bool cut_in_table) {
    const std::size_t before = out.size();
    render_piece(out, continues_table ? table_head : std::string_view{},
                 md.substr(piece, end - piece));
    if (continues_table) {
      std::string_view html(out.data() + before, out.size() - before);
      const std::size_t body = html.find(kBodyStart);
      if (!html.starts_with(kTableStart) || body == std::string_view::npos) return false;
      out.erase(before, body + kBodyStart.size());
    }
    if (cut_in_table) {
      if (!std::string_view(out).substr(before).ends_with(kTableEnd)) return false;
      out.resize(out.size() - kTableEnd.size());
    }
    piece = end;
    continues_table = cut_in_table;
    body_rows = 0;
    return true;
  };

  for (std::size_t pos = 0; pos < md.size();) {
    const std::size_t eol = md.find('\n', pos);
    const std::size_t next = eol == std::string_view::npos ? md.size() : eol + 1;
    const std::string_view line = md.substr(pos, next - pos);
    const bool row = line.starts_with('|');
    if (in_table && !row) in_table = false;
    if (!in_table && row && is_delimiter_row(line) && previous_line.starts_with('|')) {
      in_table = true;
      body_rows = 0;
      table_head = md.substr(static_cast<std::size_t>(previous_line.data() - md.data()),
                             previous_line.size() + line.size());
    } else {
      // A row of a table under way (with a row of it before, so neither half is empty),
      // or a heading after a blank line: nothing before it can change how it, or anything
      // after it, is read.
      const bool table_row = in_table && row && body_rows > 0;
      const bool heading = !in_table && previous_blank && line.starts_with('#');
      if (pos - piece >= piece_bytes && (table_row || heading) && !flush(pos, table_row)) {
        out.resize(out_start);
        return false;
      }
      if (in_table && row) ++body_rows;
    }
    previous_blank = line.find_first_not_of(" \t\r\n") == std::string_view::npos;
    previous_line = line;
    pos = next;
  }
  if (piece < md.size() || continues_table) {
    if (!flush(md.size(), false)) {
      out.resize(out_start);
      return false;
    }
  }
  return true;
}

}  // namespace

void append_markdown_html(std::string& out, std::string_view markdown, std::size_t piece_bytes) {
  if (markdown.size() > piece_bytes && render_in_pieces(out, markdown, piece_bytes)) return;
  render_piece(out, {}, markdown);
}

std::string markdown_to_html(std::string_view markdown) {
  std::string out;
  append_markdown_html(out, markdown);
  return out;
}

std::string html_page(std::string_view title, std::string_view markdown) {
  constexpr std::string_view kHead =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n"
      "<style>body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;"
      "padding:0 1rem;line-height:1.45}}table{{border-collapse:collapse}}"
      "th,td{{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}}"
      "th{{background:#f4f4f4}}</style>\n</head>\n<body>\n";
  constexpr std::string_view kTail = "</body>\n</html>\n";
  std::string page;
  // Tags and entities make the HTML somewhat larger than its Markdown.
  page.reserve(kHead.size() + title.size() + markdown.size() + markdown.size() / 4 + kTail.size());
  fmt::format_to(std::back_inserter(page), fmt::runtime(kHead), escape_html(title));
  append_markdown_html(page, markdown);
  page.append(kTail);
  return page;
}

}  // namespace scribe
