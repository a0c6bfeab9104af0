#include "util/text.h"

#include <cstdint>

#include "util/utf8.h"

namespace scribe {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool needs_marker(char32_t cp) {
  if (cp < 0x20) return cp != '\t' && cp != '\n' && cp != '\r';
  if (cp >= 0x7F && cp <= 0x9F) return true;
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// "‹U+202E›": at least four upper-case hex digits, as Unicode writes code points.
std::string marker(char32_t cp) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string digits;
  for (auto v = static_cast<std::uint32_t>(cp); v != 0 || digits.size() < 4; v >>= 4) {
    digits.insert(digits.begin(), kHex[v & 0xF]);
  }
  return "\u2039U+" + digits + "\u203A";
}

// Calls `keep(begin, end)` for runs shown as they are and `replace(text)` for the rest.
template <typename Keep, typename Replace>
void scan(std::string_view s, Keep keep, Replace replace) {
  std::size_t run = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x20 && b < 0x7F) {  // printable ASCII: by far the most text
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t n = decode_utf8(s, i, cp);
    if (n != 0 && !needs_marker(cp)) {
      i += n;
      continue;
    }
    if (!keep(run, i)) return;
    if (n == 0) {
      replace(kReplacement);
      i += 1;
    } else {
      replace(marker(cp));
      i += n;
    }
    run = i;
  }
  keep(run, s.size());
}

}  // namespace

bool is_display_safe(std::string_view s) {
  bool safe = true;
  scan(
      s,
      [&](std::size_t begin, std::size_t end) {
        if (end < s.size() || begin > 0) safe = false;
        return safe;
      },
      [](std::string_view) {});
  return safe;
}

void append_display_text(std::string& out, std::string_view s) {
  scan(
      s,
      [&](std::size_t begin, std::size_t end) {
        out.append(s.data() + begin, end - begin);
        return true;
      },
      [&](std::string_view replacement) { out.append(replacement); });
}

std::string display_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_display_text(out, s);
  return out;
}

}  // namespace scribe
