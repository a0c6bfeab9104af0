#include "adapters/matrix/message_fetcher.h"

#include <spdlog/spdlog.h>

#include "adapters/matrix/transactions_endpoint.h"

namespace scribe::matrix {

MessageFetcher::MessageFetcher(ClientApi::Options options, CommandHandler& handler)
    : homeserver_url_(options.homeserver_url), api_(std::move(options)), handler_(handler) {}

DeliveryResult MessageFetcher::deliver(const OutboxMessage& job,
                                       const std::optional<std::string>&) {
  const auto spec = parse_fetch_job(job.content);
  if (!spec) return {DeliveryResult::Outcome::kPermanent, "", std::nullopt, "not a fetch job"};

  const ClientResult event = api_.get_event(spec->room_id, spec->event_id);
  if (!event.ok) {
    DeliveryResult result = to_delivery_result(event);
    if (event.errcode == "M_NOT_FOUND") result.outcome = DeliveryResult::Outcome::kPermanent;
    return result;
  }
  MarkedMessage m;
  m.channel = channel_of(spec->room_id);
  m.message_id = spec->event_id;
  m.marked_by = person_of(spec->marked_by);
  m.received_at = spec->received_at;
  const std::string sender = event.json.value("sender", "");
  m.author = person_of(sender);
  if (const ClientResult name = api_.displayname(sender); name.ok) {
    const std::string display = name.json.value("displayname", "");
    if (!display.empty()) m.author.name = display;
  }
  m.written_at =
      Timestamp{std::chrono::milliseconds(event.json.value("origin_server_ts", std::int64_t{0}))};
  std::vector<Person> mentions;
  const nlohmann::json content = event.json.value("content", nlohmann::json::object());
  m.text = message_text(content, mentions);
  m.links = message_links(spec->room_id, spec->event_id, content, homeserver_url_);

  const MarkOutcome outcome = handler_.record_marked_message(m);
  if (outcome == MarkOutcome::kNoIncident) {
    spdlog::info("event {} in {} marked, but the room has no incident any more", m.message_id,
                 spec->room_id);
  } else if (outcome == MarkOutcome::kIncidentFull) {
    spdlog::warn("event {} in {} marked, but its incident holds its most timeline events",
                 m.message_id, spec->room_id);
  }
  return {DeliveryResult::Outcome::kSent, spec->event_id, std::nullopt, ""};
}

}  // namespace scribe::matrix
