#include "postmortem/record.h"

namespace scribe {

std::optional<IncidentRecord> read_record(Transaction& tx, IncidentId id) {
  auto incident = tx.find_incident(id);
  if (!incident) return std::nullopt;
  IncidentRecord record;
  record.incident = std::move(*incident);
  record.events = tx.events(id, /*include_deleted=*/false);
  record.notes = tx.notes(id);
  record.actions = tx.actions(id);
  record.action_history = tx.action_revisions(id);
  record.approvals = tx.approvals(id);
  return record;
}

}  // namespace scribe
