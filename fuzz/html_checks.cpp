#include "fuzz/html_checks.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "fuzz/fuzz_support.h"

namespace scribe::fuzz {
namespace {

constexpr std::array<std::string_view, 32> kTags = {
    "html", "head", "meta", "title",  "style", "body",  "h1",         "h2",    "h3", "h4", "h5",
    "h6",   "p",    "ul",   "ol",     "li",    "table", "thead",      "tbody", "tr", "th", "td",
    "code", "pre",  "em",   "strong", "a",     "img",   "blockquote", "br",    "hr", "del"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

}  // namespace

void check_html(std::string_view html, std::string_view source) {
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string_view::npos) {
    const std::string_view rest = html.substr(i);
    if (rest.starts_with("<!DOCTYPE html>")) {
      i += 1;
      continue;
    }
    if (rest.starts_with("<!--")) {
      // cmark's stand-in for raw HTML it refused to pass through.
      FUZZ_CHECK(rest.starts_with("<!-- raw HTML omitted -->"), source);
      i += 4;
      continue;
    }
    std::size_t p = 1;
    if (p < rest.size() && rest[p] == '/') ++p;
    std::size_t end = p;
    while (end < rest.size() && name_char(rest[end])) ++end;
    const std::string name = lower(rest.substr(p, end - p));
    FUZZ_CHECK(std::find(kTags.begin(), kTags.end(), name) != kTags.end(), source);
    // Attributes: name="value" pairs as cmark writes them (values escaped, so a quote
    // cannot end one early). No handlers, and no URL that runs code.
    std::size_t q = end;
    for (;;) {
      while (q < rest.size() && rest[q] == ' ') ++q;
      FUZZ_CHECK(q < rest.size(), source);
      if (rest[q] == '>' || rest.substr(q).starts_with("/>")) break;
      std::size_t attr_end = q;
      while (attr_end < rest.size() && (name_char(rest[attr_end]) || rest[attr_end] == '-')) {
        ++attr_end;
      }
      const std::string attr = lower(rest.substr(q, attr_end - q));
      FUZZ_CHECK(!attr.empty() && !attr.starts_with("on"), source);
      q = attr_end;
      if (q < rest.size() && rest[q] == '=') {
        FUZZ_CHECK(q + 1 < rest.size() && rest[q + 1] == '"', source);
        const std::size_t value_end = rest.find('"', q + 2);
        FUZZ_CHECK(value_end != std::string_view::npos, source);
        const std::string value = lower(rest.substr(q + 2, value_end - q - 2));
        if (attr == "href" || attr == "src") {
          for (std::string_view scheme : {"javascript:", "vbscript:", "file:", "data:text"}) {
            FUZZ_CHECK(!value.starts_with(scheme), source);
          }
        }
        q = value_end + 1;
      }
    }
    const std::size_t close = rest.find('>', q);
    i += close + 1;
  }
}

}  // namespace scribe::fuzz
