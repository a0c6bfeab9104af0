#include "adapters/slack/message_fetcher.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "adapters/slack/events_endpoint.h"
#include "adapters/slack/slash_command.h"

namespace scribe::slack {
namespace {

using nlohmann::json;

json person_json(const Person& p) { return {{"id", p.id}, {"name", p.name}}; }

Person person_from(const json& j) { return {j.value("id", ""), j.value("name", "")}; }

std::string profile_name(const json& message) {
  const auto profile = message.find("user_profile");
  if (profile == message.end() || !profile->is_object()) return {};
  for (const char* key : {"display_name", "real_name", "name"}) {
    const std::string name = profile->value(key, "");
    if (!name.empty()) return name;
  }
  return {};
}

}  // namespace

std::string fetch_job(const MarkedMessage& m) {
  return json{{"workspace", m.channel.workspace},
              {"channel", m.channel.channel},
              {"message_id", m.message_id},
              {"author", person_json(m.author)},
              {"marked_by", person_json(m.marked_by)},
              {"written_at_ms", m.written_at.time_since_epoch().count()},
              {"received_at_ms", m.received_at.time_since_epoch().count()}}
      .dump();
}

MessageFetcher::MessageFetcher(WebApi::Options options, CommandHandler& handler)
    : api_(std::move(options)), handler_(handler) {}

DeliveryResult MessageFetcher::deliver(const OutboxMessage& job,
                                       const std::optional<std::string>&) {
  const json spec = json::parse(job.content, nullptr, /*allow_exceptions=*/false);
  if (!spec.is_object() || !spec.contains("message_id")) {
    return {DeliveryResult::Outcome::kPermanent, "", std::nullopt, "not a fetch job"};
  }
  MarkedMessage m;
  m.channel = ChannelRef{"slack", spec.value("workspace", ""), spec.value("channel", "")};
  m.message_id = spec.value("message_id", "");
  m.author = person_from(spec.value("author", json::object()));
  m.marked_by = person_from(spec.value("marked_by", json::object()));
  m.written_at = Timestamp{std::chrono::milliseconds(spec.value("written_at_ms", std::int64_t{0}))};
  m.received_at =
      Timestamp{std::chrono::milliseconds(spec.value("received_at_ms", std::int64_t{0}))};

  const WebApiResult read = api_.read_message(m.channel.channel, m.message_id);
  if (!read.ok) {
    DeliveryResult result = to_delivery_result(read);
    if (read.error == "message_not_found") result.outcome = DeliveryResult::Outcome::kPermanent;
    return result;
  }
  std::vector<Person> mentions;
  m.text = translate_text(read.json.value("text", ""), mentions);
  if (const std::string user = read.json.value("user", ""); !user.empty()) m.author.id = user;
  m.author.name = profile_name(read.json);
  if (m.author.name.empty()) {
    // Not carried by the message: one users.info call; the id stands in if it fails.
    if (auto info = user_info(api_.users_info(m.author.id))) m.author.name = info->name;
  }
  if (m.author.name.empty()) m.author.name = m.author.id;
  // The reaction carried no permalink: ask for it. Without one the event still keeps the
  // message's files.
  const WebApiResult link = api_.permalink(m.channel.channel, m.message_id);
  if (!link.ok) {
    spdlog::warn("chat.getPermalink for {} in {} failed ({}); recorded without it", m.message_id,
                 m.channel.channel, link.error);
  }
  m.links = message_links(read.json, link.ok ? link.json.value("permalink", "") : "");

  switch (handler_.record_marked_message(m)) {
    case MarkOutcome::kRecorded:
      spdlog::info("recorded the message {} marked in {}", m.message_id, m.channel.channel);
      break;
    case MarkOutcome::kAlreadyRecorded:
      break;
    case MarkOutcome::kNoIncident:
      spdlog::info("message {} in {} marked, but the channel has no incident any more",
                   m.message_id, m.channel.channel);
      break;
    case MarkOutcome::kIncidentFull:
      spdlog::warn("message {} in {} marked, but its incident holds its most timeline events",
                   m.message_id, m.channel.channel);
      break;
  }
  return {DeliveryResult::Outcome::kSent, m.message_id, std::nullopt, ""};
}

}  // namespace scribe::slack
