// Reading everything a draft needs about one incident, in the caller's transaction so
// the draft is a consistent snapshot.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "postmortem/draft.h"
#include "storage/store.h"

namespace scribe {

// `default_zone` is the service's zone, for a channel that has not set its own.
std::optional<IncidentRecord> read_record(Transaction& tx, IncidentId id,
                                          std::string_view default_zone = "UTC");

}  // namespace scribe
