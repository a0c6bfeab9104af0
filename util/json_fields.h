// Reading JSON that came from outside (platform payloads and responses, stored content),
// where any field may be missing or of another type: such a field reads as absent, and
// nothing here throws.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace scribe {

// The field `key` of object `j`, of any type; nullptr when `j` is no object or has none.
inline const nlohmann::json* field_at(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it != j.end() ? &*it : nullptr;
}

// The string at `key` of object `j`; empty when `j` is no object or the field no string.
inline std::string string_at(const nlohmann::json& j, std::string_view key) {
  const nlohmann::json* x = field_at(j, key);
  return x && x->is_string() ? x->get<std::string>() : std::string();
}

// The string at `outer`.`inner` ("repository"."full_name"); empty as above.
inline std::string string_at(const nlohmann::json& j, std::string_view outer,
                             std::string_view inner) {
  const nlohmann::json* x = field_at(j, outer);
  return x ? string_at(*x, inner) : std::string();
}

// The object at `key` of object `j`; nullptr when `j` is no object or the field no object.
inline const nlohmann::json* object_at(const nlohmann::json& j, std::string_view key) {
  const nlohmann::json* x = field_at(j, key);
  return x && x->is_object() ? x : nullptr;
}

}  // namespace scribe
