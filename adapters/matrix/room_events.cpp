#include "adapters/matrix/room_events.h"

#include <array>
#include <cctype>
#include <cstdint>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "adapters/matrix/message_text.h"
#include "adapters/matrix/platform.h"
#include "util/json_fields.h"
#include "util/strings.h"

namespace scribe::matrix {
namespace {

using nlohmann::json;

constexpr std::string_view kEventSource = "matrix-event";
constexpr std::string_view kPin = "\xF0\x9F\x93\x8C";                  // 📌
constexpr std::string_view kPinVs16 = "\xF0\x9F\x93\x8C\xEF\xB8\x8F";  // 📌 + U+FE0F
constexpr std::array<std::string_view, 3> kCommands = {"incident", "timeline", "action"};

// "!timeline 14:05 x" -> {"timeline", "14:05 x"}; nullopt for anything else.
std::optional<std::pair<std::string, std::string>> split_command(std::string_view text) {
  if (!text.starts_with("!")) return std::nullopt;
  for (std::string_view word : kCommands) {
    if (!starts_with_ci(text.substr(1), word)) continue;
    const std::string_view rest = text.substr(1 + word.size());
    if (!rest.empty() && !std::isspace(static_cast<unsigned char>(rest.front()))) continue;
    return std::make_pair(std::string(word), std::string(trim(rest)));
  }
  return std::nullopt;
}

// The event's origin_server_ts, which any federated server sets. One outside the years
// 0000-9999 is nonsense, and the date arithmetic of reading a command's "14:05" or "-15m"
// against it overflows: it is not used (callers take the receive time instead).
std::optional<Timestamp> origin_ts(const json& event) {
  constexpr std::int64_t kFirst = -62167219200000;  // 0000-01-01T00:00:00Z, in ms
  constexpr std::int64_t kLast = 253402300799999;   // 9999-12-31T23:59:59.999Z
  auto it = event.find("origin_server_ts");
  if (it == event.end() || !it->is_number_integer()) return std::nullopt;
  // JSON reads positive numbers as unsigned: compare before narrowing.
  const bool too_large = it->is_number_unsigned() && it->get<std::uint64_t>() > kLast;
  const auto ms = too_large ? kLast + 1 : it->get<std::int64_t>();
  if (ms < kFirst || ms > kLast) {
    spdlog::warn("Matrix event {}: origin_server_ts {} ignored", string_at(event, "event_id"),
                 it->dump());
    return std::nullopt;
  }
  return Timestamp{std::chrono::milliseconds(ms)};
}

// Whether an invite's stripped room state says the room is end-to-end encrypted.
bool invite_state_encrypted(const json& event) {
  const json* unsigned_part = object_at(event, "unsigned");
  if (unsigned_part == nullptr) return false;
  const auto state = unsigned_part->find("invite_room_state");
  if (state == unsigned_part->end() || !state->is_array()) return false;
  for (const json& e : *state) {
    if (e.is_object() && string_at(e, "type") == "m.room.encryption") return true;
  }
  return false;
}

}  // namespace

std::string fetch_job(const FetchJob& job) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(job.received_at.time_since_epoch());
  return json{{"room_id", job.room_id},
              {"event_id", job.event_id},
              {"marked_by", job.marked_by},
              {"received_at", ms.count()}}
      .dump();
}

std::optional<FetchJob> parse_fetch_job(std::string_view content) {
  const json j = json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  FetchJob job{string_at(j, "room_id"), string_at(j, "event_id"), string_at(j, "marked_by"), {}};
  const auto at = j.find("received_at");
  if (job.room_id.empty() || job.event_id.empty() || at == j.end() || !at->is_number_integer()) {
    return std::nullopt;
  }
  job.received_at = Timestamp{std::chrono::milliseconds(at->get<std::int64_t>())};
  return job;
}

Reply encrypted_room_notice(std::string_view bot_user_id) {
  Reply reply;
  reply.visibility = Reply::Visibility::kEphemeral;  // a notice: Scribe speaks, nothing recorded
  reply.text =
      "This room is end-to-end encrypted, so Scribe cannot read it: `!incident`, `!timeline` "
      "and `!action` typed here never reach it.";
  reply.details = {
      fmt::format("For the incident record, use a room without encryption: create a new room "
                  "with encryption turned off (it cannot be turned off in this one) and invite "
                  "{} there.",
                  bot_user_id),
      "Keep anything that must stay secret out of that room; Scribe's README explains why "
      "encrypted rooms are not supported.",
  };
  return reply;
}

RoomEvents::RoomEvents(std::string bot_user_id, CommandHandler& handler, Hooks hooks,
                       std::string homeserver_url)
    : bot_user_id_(std::move(bot_user_id)),
      handler_(handler),
      hooks_(std::move(hooks)),
      homeserver_url_(std::move(homeserver_url)) {}

bool RoomEvents::apply(Transaction& tx, const json& events, Timestamp now) const {
  if (!events.is_array()) return false;
  bool enqueued = false;
  for (const json& event : events) {
    if (event.is_object() && on_event(tx, event, events, now)) enqueued = true;
  }
  return enqueued;
}

bool RoomEvents::on_event(Transaction& tx, const json& event, const json& events,
                          Timestamp now) const {
  const std::string type = string_at(event, "type");
  const std::string sender = string_at(event, "sender");
  if (sender.empty() || sender == bot_user_id_) return false;
  if (type == "m.room.encryption" || type == "m.room.encrypted") {
    return on_encrypted(tx, string_at(event, "room_id"));
  }
  if (type != "m.room.message" && type != "m.reaction" && type != "m.room.member") return false;
  if (type == "m.room.member" &&
      (string_at(event, "state_key") != bot_user_id_ || object_at(event, "content") == nullptr ||
       string_at(*object_at(event, "content"), "membership") != "invite")) {
    return false;
  }
  const std::string event_id = string_at(event, "event_id");
  if (!event_id.empty() && !tx.first_delivery(kEventSource, event_id, now)) {
    spdlog::info("Matrix event {} already processed", event_id);
    return false;
  }
  if (type == "m.room.message") return on_message(tx, event, now);
  if (type == "m.reaction") return on_reaction(tx, event, events, now);
  return on_member(tx, event);
}

bool RoomEvents::on_message(Transaction& tx, const json& event, Timestamp now) const {
  const json* content = object_at(event, "content");
  if (content == nullptr || string_at(*content, "msgtype") != "m.text") return false;
  if (const json* rel = object_at(*content, "m.relates_to");
      rel != nullptr && string_at(*rel, "rel_type") == "m.replace") {
    return false;  // an edit: see the header
  }
  Invocation inv;
  const std::string text = message_text(*content, inv.mentions);
  auto command = split_command(text);
  if (!command) return false;
  const std::string room_id = string_at(event, "room_id");
  if (room_id.empty()) return false;  // malformed: a command must come from a room
  inv.channel = channel_of(room_id);
  inv.user = person_of(string_at(event, "sender"));
  inv.command = command->first;
  inv.text = command->second;
  inv.received_at = origin_ts(event).value_or(now);
  const CommandResult result = handler_.run_in(tx, inv);
  bool enqueued = result.enqueued;
  if (hooks_.reply_sink && !result.reply.silent &&
      hooks_.reply_sink(tx, inv.channel, result.reply, string_at(event, "event_id"))) {
    enqueued = true;
  }
  return enqueued;
}

bool RoomEvents::on_reaction(Transaction& tx, const json& event, const json& events,
                             Timestamp now) const {
  const json* content = object_at(event, "content");
  const json* rel = content != nullptr ? object_at(*content, "m.relates_to") : nullptr;
  if (rel == nullptr) return false;
  const std::string key = string_at(*rel, "key");
  if (key != kPin && key != kPinVs16) return false;
  const std::string target = string_at(*rel, "event_id");
  const std::string room_id = string_at(event, "room_id");
  if (target.empty() || room_id.empty()) return false;

  MarkedMessage marked;
  marked.channel = channel_of(room_id);
  marked.marked_by = person_of(string_at(event, "sender"));
  marked.message_id = target;
  marked.received_at = origin_ts(event).value_or(now);

  // The message itself in this batch: recorded at once, no fetch needed.
  for (const json& other : events) {
    if (!other.is_object() || string_at(other, "event_id") != target ||
        string_at(other, "type") != "m.room.message" || string_at(other, "room_id") != room_id) {
      continue;
    }
    const json* message = object_at(other, "content");
    const auto written_at = origin_ts(other);
    if (message == nullptr || !written_at) break;
    std::vector<Person> mentions;
    marked.author = person_of(string_at(other, "sender"));
    marked.written_at = *written_at;
    marked.text = message_text(*message, mentions);
    marked.links = message_links(room_id, target, *message, homeserver_url_);
    handler_.record_marked_in(tx, marked);
    return false;
  }
  const FetchJob job{room_id, target, marked.marked_by.id, marked.received_at};
  return handler_.defer_marked_in(tx, marked, fetch_job(job)) == MarkOutcome::kRecorded;
}

bool RoomEvents::on_member(Transaction& tx, const json& event) const {
  const std::string room_id = string_at(event, "room_id");
  if (room_id.empty()) return false;
  spdlog::info("Matrix: invited to {} by {}", room_id, string_at(event, "sender"));
  bool enqueued = hooks_.on_invite && hooks_.on_invite(tx, room_id);
  // The join is queued first, so the notice (same room, same lane) goes out after it.
  if (invite_state_encrypted(event) && on_encrypted(tx, room_id)) enqueued = true;
  return enqueued;
}

bool RoomEvents::on_encrypted(Transaction& tx, const std::string& room_id) const {
  if (room_id.empty() || !hooks_.on_encrypted) return false;
  return hooks_.on_encrypted(tx, room_id);
}

}  // namespace scribe::matrix
