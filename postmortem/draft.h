// The postmortem draft as a document model. `assemble_draft` turns an incident's record
// (read from the store in one transaction) into a `Draft`: plain data that says what the
// postmortem contains — facts, sections, key durations, timeline, action items — and
// nothing about how it looks. Renderers (markdown.h, json.h) decide the looks.
//
// All times are UTC. Shown times have second precision; the model keeps milliseconds.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postmortem/recurrence.h"
#include "storage/model.h"

namespace date {
class time_zone;
}

namespace scribe {

// Everything a draft is made from, read in one store transaction.
struct IncidentRecord {
  Incident incident;
  std::vector<TimelineEvent> events;           // non-deleted, by occurred_at then seq
  std::vector<Note> notes;                     // in creation order
  std::vector<ActionItem> actions;             // by seq
  std::vector<ActionRevision> action_history;  // changes to the items, oldest first
  std::vector<Approval> approvals;             // of the postmortem, oldest first
  // Earlier incidents with the same cause (postmortem/recurrence.h), most recent first.
  std::vector<RelatedIncident> related;
  std::size_t related_total = 0;  // `related` holds the most recent kRelatedShown of these
  // The channel's time zone (an IANA name); drafts show its local times beside UTC.
  // Empty or UTC: UTC only.
  std::string zone;
};

// A draft lists at most this many related incidents (the most recent) and counts the rest.
inline constexpr std::size_t kRelatedShown = 20;

// A point in time the key durations are measured between, and how it was found.
struct Moment {
  std::string_view name;        // "impact began", "detected", "mitigated", ...
  std::optional<Timestamp> at;  // empty: nothing recorded marks it
  std::string fallback;         // set when `at` is a stand-in: "resolved; no separate mitigation"
  std::string missing;          // set when `at` is empty: "no #impact event marks when ..."
};

// One row of the key-durations table. The moments: impact began = the earliest #impact
// event; detected = the earliest #detected/#alert event, or the declaration when that is
// earlier or there is none; mitigated = incident.mitigated_at, else the resolution;
// resolved = incident.resolved_at; declared = incident.declared_at.
struct KeyDuration {
  std::string_view id;       // stable machine name: "time_to_detect", ...
  std::string_view measure;  // "Time to detect"
  Moment from;
  Moment to;
  // Whole seconds from `from` to `to`; empty when either end is missing. Never negative:
  // when `to` precedes `from` (an alert firing before users noticed) it is 0 and
  // `remark` says by how much, so averages over incidents are not skewed below zero.
  std::optional<std::chrono::seconds> seconds;
  std::string remark;
};

// A timeline entry with its distance from the incident start.
struct TimelineRow {
  TimelineEvent event;
  std::chrono::seconds offset{0};  // from Draft::started_at, on whole seconds
};

// Postmortem notes grouped by section, each in creation order.
struct DraftSections {
  std::vector<Note> summary;
  std::vector<Note> impact;
  std::vector<Note> cause;
  std::vector<Note> why;
  std::vector<Note> went_well;
  std::vector<Note> went_wrong;
  std::vector<Note> lucky;
  std::vector<Note> lessons;
  std::vector<Note> trigger;
  std::vector<Note> detection;
  std::vector<Note> resolution;
  std::vector<Note> links;
};

struct Draft {
  Incident incident;
  // The channel's zone when it is not UTC: renderers show its local times beside UTC.
  // Null: UTC only. Points into the tz database, which lives as long as the process.
  const date::time_zone* zone = nullptr;
  std::string ref;  // "INC-42"
  Timestamp generated_at{};
  // The incident start: the earliest timeline event (the declaration when there is none).
  // Offsets and the total duration are measured from it.
  Timestamp started_at{};
  // resolved_at, or generated_at while the incident is not resolved (`ongoing`). An
  // incident counts as resolved only in status Resolved or Closed: a resolved_at left
  // over from before a reopen is ignored here and in the key durations.
  Timestamp ended_at{};
  bool ongoing = true;
  std::chrono::seconds duration{0};  // started_at → ended_at, never negative
  // How long customers were affected, which the header shows first and apart from the
  // incident's duration: impact began (the earliest #impact event) → impact ended (the
  // mitigation, else the resolution). While neither has happened it runs to `generated_at`
  // and `impact_ongoing` is set. Unknown (empty `seconds`) without an #impact event: the
  // declaration is not a stand-in, since users are often hurt long before anyone declares.
  KeyDuration customer_impact;
  bool impact_ongoing = false;
  // Commander first, then everyone who wrote an event, note or action or owns an action,
  // in order of first appearance in time. Distinct by Person::id (by name when it has none).
  std::vector<Person> participants;
  DraftSections sections;
  std::vector<std::size_t> impact_events;      // indexes into `timeline` of #impact events
  std::vector<KeyDuration> durations;          // detect, mitigate, resolve, declared→resolved
  std::vector<TimelineRow> timeline;           // by occurred_at, then seq
  std::vector<ActionItem> actions;             // by seq
  std::vector<ActionRevision> action_history;  // changes to the items, oldest first
  std::vector<RelatedIncident> related;        // earlier incidents with the same cause
  std::size_t related_total = 0;               // how many there are in all
};

// Builds the draft. `now` is the generation time and bounds the duration of an incident
// that is not resolved yet. Takes the record by value so callers can move it in.
// Tolerates any input: unsorted or deleted events, missing milestones, clock skew.
Draft assemble_draft(IncidentRecord record, Timestamp now);

}  // namespace scribe
