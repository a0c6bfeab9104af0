// Incidents as a JSON document (`scribe export` / `scribe import`), to move them between
// databases and backends. Everything goes through the Store's Transaction, so it works for
// any backend. The document is versioned ("format": "scribe-export", "version": 1) and
// holds, per incident, its events (deleted ones too) and their revisions, notes, action
// items and their revisions, approvals, publications and the latest stored draft, plus the
// time-zone settings of the incidents' channels.
//
// Ids: an incident's "id" is the source's; the target assigns its own on import (printed
// as a mapping). Events and action items are identified by their per-incident numbers
// (`seq`, what people type), which are kept; global row ids are never written.
// Not exported: the outbox, delivery keys, stream positions, held alerts (they describe
// the source's conversations with the platforms, not the incident record).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/store.h"

namespace scribe::archive {

inline constexpr std::string_view kFormat = "scribe-export";
inline constexpr int kVersion = 1;

// A document that cannot be imported: malformed, of another version, or in conflict with
// the target. The message names the place ("incidents[2].events[5].kind: ...").
class ImportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The document for every incident (by id), or only for `only`; nullopt when `only` names
// no incident. Reads only.
std::optional<nlohmann::ordered_json> export_incidents(Transaction& tx,
                                                       std::optional<IncidentId> only);

struct ImportResult {
  std::vector<std::pair<IncidentId, IncidentId>> ids;  // (in the document, in the target)
  int channel_zones = 0;                               // zone settings added
};

// Checks `document` (throws ImportError) and adds its incidents to `tx`. Refused with
// ImportError, before anything is written: an incident the target already has (same channel
// and declaration time), an incident that is not closed in a channel where the target has
// one that is not closed either, a tracker key the target already has, channel zone settings
// that differ from the target's for the same channel. Run it in one write transaction
// (Store::write): an ImportError thrown midway rolls everything back.
ImportResult import_incidents(Transaction& tx, const nlohmann::json& document);

}  // namespace scribe::archive
