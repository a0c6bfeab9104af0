// Percent-encoding (RFC 3986): for URL path segments and query values Scribe builds, and
// for reading the ones it is given.
#pragma once

#include <string>
#include <string_view>

namespace scribe {

// Every byte but the unreserved characters (A-Z a-z 0-9 - _ . ~) as %XX (upper-case hex):
// "!a:b" -> "%21a%3Ab". Safe for a path segment and for a query name or value.
std::string percent_encode(std::string_view s);

// As a value of an application/x-www-form-urlencoded body: percent_encode, but a space
// becomes '+'.
std::string form_encode(std::string_view s);

// %XX sequences decoded; a '%' not followed by two hex digits stays as it is. With
// `plus_is_space` (form and query encoding) '+' reads as a space.
std::string percent_decode(std::string_view s, bool plus_is_space = false);
// The same, appended to `out` (one buffer for many decoded pieces).
void percent_decode_append(std::string& out, std::string_view s, bool plus_is_space = false);

}  // namespace scribe
