// Reading JSON that came from outside (platform payloads and responses, stored content),
// where any field may be missing or of another type: such a field reads as absent, and
// nothing here throws.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace scribe {

// The string at `key` of object `j`; empty when `j` is no object or the field no string.
inline std::string string_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The object at `key` of object `j`; nullptr when `j` is no object or the field no object.
inline const nlohmann::json* object_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

}  // namespace scribe
