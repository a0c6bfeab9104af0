// What a reader sees of an HTML fragment, for the tests that check that user text shows
// exactly as typed: tags stripped, entities decoded, runs of whitespace made one space.
// Deliberately small: it reads the HTML that cmark-gfm writes (quoted attributes, no
// comments or CDATA, elements of one name not nested), not arbitrary HTML.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "util/text.h"

namespace scribe::testing {

// Appends code point `cp` as UTF-8.
inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Runs of spaces, tabs and line breaks become one space; none at either end.
inline std::string collapse_whitespace(std::string_view s) {
  std::string out;
  bool space = false;
  for (const char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// The text of `html` as shown: tags removed, entities (named ones cmark writes, decimal
// and hexadecimal) decoded, whitespace collapsed.
inline std::string visible_text(std::string_view html) {
  std::string text;
  for (std::size_t i = 0; i < html.size();) {
    const char c = html[i];
    if (c == '<') {
      const std::size_t close = html.find('>', i);
      if (close == std::string_view::npos) break;
      // Block elements separate what is in them; inline ones (a, code, em, strong) do not.
      std::string_view name = html.substr(i + 1, close - i - 1);
      if (name.starts_with('/')) name.remove_prefix(1);
      name = name.substr(0, name.find_first_of(" /"));
      static constexpr std::string_view kInline[] = {"a", "code", "em", "strong", "del", "span"};
      if (std::find(std::begin(kInline), std::end(kInline), name) == std::end(kInline)) {
        text.push_back(' ');
      }
      i = close + 1;
      continue;
    }
    if (c == '&') {
      const std::size_t semi = html.find(';', i);
      const std::string_view entity =
          semi == std::string_view::npos ? std::string_view{} : html.substr(i + 1, semi - i - 1);
      std::uint32_t cp = 0;
      bool known = true;
      if (entity == "amp") {
        cp = '&';
      } else if (entity == "lt") {
        cp = '<';
      } else if (entity == "gt") {
        cp = '>';
      } else if (entity == "quot") {
        cp = '"';
      } else if (entity.starts_with("#x") || entity.starts_with("#X")) {
        cp = static_cast<std::uint32_t>(std::stoul(std::string(entity.substr(2)), nullptr, 16));
      } else if (entity.starts_with("#")) {
        cp = static_cast<std::uint32_t>(std::stoul(std::string(entity.substr(1))));
      } else {
        known = false;
      }
      if (known) {
        append_utf8(text, cp);
        i = semi + 1;
        continue;
      }
    }
    text.push_back(c);
    ++i;
  }
  return collapse_whitespace(text);
}

// The inner HTML of every <tag ...>...</tag> in `html`, in order (not nested).
inline std::vector<std::string> elements(std::string_view html, std::string_view tag) {
  std::vector<std::string> out;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  for (std::size_t at = html.find(open); at != std::string_view::npos;
       at = html.find(open, at + 1)) {
    const char after = at + open.size() < html.size() ? html[at + open.size()] : '\0';
    if (after != '>' && after != ' ') continue;  // <th> is not <thead>
    const std::size_t start = html.find('>', at) + 1;
    const std::size_t end = html.find(close, start);
    if (end == std::string_view::npos) break;
    out.emplace_back(html.substr(start, end - start));
  }
  return out;
}

// What a reader should see of `typed` in a list item or paragraph: the display form
// (util/text.h), whitespace collapsed.
inline std::string expected_block(std::string_view typed) {
  return collapse_whitespace(display_text(typed));
}

// The same for a table cell, where each run of line breaks shows as " ⏎ ".
inline std::string expected_cell(std::string_view typed) {
  const std::string safe = display_text(typed);
  std::string_view s = safe;
  const std::size_t first = s.find_first_not_of("\r\n");
  if (first == std::string_view::npos) return "";
  s = s.substr(first, s.find_last_not_of("\r\n") - first + 1);
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\r' && s[i] != '\n') {
      out.push_back(s[i]);
      continue;
    }
    out += " ⏎ ";
    while (i + 1 < s.size() && (s[i + 1] == '\r' || s[i + 1] == '\n')) ++i;
  }
  return collapse_whitespace(out);
}

}  // namespace scribe::testing
