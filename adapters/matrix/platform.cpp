#include "adapters/matrix/platform.h"

namespace scribe::matrix {

std::string localpart_of(std::string_view user_id) {
  if (!user_id.empty() && user_id.front() == '@') user_id.remove_prefix(1);
  return std::string(user_id.substr(0, user_id.find(':')));
}

std::string server_name_of(std::string_view id) {
  const auto colon = id.find(':');
  return colon == std::string_view::npos ? std::string() : std::string(id.substr(colon + 1));
}

ChannelRef channel_of(std::string_view room_id) {
  return ChannelRef{std::string(kPlatform), server_name_of(room_id), std::string(room_id)};
}

std::optional<ChannelRef> channel_from_config(std::string_view spec) {
  const auto colon = spec.find(':');
  if (spec.size() < 4 || spec.front() != '!' || colon == std::string_view::npos || colon == 1 ||
      colon + 1 == spec.size() || spec.find_first_of(" \t\r\n") != std::string_view::npos) {
    return std::nullopt;
  }
  return channel_of(spec);
}

Person person_of(std::string_view user_id) {
  return Person{std::string(user_id), localpart_of(user_id)};
}

}  // namespace scribe::matrix
