// Reading everything a draft needs about one incident, in the caller's transaction so
// the draft is a consistent snapshot.
#pragma once

#include <optional>
#include <string>

#include "postmortem/draft.h"
#include "storage/store.h"

namespace scribe {

std::optional<IncidentRecord> read_record(Transaction& tx, IncidentId id);

}  // namespace scribe
