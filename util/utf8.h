// UTF-8 at the byte level: where a character may be cut, how many characters a text has,
// whether it is valid. Chat platforms and databases count and refuse by these rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace scribe {

// A byte that continues a multi-byte sequence (10xxxxxx): no character starts there.
inline bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The length of the longest prefix of `s` of at most `max` bytes that does not end inside
// a UTF-8 sequence. 0 when even the first character is longer than `max` (or `s` starts
// with continuation bytes only).
std::size_t utf8_prefix(std::string_view s, std::size_t max);

// That prefix, as a string.
std::string truncate_utf8(std::string_view s, std::size_t max);

// The number of characters (code points) of `s`: bytes that are not continuations.
std::size_t count_code_points(std::string_view s);

// Appends the UTF-8 encoding of `code_point`; values past U+10FFFF append nothing.
void append_utf8(std::string& out, std::uint32_t code_point);

// The length of the valid UTF-8 sequence that starts at s[i] (1 to 4), with its code point
// in `code_point`; 0 when the bytes there are not one (a stray continuation byte, a
// truncated sequence, an overlong form, a surrogate, past U+10FFFF). Requires i < s.size().
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& code_point);

// Strict RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF.
bool valid_utf8(std::string_view s);

}  // namespace scribe
