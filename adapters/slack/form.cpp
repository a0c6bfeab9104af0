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

// Builds a Form's buffer and index; the only writer of its private parts.
struct FormBuilder {
  // Keeps the first of each key, in key order.
  static void finish(Form& form) {
    auto& index = form.index_;
    const auto key_less = [&](const Form::Entry& a, const Form::Entry& b) {
      return form.key_of(a) < form.key_of(b);
    };
    std::stable_sort(index.begin(), index.end(), key_less);
    const auto same_key = [&](const Form::Entry& a, const Form::Entry& b) {
      return form.key_of(a) == form.key_of(b);
    };
    index.erase(std::unique(index.begin(), index.end(), same_key), index.end());
  }
  static std::string& text(Form& form) { return form.text_; }
  static std::vector<Form::Entry>& index(Form& form) { return form.index_; }
};

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
    // Offsets are 32-bit; a listener's body limit is far below this.
    if (body.size() > 0xFFFFFFFFu) {
      result.error = "form body too large";
      return result;
    }
    Form form;
    std::string& text = FormBuilder::text(form);
    auto& index = FormBuilder::index(form);
    text.reserve(body.size());  // decoding never lengthens
    index.reserve(static_cast<std::size_t>(std::count(body.begin(), body.end(), '&')) + 1);
    std::size_t begin = 0;
    while (begin <= body.size()) {
      const std::size_t amp = std::min(body.find('&', begin), body.size());
      const std::string_view pair = body.substr(begin, amp - begin);
      begin = amp + 1;
      const std::size_t eq = pair.find('=');
      const std::size_t key_begin = text.size();
      percent_decode_append(text, pair.substr(0, eq), /*plus_is_space=*/true);
      const std::size_t value_begin = text.size();
      if (value_begin == key_begin) continue;  // an empty key: ignored
      if (eq != std::string_view::npos) {
        percent_decode_append(text, pair.substr(eq + 1), /*plus_is_space=*/true);
      }
      const std::string_view key(text.data() + key_begin, value_begin - key_begin);
      const std::string_view value(text.data() + value_begin, text.size() - value_begin);
      if (key.find('\0') != std::string_view::npos || value.find('\0') != std::string_view::npos) {
        result.error = "a decoded NUL character";
        return result;
      }
      // Checked apart: a key and its value together could form one valid sequence.
      if (!valid_utf8(key) || !valid_utf8(value)) {
        result.error = "text is not valid UTF-8";
        return result;
      }
      index.push_back(
          {static_cast<std::uint32_t>(key_begin), static_cast<std::uint32_t>(key.size()),
           static_cast<std::uint32_t>(value_begin), static_cast<std::uint32_t>(value.size())});
    }
    FormBuilder::finish(form);
    result.form = std::move(form);
  } catch (const std::exception&) {
    // Only allocation can throw here; the caller still gets an answer, not an exception.
    result.form.reset();
    result.error = "out of memory while decoding";
  }
  return result;
}

std::optional<std::string_view> Form::find(std::string_view key) const {
  const auto it =
      std::lower_bound(index_.begin(), index_.end(), key,
                       [&](const Entry& e, std::string_view k) { return key_of(e) < k; });
  if (it == index_.end() || key_of(*it) != key) return std::nullopt;
  return value_of(*it);
}

bool operator==(const Form& a, const Form& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::string_view form_value(const Form& form, std::string_view key) {
  return form.find(key).value_or(std::string_view());
}

}  // namespace scribe::slack
