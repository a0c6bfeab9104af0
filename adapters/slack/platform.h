// What the command core needs to know about Slack (see commands/platform.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "commands/platform.h"
#include "storage/model.h"

namespace scribe::slack {

// The platform name of Slack channels (ChannelRef::platform).
inline constexpr std::string_view kPlatform = "slack";

// Slash commands start with "/". A draft piece is one ``` block of a posted message, and
// Slack renders at most 3,000 characters per block: 2,800 leaves room for the fences.
inline PlatformTraits traits() { return PlatformTraits{"/", 2800, true}; }

// A channel as configured or named by an alert's label: "<team id>/<channel id>"
// ("T0123/C0456"), the ids Slack's own URLs and API use; nullopt when not that shape.
inline std::optional<ChannelRef> channel_from_config(std::string_view spec) {
  const auto slash = spec.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == spec.size()) {
    return std::nullopt;
  }
  for (const char c : spec) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/')) return std::nullopt;
  }
  if (spec.find('/', slash + 1) != std::string_view::npos) return std::nullopt;
  return ChannelRef{std::string(kPlatform), std::string(spec.substr(0, slash)),
                    std::string(spec.substr(slash + 1))};
}

}  // namespace scribe::slack
