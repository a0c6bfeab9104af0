// Publishing postmortems where people read them (Confluence, a git repository), as the
// core sees it. An extension (publish/) writes the pages; the core knows only the names of
// the configured destinations and writes durable outbox jobs for them in the same
// transaction as the change that calls for them: `/incident publish [destination]`, and,
// for the destinations published automatically, every change to an incident that is
// resolved or closed until its postmortem is final (the change that makes it final
// included). The deliverer renders the draft as it is when the job runs and skips a
// write when nothing changed, so a burst of edits costs one page version each at most.
// Pure functions over a Transaction: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace scribe {

// The outbox routes publishing jobs by this platform name; one lane per incident and
// destination (ChannelRef{kPublishPlatform, destination, "incident-<id>"}), so the page
// is created before it is updated.
inline constexpr std::string_view kPublishPlatform = "publish";

struct PublishSettings {
  std::vector<std::string> destinations;  // configured: "confluence", "git"
  std::vector<std::string> automatic;     // published at resolution and on later changes
};

// What a publishing job's `content` says.
struct PublishJob {
  IncidentId incident_id = 0;
  std::string destination;
};
std::string to_json(const PublishJob& job);
std::optional<PublishJob> publish_job_from_json(std::string_view content);

// Writes the job that publishes `incident` to `destination` (one per call; `at` keys it).
void request_publish(Transaction& tx, IncidentId incident, std::string_view destination,
                     Timestamp at);

// Whether a change to an incident from `before` to `after` is one the automatic
// destinations publish: the incident is resolved or closed and its postmortem was not
// final before the change.
bool publishes_automatically(const std::optional<Incident>& before, const Incident& after);

}  // namespace scribe
