#include "storage/row_readers.h"

#include <nlohmann/json.hpp>

namespace scribe::rows {

std::optional<std::string> links_json(const std::vector<EventLink>& links) {
  if (links.empty()) return std::nullopt;
  nlohmann::json out = nlohmann::json::array();
  for (const EventLink& l : links) {
    out.push_back({{"kind", to_string(l.kind)}, {"title", l.title}, {"url", l.url}});
  }
  return out.dump();
}

std::vector<EventLink> links_from(const std::string& text) {
  std::vector<EventLink> out;
  if (text.empty()) return out;
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const nlohmann::json& l : j) {
    if (!l.is_object()) continue;
    const auto kind = event_link_kind_from_string(l.value("kind", ""));
    const std::string url = l.value("url", "");
    if (!kind || url.empty()) continue;
    out.push_back(EventLink{*kind, l.value("title", ""), url});
  }
  return out;
}

}  // namespace scribe::rows
