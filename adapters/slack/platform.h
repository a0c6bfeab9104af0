// What the command core needs to know about Slack (see commands/platform.h).
#pragma once

#include <string_view>

#include "commands/platform.h"

namespace scribe::slack {

// The platform name of Slack channels (ChannelRef::platform).
inline constexpr std::string_view kPlatform = "slack";

// Slash commands start with "/". A draft piece is one ``` block of a posted message, and
// Slack renders at most 3,000 characters per block: 2,800 leaves room for the fences.
inline PlatformTraits traits() { return PlatformTraits{"/", 2800, true}; }

}  // namespace scribe::slack
