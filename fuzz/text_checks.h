// Checks on text that the fuzz targets apply to what the code under test produces.
#pragma once

#include <string_view>

namespace scribe::fuzz {

// UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing past U+10FFFF.
// Written independently of the parsers under test, so it can disagree with them.
bool valid_utf8(std::string_view s);

// Every '&' in `s` starts one of Slack's three escapes (&amp; &lt; &gt;) and `s` holds no
// raw '<' or '>': the text is safe as Slack mrkdwn.
bool slack_escaped(std::string_view s);

}  // namespace scribe::fuzz
