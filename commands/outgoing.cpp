#include "commands/outgoing.h"

#include <utility>

#include <nlohmann/json.hpp>

namespace scribe {

using nlohmann::json;

void mark_thread_parent_lost(OutgoingMessage& message) {
  std::string& text = message.body.text;
  text = text.empty() ? std::string(kThreadParentLostMarker)
                      : std::string(kThreadParentLostMarker) + " " + text;
}

std::string to_json(const OutgoingMessage& m) {
  json out = {
      {"text", m.body.text},
      {"details", m.body.details},
      {"document", m.body.document ? json(*m.body.document) : json(nullptr)},
      {"incident", m.body.incident ? json(*m.body.incident) : json(nullptr)},
      {"visibility", m.body.visibility == Reply::Visibility::kEphemeral ? "ephemeral" : "channel"},
      {"buttons", json::array()},
      {"notify", json::array()}};
  for (const auto& b : m.buttons) {
    out["buttons"].push_back({{"label", b.label}, {"action", b.action}, {"value", b.value}});
  }
  for (const auto& p : m.notify) out["notify"].push_back({{"id", p.id}, {"name", p.name}});
  if (m.replaces) out["replaces"] = *m.replaces;
  return out.dump();
}

Parsed<OutgoingMessage> outgoing_from_json(std::string_view text) {
  const json in = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!in.is_object() || !in.contains("text")) {
    return Parsed<OutgoingMessage>::failed("not an outgoing message");
  }
  // value() throws when a field has another type: such content is not ours either.
  try {
    OutgoingMessage m;
    if (const auto v = in.find("visibility"); v != in.end() && *v == "ephemeral") {
      m.body.visibility = Reply::Visibility::kEphemeral;
    }
    m.body.text = in.value("text", "");
    m.body.details = in.value("details", std::vector<std::string>{});
    if (in.contains("document") && in["document"].is_string()) m.body.document = in["document"];
    if (in.contains("incident") && in["incident"].is_number_integer())
      m.body.incident = in["incident"];
    for (const auto& b : in.value("buttons", json::array())) {
      m.buttons.push_back({b.value("label", ""), b.value("action", ""), b.value("value", "")});
    }
    for (const auto& p : in.value("notify", json::array())) {
      m.notify.push_back({p.value("id", ""), p.value("name", "")});
    }
    if (const auto r = in.find("replaces"); r != in.end() && r->is_string()) {
      if (const auto& ts = r->get_ref<const std::string&>(); !ts.empty()) m.replaces = ts;
    }
    return Parsed<OutgoingMessage>::ok(std::move(m));
  } catch (const json::exception& e) {
    return Parsed<OutgoingMessage>::failed(std::string("not an outgoing message: ") + e.what());
  }
}

}  // namespace scribe
