// PlatformTraits: what the platform-neutral core needs to know about a chat platform, told
// by that platform's adapter and registered at start-up (bot/service.cpp), so that nothing
// in commands/ names a platform. Looked up by ChannelRef::platform.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace scribe {

struct PlatformTraits {
  // How users type commands there ("/timeline" or "!timeline"): help texts and hints use it.
  std::string prefix;
  // The largest piece of a document (the draft) that one posted message carries in full;
  // longer documents are posted as several messages in a thread.
  std::size_t max_message_bytes = 0;
  // Whether a reply can be shown to its caller alone (Slack's ephemeral messages). Where
  // it cannot (Matrix), every reply is a message the whole room sees, so refusals of a
  // flood are answered once per run, not once per command.
  bool private_replies = false;
};

// The traits of every platform Scribe speaks, by name. Filled before use, then read-only
// (safe to read from any thread).
class Platforms {
 public:
  void add(std::string name, PlatformTraits traits) {
    traits_[std::move(name)] = std::move(traits);
  }

  // The traits registered for `platform`; for one never registered, a neutral fallback
  // (no prefix, pieces of kFallbackMessageBytes) rather than another platform's.
  const PlatformTraits& of(std::string_view platform) const {
    const auto it = traits_.find(platform);
    return it == traits_.end() ? fallback_ : it->second;
  }

  // Small enough for any chat platform's message.
  static constexpr std::size_t kFallbackMessageBytes = 2000;

 private:
  std::map<std::string, PlatformTraits, std::less<>> traits_;
  PlatformTraits fallback_{"", kFallbackMessageBytes, false};
};

}  // namespace scribe
