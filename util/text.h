// Text people typed, made safe to show while staying recognisable. Every renderer that
// puts user text on a screen (Markdown, HTML, Slack, Matrix) passes it through here first;
// JSON does not, because it is data and keeps the exact text.
//
// What changes:
//   - bytes that are not valid UTF-8 (stray bytes, overlong forms, surrogates, beyond
//     U+10FFFF) become U+FFFD, one per byte;
//   - characters that can hide or reorder the text around them become a visible marker
//     "‹U+202E›": the bidi embeddings, overrides and isolates (U+202A–U+202E,
//     U+2066–U+2069), C0 controls other than tab, line feed and carriage return, DEL and
//     the C1 controls (U+0080–U+009F; ESC would otherwise reach a terminal through
//     `scribe draft`).
// What stays: everything else, including the bidi marks U+200E, U+200F and U+061C, which
// right-to-left writers need and which cannot move text outside their own neighbourhood.
// Pure functions, callable from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace scribe {

// True when display_text(s) == s: no repair and no marker needed (the common case).
bool is_display_safe(std::string_view s);

// `s` as described above.
std::string display_text(std::string_view s);
void append_display_text(std::string& out, std::string_view s);

// Calls `fn(std::string_view)` with display_text(s), without a copy in the common case.
template <typename Fn>
void with_display_text(std::string_view s, Fn&& fn) {
  if (is_display_safe(s)) return std::forward<Fn>(fn)(s);
  const std::string safe = display_text(s);
  std::forward<Fn>(fn)(std::string_view(safe));
}

}  // namespace scribe
