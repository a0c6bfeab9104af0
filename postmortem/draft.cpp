#include "postmortem/draft.h"

#include <date/tz.h>

#include <stdexcept>

#include <algorithm>
#include <initializer_list>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "postmortem/format.h"

namespace scribe {
namespace {

bool event_before(const TimelineEvent& a, const TimelineEvent& b) {
  if (a.occurred_at != b.occurred_at) return a.occurred_at < b.occurred_at;
  return a.seq < b.seq;
}

// Collects distinct people with the time they first appear. Keys are views into the
// record, which outlives this object, so no key string is copied; only the few distinct
// people are.
class ParticipantList {
 public:
  void add(const Person& person, Timestamp at) {
    if (person.id.empty() && person.name.empty()) return;
    auto& index = person.id.empty() ? by_name_ : by_id_;
    const std::string_view key = person.id.empty() ? person.name : person.id;
    const auto [it, inserted] = index.try_emplace(key, people_.size());
    if (inserted) {
      people_.push_back({person, at, people_.size()});
    } else if (at < people_[it->second].first_seen) {
      people_[it->second].first_seen = at;
      people_[it->second].order = next_order_;
    }
    ++next_order_;
  }

  std::vector<Person> take_in_order() {
    // Ties (same timestamp) keep the order in which they were added.
    std::sort(people_.begin(), people_.end(), [](const Entry& a, const Entry& b) {
      if (a.first_seen != b.first_seen) return a.first_seen < b.first_seen;
      return a.order < b.order;
    });
    std::vector<Person> out;
    out.reserve(people_.size());
    for (auto& e : people_) out.push_back(std::move(e.person));
    return out;
  }

 private:
  struct Entry {
    Person person;
    Timestamp first_seen;
    std::size_t order;
  };
  std::vector<Entry> people_;
  std::unordered_map<std::string_view, std::size_t> by_id_;
  std::unordered_map<std::string_view, std::size_t> by_name_;
  std::size_t next_order_ = 0;
};

std::vector<Person> participants_of(const IncidentRecord& record) {
  ParticipantList list;
  // The commander leads the incident, so they head the list whenever they joined.
  list.add(record.incident.commander, Timestamp::min());
  for (const auto& e : record.events) {
    if (!e.deleted) list.add(e.author, e.occurred_at);
  }
  for (const auto& n : record.notes) list.add(n.author, n.created_at);
  for (const auto& a : record.actions) {
    list.add(a.created_by, a.created_at);
    if (a.owner) list.add(*a.owner, a.created_at);
  }
  return list.take_in_order();
}

std::vector<Note>& section_of(DraftSections& s, NoteSection section) {
  switch (section) {
    case NoteSection::kSummary:
      return s.summary;
    case NoteSection::kImpact:
      return s.impact;
    case NoteSection::kCause:
      return s.cause;
    case NoteSection::kWhy:
      return s.why;
    case NoteSection::kWentWell:
      return s.went_well;
    case NoteSection::kWentWrong:
      return s.went_wrong;
    case NoteSection::kLucky:
      return s.lucky;
    case NoteSection::kLesson:
      return s.lessons;
    case NoteSection::kTrigger:
      return s.trigger;
    case NoteSection::kDetection:
      return s.detection;
    case NoteSection::kResolution:
      return s.resolution;
    case NoteSection::kLink:
      return s.links;
  }
  return s.summary;  // unreachable for valid enum values; keeps an odd value visible
}

std::optional<Timestamp> first_of_kind(const std::vector<TimelineRow>& rows,
                                       std::initializer_list<EventKind> kinds) {
  for (const auto& row : rows) {  // rows are sorted: the first match is the earliest
    if (std::find(kinds.begin(), kinds.end(), row.event.kind) != kinds.end()) {
      return row.event.occurred_at;
    }
  }
  return std::nullopt;
}

KeyDuration measure(std::string_view id, std::string_view label, const Moment& from,
                    const Moment& to) {
  KeyDuration d{id, label, from, to, std::nullopt, {}};
  if (from.at && to.at) {
    const std::chrono::seconds span = seconds_between(*from.at, *to.at);
    if (span.count() < 0) {
      d.seconds = std::chrono::seconds{0};
      d.remark = fmt::format("{} {} before {}", to.name, format_duration(-span), from.name);
    } else {
      d.seconds = span;
    }
  }
  return d;
}

void add_key_durations(Draft& draft, const std::optional<Timestamp>& resolved_at) {
  const Incident& inc = draft.incident;

  Moment impact{"impact began", first_of_kind(draft.timeline, {EventKind::kImpact}), {}, {}};
  if (!impact.at) impact.missing = "no #impact event marks when impact began";

  // Declaring an incident implies it was detected, so a #detected/#alert event logged
  // (un-backdated) after the declaration does not make detection look later than it was.
  Moment detected{
      "detected", first_of_kind(draft.timeline, {EventKind::kDetected, EventKind::kAlert}), {}, {}};
  if (!detected.at) {
    detected.at = inc.declared_at;
    detected.fallback = "declared; no #detected or #alert event";
  } else if (inc.declared_at < *detected.at) {
    detected.at = inc.declared_at;
    detected.fallback = "declared; before the first #detected or #alert event";
  }

  Moment mitigated{"mitigated", inc.mitigated_at, {}, {}};
  if (!mitigated.at && resolved_at) {
    mitigated.at = resolved_at;
    mitigated.fallback = "resolved; no separate mitigation";
  } else if (!mitigated.at) {
    mitigated.missing = "not mitigated yet";
  }

  Moment resolved{"resolved", resolved_at, {}, {}};
  if (!resolved.at) resolved.missing = "not resolved yet";

  const Moment declared{"declared", inc.declared_at, {}, {}};

  Moment impact_ended = mitigated;
  if (!inc.mitigated_at && resolved_at) {
    impact_ended.name = "resolved";
    impact_ended.fallback = "no separate mitigation";
  } else if (!impact_ended.at) {
    impact_ended.name = "this draft";
    impact_ended.at = draft.generated_at;
    impact_ended.missing.clear();
    impact_ended.fallback = "not mitigated yet";
    draft.impact_ongoing = impact.at.has_value();
  }
  draft.customer_impact = measure("customer_impact", "Customer impact", impact, impact_ended);

  draft.durations.reserve(4);
  draft.durations.push_back(measure("time_to_detect", "Time to detect", impact, detected));
  draft.durations.push_back(measure("time_to_mitigate", "Time to mitigate", impact, mitigated));
  draft.durations.push_back(measure("time_to_resolve", "Time to resolve", impact, resolved));
  draft.durations.push_back(
      measure("declared_to_resolved", "Time from declaration to resolution", declared, resolved));
}

}  // namespace

const date::time_zone* local_zone(const std::string& name) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC") return nullptr;
  try {
    const date::time_zone* z = date::locate_zone(name);
    return z->name() == "Etc/UTC" || z->name() == "UTC" ? nullptr : z;
  } catch (const std::runtime_error&) {
    return nullptr;  // a name this tz database lacks: UTC only, which is never wrong
  }
}

Draft assemble_draft(IncidentRecord record, Timestamp now) {
  Draft draft;
  draft.generated_at = now;
  draft.zone = local_zone(record.zone);
  draft.ref = incident_ref(record.incident.id);
  // Built before anything is moved out of `record`: it keeps views into its strings.
  draft.participants = participants_of(record);

  draft.timeline.reserve(record.events.size());
  for (auto& e : record.events) {
    if (!e.deleted) draft.timeline.push_back({std::move(e), std::chrono::seconds{0}});
  }
  // The store already sorts; only pay for sorting when a caller did not.
  auto row_before = [](const TimelineRow& a, const TimelineRow& b) {
    return event_before(a.event, b.event);
  };
  if (!std::is_sorted(draft.timeline.begin(), draft.timeline.end(), row_before)) {
    std::stable_sort(draft.timeline.begin(), draft.timeline.end(), row_before);
  }

  draft.incident = std::move(record.incident);
  const Incident& inc = draft.incident;
  draft.started_at =
      draft.timeline.empty() ? inc.declared_at : draft.timeline.front().event.occurred_at;
  for (std::size_t i = 0; i < draft.timeline.size(); ++i) {
    TimelineRow& row = draft.timeline[i];
    row.offset = seconds_between(draft.started_at, row.event.occurred_at);
    if (row.event.kind == EventKind::kImpact) draft.impact_events.push_back(i);
  }

  // A resolved_at left over from before a reopen does not count: the incident is live.
  const bool resolved_status =
      inc.status == IncidentStatus::kResolved || inc.status == IncidentStatus::kClosed;
  const std::optional<Timestamp> resolved_at =
      resolved_status ? inc.resolved_at : std::optional<Timestamp>{};
  draft.ongoing = !resolved_at.has_value();
  draft.ended_at = resolved_at.value_or(now);
  draft.duration =
      std::max(std::chrono::seconds{0}, seconds_between(draft.started_at, draft.ended_at));

  for (auto& n : record.notes) {
    const NoteSection section = n.section;
    section_of(draft.sections, section).push_back(std::move(n));
  }

  draft.actions = std::move(record.actions);
  auto by_seq = [](const ActionItem& a, const ActionItem& b) { return a.seq < b.seq; };
  if (!std::is_sorted(draft.actions.begin(), draft.actions.end(), by_seq)) {
    std::stable_sort(draft.actions.begin(), draft.actions.end(), by_seq);
  }

  draft.action_history = std::move(record.action_history);
  draft.related = std::move(record.related);
  draft.related_total = std::max(record.related_total, draft.related.size());
  add_key_durations(draft, resolved_at);
  return draft;
}

}  // namespace scribe
