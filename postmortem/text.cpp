#include "postmortem/text.h"

#include <fmt/format.h>

namespace scribe {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the valid UTF-8 sequence at s[i] (decoded into `cp`), or 0 if there is none.
std::size_t decode(std::string_view s, std::size_t i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t n = 0;
  char32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool needs_marker(char32_t cp) {
  if (cp < 0x20) return cp != '\t' && cp != '\n' && cp != '\r';
  if (cp >= 0x7F && cp <= 0x9F) return true;
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
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
    const std::size_t n = decode(s, i, cp);
    if (n != 0 && !needs_marker(cp)) {
      i += n;
      continue;
    }
    if (!keep(run, i)) return;
    if (n == 0) {
      replace(kReplacement);
      i += 1;
    } else {
      replace(fmt::format("\u2039U+{:04X}\u203A", static_cast<std::uint32_t>(cp)));
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
