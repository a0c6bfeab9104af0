#include "postmortem/record.h"

namespace scribe {

std::optional<IncidentRecord> read_record(Transaction& tx, IncidentId id,
                                          std::string_view default_zone) {
  auto incident = tx.find_incident(id);
  if (!incident) return std::nullopt;
  IncidentRecord record;
  record.incident = std::move(*incident);
  record.events = tx.events(id, /*include_deleted=*/false);
  record.notes = tx.notes(id);
  record.actions = tx.actions(id);
  record.action_history = tx.action_revisions(id);
  record.approvals = tx.approvals(id);
  std::vector<Note> causes;
  for (const Note& n : record.notes) {
    if (n.section == NoteSection::kCause) causes.push_back(n);
  }
  // Only an incident with a cause can have a related one; then the earlier incidents'
  // causes are read, and the most recent kRelatedShown related ones kept.
  if (!causes.empty()) {
    record.related = find_related(record.incident, causes, tx.cause_rows(id));
    record.related_total = record.related.size();
    if (record.related.size() > kRelatedShown) record.related.resize(kRelatedShown);
  }
  const std::vector<ChannelZone> zones = tx.channel_zones(record.incident.channel);
  record.zone = zones.empty() ? std::string(default_zone) : zones.back().zone;
  return record;
}

}  // namespace scribe
