#include "commands/publishing.h"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace scribe {

std::string to_json(const PublishJob& job) {
  return nlohmann::json{{"incident_id", job.incident_id}, {"destination", job.destination}}.dump();
}

std::optional<PublishJob> publish_job_from_json(std::string_view content) {
  const auto j = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  const auto id = j.find("incident_id");
  const auto dest = j.find("destination");
  if (id == j.end() || !id->is_number_integer() || dest == j.end() || !dest->is_string()) {
    return std::nullopt;
  }
  return PublishJob{id->get<IncidentId>(), dest->get<std::string>()};
}

void request_publish(Transaction& tx, IncidentId incident, std::string_view destination,
                     Timestamp at) {
  OutboxMessage m;
  m.channel = ChannelRef{std::string(kPublishPlatform), std::string(destination),
                         fmt::format("incident-{}", incident)};
  m.kind = JobKind::kPublish;
  m.content = to_json(PublishJob{incident, std::string(destination)});
  // Two requests in the same millisecond are one: the job renders what is there when it runs.
  m.dedupe_key =
      fmt::format("publish:{}:{}:{}", incident, destination, at.time_since_epoch().count());
  m.created_at = at;
  m.next_attempt_at = at;
  tx.enqueue(m);
}

bool publishes_automatically(const std::optional<Incident>& before, const Incident& after) {
  const bool done =
      after.status == IncidentStatus::kResolved || after.status == IncidentStatus::kClosed;
  const bool was_final =
      before && before->id == after.id && before->postmortem_status == PostmortemStatus::kFinal;
  return done && !was_final;
}

}  // namespace scribe
