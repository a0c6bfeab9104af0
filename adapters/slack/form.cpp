#include "adapters/slack/form.h"

#include <algorithm>
#include <cctype>
#include <exception>

#include "util/percent.h"
#include "util/utf8.h"

namespace scribe::slack {

namespace {

// What may stand unescaped in a query (RFC 3986: pchar / "/" / "?", '%' aside): unreserved,
// sub-delims (with '&', '=' and '+'), ':', '@', '/', '?'.
constexpr bool is_query_char(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '/':
    case '?':
      return true;
    default:
      return false;
  }
}

bool is_hex_digit(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// Every byte a query character or the start of a two-hex-digit escape.
bool well_formed(std::string_view body) {
  for (std::size_t i = 0; i < body.size(); ++i) {
    const auto c = static_cast<unsigned char>(body[i]);
    if (c == '%') {
      if (i + 2 >= body.size()) return false;
      if (!is_hex_digit(body[i + 1]) || !is_hex_digit(body[i + 2])) return false;
      i += 2;
    } else if (!is_query_char(c)) {
      return false;
    }
  }
  return true;
}

}  // namespace

// Decoded here rather than with Boost.URL's parse_query: the slash command's form is parsed
// on a listener thread for every command, and the library's copy, second measuring pass and
// per-parameter views cost about 6% of the server's time under load. The rules are the
// same (its query grammar; tests/unit/slack_form_test.cpp checks the two agree).
FormResult parse_form(std::string_view body) {
  FormResult result;
  try {
    if (!well_formed(body)) {
      result.error = "invalid percent-escape, or a character that must be percent-encoded";
      return result;
    }
    Form form;
    std::size_t begin = 0;
    while (begin <= body.size()) {
      const std::size_t amp = std::min(body.find('&', begin), body.size());
      const std::string_view pair = body.substr(begin, amp - begin);
      begin = amp + 1;
      const std::size_t eq = pair.find('=');
      std::string key = percent_decode(pair.substr(0, eq), /*plus_is_space=*/true);
      if (key.empty()) continue;
      std::string value = eq == std::string_view::npos
                              ? std::string()
                              : percent_decode(pair.substr(eq + 1), /*plus_is_space=*/true);
      if (key.find('\0') != std::string::npos || value.find('\0') != std::string::npos) {
        result.error = "a decoded NUL character";
        return result;
      }
      if (!valid_utf8(key) || !valid_utf8(value)) {
        result.error = "text is not valid UTF-8";
        return result;
      }
      form.emplace(std::move(key), std::move(value));  // keeps the first on duplicates
    }
    result.form = std::move(form);
  } catch (const std::exception&) {
    // Only allocation can throw here; the caller still gets an answer, not an exception.
    result.form.reset();
    result.error = "out of memory while decoding";
  }
  return result;
}

std::string_view form_value(const Form& form, std::string_view key) {
  auto it = form.find(key);
  return it == form.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace scribe::slack
