#include "util/markdown_escape.h"

#include <algorithm>

#include "util/text.h"

namespace scribe {
namespace {

void put(fmt::memory_buffer& out, std::string_view s) { out.append(s.data(), s.data() + s.size()); }

bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool is_ascii_alnum(char c) { return is_ascii_alpha(c) || (c >= '0' && c <= '9'); }

bool is_ascii_punct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

}  // namespace

// Characters that mean nothing where they stand are left alone so the source stays readable.
void append_markdown_escaped(fmt::memory_buffer& out, std::string_view s, bool hashes) {
  std::size_t start = 0;
  auto escape_at = [&](std::size_t i) {
    put(out, s.substr(start, i - start));
    out.push_back('\\');
    start = i;  // the character itself follows with the next run
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    switch (c) {
      case '`':  // code spans
      case '*':  // emphasis
      case '[':  // links, images, reference definitions
      case ']':
      case '<':  // autolinks and raw HTML
      case '|':  // table cells
        escape_at(i);
        break;
      case '\\':  // an escape only before punctuation; at a line end, a hard break
        if (next == '\0' || is_ascii_punct(next)) escape_at(i);
        break;
      case '&': {  // an entity (&amp; &#60; &#x3C;) would be decoded; "AT&T" would not
        std::size_t k = i + 1;
        if (k < s.size() && s[k] == '#') ++k;
        const std::size_t name = k;
        while (k < s.size() && is_ascii_alnum(s[k])) ++k;
        if (k > name && k < s.size() && s[k] == ';') escape_at(i);
        break;
      }
      case '#':
        if (hashes) escape_at(i);
        break;
      case '_': {
        // A run of underscores between letters or digits (snake_case) cannot open or close
        // emphasis; anywhere else it can.
        std::size_t end = i;
        while (end < s.size() && s[end] == '_') ++end;
        const bool inside_word =
            i > 0 && end < s.size() && is_ascii_alnum(s[i - 1]) && is_ascii_alnum(s[end]);
        if (!inside_word) {
          for (std::size_t k = i; k < end; ++k) escape_at(k);
        }
        i = end - 1;
        break;
      }
      default:
        break;
    }
  }
  put(out, s.substr(start));
}

namespace {

// Whether a line, placed at the start of a block, would open a structure of its own
// (heading, quote, list, rule, setext underline, fence) through a character that
// append_markdown_escaped leaves alone.
bool opens_block(std::string_view line) {
  const char c = line[0];
  const char next = line.size() > 1 ? line[1] : ' ';
  const bool spaced = next == ' ' || next == '\t';
  switch (c) {
    case '#':
    case '>':
    case '=':
      return true;  // escaping these never changes how the text reads
    case '-':
    case '+':
      return spaced || next == c;  // a list marker, a rule or an underline
    case '~':
      return line.starts_with("~~~");
    default:
      break;
  }
  // "1. " or "2) ": an ordered list marker.
  const std::size_t digits = line.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos || digits > 9) return false;
  if (line[digits] != '.' && line[digits] != ')') return false;
  return digits + 1 == line.size() || line[digits + 1] == ' ' || line[digits + 1] == '\t';
}

}  // namespace

void append_markdown_line(fmt::memory_buffer& out, std::string_view line, bool code_spans) {
  // Blanks around the line are dropped: four leading ones would make it a code block, two
  // trailing ones a hard line break.
  const std::size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos) return;
  line = line.substr(first, line.find_last_not_of(" \t") - first + 1);
  if (opens_block(line)) {
    const std::size_t digits = line.find_first_not_of("0123456789");
    if (digits != 0 && digits != std::string_view::npos) {
      put(out, line.substr(0, digits));  // "1. x" becomes "1\. x"
      line.remove_prefix(digits);
    }
    out.push_back('\\');
    out.push_back(line[0]);
    line.remove_prefix(1);
  }
  if (!code_spans) return append_markdown_escaped(out, line, false);
  std::size_t text = 0;
  for (std::size_t i = 0; i < line.size();) {
    if (line[i] != '`') {
      ++i;
      continue;
    }
    const std::size_t run = std::min(line.find_first_not_of('`', i), line.size()) - i;
    // The span ends at the next run of exactly as many backticks (CommonMark); without
    // one the backticks are text and append_markdown_escaped escapes them.
    std::size_t close = i + run;
    for (;;) {
      close = line.find('`', close);
      if (close == std::string_view::npos) break;
      const std::size_t end = std::min(line.find_first_not_of('`', close), line.size());
      if (end - close == run) break;
      close = end;
    }
    if (close == std::string_view::npos) {
      i += run;
      continue;
    }
    append_markdown_escaped(out, line.substr(text, i - text), false);
    put(out, line.substr(i, close + run - i));
    i = close + run;
    text = i;
  }
  append_markdown_escaped(out, line.substr(text), false);
}

std::string markdown_link_destination(std::string_view url) {
  const bool web = url.starts_with("https://") || url.starts_with("http://");
  if (!web || url.size() > 2048) return {};
  std::string out;
  out.reserve(url.size());
  for (const char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return {};
    switch (c) {
      case '(':
      case ')':
      case '<':
      case '>':
      case '|':
      case '\\':
      case '`':
      case '"':
      case '\'':
        out += fmt::format("%{:02X}", u);
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string escape_chat_markdown(std::string_view text) {
  fmt::memory_buffer out;
  with_display_text(text, [&](std::string_view s) {
    for (bool first = true;; first = false) {
      const std::size_t nl = s.find_first_of("\r\n");
      if (!first) out.push_back('\n');
      append_markdown_line(out, s.substr(0, nl), /*code_spans=*/true);
      if (nl == std::string_view::npos) break;
      const bool crlf = s[nl] == '\r' && nl + 1 < s.size() && s[nl + 1] == '\n';
      s.remove_prefix(nl + (crlf ? 2 : 1));
    }
  });
  return fmt::to_string(out);
}

}  // namespace scribe
