// ASCII string helpers shared by every layer, one copy each. They work on bytes: UTF-8
// text passes through unchanged except for its ASCII letters and whitespace.
#pragma once

#include <string>
#include <string_view>

namespace scribe {

// `s` without ASCII whitespace (space, \t, \r, \n, \v, \f) at either end.
std::string_view trim(std::string_view s);

// ASCII letters lower-cased; every other byte unchanged (independent of the C locale).
char lower(char c);
std::string lower(std::string_view s);

// Equality and prefix test ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);
bool starts_with_ci(std::string_view s, std::string_view prefix);

}  // namespace scribe
