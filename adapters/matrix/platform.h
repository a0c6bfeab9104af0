// What the command core needs to know about Matrix (see commands/platform.h), and how
// Matrix ids become the core's channels and people.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "commands/platform.h"
#include "storage/model.h"

namespace scribe::matrix {

// The platform name of Matrix channels (ChannelRef::platform).
inline constexpr std::string_view kPlatform = "matrix";

// Commands are room messages starting with "!". An event may be at most 65,536 bytes, and
// a draft piece travels twice in it (the Markdown body and its HTML, which tables and
// escapes make a few times longer), so 8,000 bytes per piece stays well inside.
// Every reply is a room message: none is private to its caller.
inline PlatformTraits traits() { return PlatformTraits{"!", 8000, false}; }

// Matrix identifiers as the core sees them.
// "@alice:example.org" -> "alice" (the part between the sigil and the first ':').
std::string localpart_of(std::string_view user_id);
// "!abc:example.org" -> "example.org"; "" when the id carries no server name.
std::string server_name_of(std::string_view id);
// ChannelRef{"matrix", server_name_of(room_id), room_id}.
ChannelRef channel_of(std::string_view room_id);
// Person{user_id, localpart_of(user_id)}.
Person person_of(std::string_view user_id);
// A room as configured or named by an alert's label: its id ("!abc:example.org"); nullopt
// when not one (an alias "#room:server" would need a lookup, so it is refused).
std::optional<ChannelRef> channel_from_config(std::string_view spec);

}  // namespace scribe::matrix
