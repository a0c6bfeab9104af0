// Reading a Matrix room message the way the command core needs it: its text, with mention
// pills and bare user ids turned into "@name" and the people collected. Pure functions,
// callable from any thread.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "storage/model.h"

namespace scribe::matrix {

// A message's text with mentions translated for the handler: pills
// (<a href="https://matrix.to/#/@alice:example.org">…</a>) in `formatted_body` (HTML, used
// when present) and bare user ids in the text become "@alice"; each person is appended
// to `mentions` once. HTML is reduced to its text (<br> and block ends to newlines,
// entities decoded, <mx-reply> dropped); a plain body loses its reply fallback.
// Whitespace at both ends is trimmed.
std::string message_text(const nlohmann::json& content, std::vector<Person>& mentions);

// What a marked message keeps as links: its matrix.to permalink and, for an m.file,
// m.image, m.video or m.audio message, the file through the homeserver's media download
// (`homeserver_url`; no file link when it is empty or the url is not an mxc:// URI).
std::vector<EventLink> message_links(const std::string& room_id, const std::string& event_id,
                                     const nlohmann::json& content,
                                     std::string_view homeserver_url);

}  // namespace scribe::matrix
