// The postmortem reviews itself: findings about an incident's record that a careful
// reviewer would raise before the meeting. Five rules, each switchable:
//
//   blame         a person (an @mention, a participant's name, "the engineer", "someone",
//                 "he"/"she") as the one who did a blame word ("forgot", "failed to",
//                 "careless", "mistake", …), or "human error" / "operator error" /
//                 "user error" given as a cause or conclusion. A neutral sentence naming a
//                 person ("alice rolled back the deploy") is not blame, nor is a system
//                 failing ("the deploy failed to start").
//   vague         summary, impact and cause notes and #impact/#detected/#alert events
//                 that give a size without a number ("a lot", "for a while", "latency
//                 increased", "some users"), and impact or summary text that names a
//                 measurable thing (users, orders, latency, …) with no number at all.
//   unactionable  action items that are only a wish ("Improve code quality", "Ensure …",
//                 "Look into …"), or lack an owner, a due date or a kind, or are due
//                 further away than a horizon.
//   coverage      for the severities configured (sev1/sev2): no `prevent` item; no
//                 `detect` item although detection was slow or its time unknown.
//   missing       no summary, quantified impact, cause, trigger, detection event, lessons
//                 or postmortem owner; a long silence in the timeline while impact was
//                 ongoing; events recorded after the resolution.
//
// Precision matters more than recall: a reviewer who cries wolf is muted. Each rule
// therefore asks for evidence in the text, not just a keyword (see review.cpp).
//
// The review is a pure function: no I/O, no clock ("now" is a parameter), the same
// findings in the same order for the same input. A Reviewer is immutable after
// construction and may be shared between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postmortem/draft.h"
#include "storage/model.h"

namespace scribe {

enum class ReviewRule { kBlame, kVague, kUnactionable, kCoverage, kMissing };

// "blame", "vague", "unactionable", "coverage", "missing".
std::string_view to_string(ReviewRule rule);
std::optional<ReviewRule> review_rule_from_string(std::string_view s);

// Default word lists. Entries are words or phrases, matched case-insensitively on word
// boundaries; the typographic apostrophe counts as "'". A trailing "'s" on a word in the
// text (bob's) is read as the word itself.
std::vector<std::string> default_blame_words();        // forgot, failed to, careless, …
std::vector<std::string> default_person_words();       // someone, he, the engineer, …
std::vector<std::string> default_human_error_words();  // human error, operator error, …
std::vector<std::string> default_measurable_nouns();   // latency, errors, users, orders, …
std::vector<std::string> default_magnitude_words();    // a lot, significant, for a while, …
std::vector<std::string> default_relative_words();     // increased, high, some, many, …
std::vector<std::string> default_vague_verbs();        // improve, ensure, look into, …
std::vector<std::string> default_concrete_verbs();     // add, remove, alert, block, …

struct ReviewSettings {
  // Each rule can be switched off.
  bool blame = true;
  bool vague = true;
  bool unactionable = true;
  bool coverage = true;
  bool missing = true;

  // blame: what the person did (verbs, judgements). The person must be its subject
  // ("bob forgot", "bob's mistake", "bob made a careless mistake") or its agent
  // ("ignored by bob", "blame lies with bob"); a negation ("bob did not forget") cancels it.
  std::vector<std::string> blame_words = default_blame_words();
  // blame: words that stand for a person besides @mentions and participants' names.
  std::vector<std::string> person_words = default_person_words();
  // blame: flagged when given as a cause or conclusion ("Root cause: human error",
  // "caused by operator error"), not when designed against ("guard against user error").
  std::vector<std::string> human_error_words = default_human_error_words();

  // vague: things that have a size. In impact and summary text, naming one without any
  // number is vague; elsewhere only together with a relative word.
  std::vector<std::string> measurable_nouns = default_measurable_nouns();
  // vague: sizes without a number, vague on their own ("a lot", "for a while", "spiked").
  std::vector<std::string> magnitude_words = default_magnitude_words();
  // vague: changes and quantifiers that are vague when they qualify a measurable thing
  // in the same sentence ("latency increased", "some users", "high CPU").
  std::vector<std::string> relative_words = default_relative_words();

  // unactionable: an item whose text has one of these and no concrete verb of its own is
  // a wish, not a change. A concrete verb right after it ("consider adding", "try to add")
  // is still only considered, so it does not count.
  std::vector<std::string> vague_verbs = default_vague_verbs();
  // unactionable: verbs that name a change someone can finish. Entries are base forms;
  // "-s", "-ed" and "-ing" forms match too.
  std::vector<std::string> concrete_verbs = default_concrete_verbs();
  // unactionable: an open item due further away than this (from now's UTC date).
  int action_horizon_days = 90;

  // coverage: the severities that must have a `prevent` item, and a `detect` item when
  // time to detect exceeded `detect_threshold` or is unknown.
  std::vector<Severity> coverage_severities = {Severity::kSev1, Severity::kSev2};
  std::chrono::minutes detect_threshold{15};

  // missing: a longer silence in the timeline while impact was ongoing is flagged.
  std::chrono::minutes timeline_gap{30};

  bool operator==(const ReviewSettings&) const = default;
};

enum class TargetType { kIncident, kEvent, kAction, kNote };

// "incident", "event", "action", "note".
std::string_view to_string(TargetType type);

// The entry a finding is about.
struct FindingTarget {
  TargetType type = TargetType::kIncident;
  std::optional<int> seq;              // events and actions: the number users refer to
  std::optional<NoteSection> section;  // notes
  int index = 0;                       // notes: 1-based position within its section
  std::int64_t id = 0;                 // the stored id of the event, note or action; 0 if none
  bool operator==(const FindingTarget&) const = default;
};

struct Finding {
  ReviewRule rule = ReviewRule::kMissing;
  // What exactly, stable for machines (a close gate, a JSON consumer): "blame_word",
  // "human_error", "magnitude", "unquantified", "vague_verb", "no_owner", "no_due",
  // "due_far", "no_kind", "no_prevent", "no_detect", "no_summary", "no_impact",
  // "impact_unquantified", "no_cause", "no_trigger", "no_detection", "no_lessons",
  // "no_postmortem_owner", "timeline_gap", "after_resolution".
  std::string_view code;
  FindingTarget target;
  std::string excerpt;     // the offending words with a little context (valid UTF-8)
  std::string message;     // why it matters, one sentence
  std::string suggestion;  // what to write instead
};

// What reviewing a single entry needs to know about its incident.
struct EntryContext {
  // People whose names count as persons in the text (participants); @mentions always do.
  std::vector<Person> people;
  Timestamp now{};  // for the action item horizon
};

struct ReviewDictionary;  // the compiled word lists (review.cpp)
struct ReviewRules;       // settings, and their dictionary once compiled (review.cpp)

// Compiles the settings' word lists once, at the first review; reviews many records
// cheaply. Thread-safe: one Reviewer may review on several threads at once.
class Reviewer {
 public:
  explicit Reviewer(ReviewSettings settings);
  ~Reviewer();
  Reviewer(Reviewer&&) noexcept;
  Reviewer& operator=(Reviewer&&) noexcept;

  const ReviewSettings& settings() const;

  // Every finding about the incident, ordered by rule (blame, vague, unactionable,
  // coverage, missing), then target (the incident, events by seq, notes by section and
  // position, actions by seq), then the order the rule checks them in. Deleted events
  // are ignored. The record's events need not be sorted.
  std::vector<Finding> review(const IncidentRecord& record, Timestamp now) const;

  // The entry rules (blame, vague, unactionable) for one entry, as when it is typed;
  // the same findings `review` gives for it when `context.people` are the participants.
  // A note's target index is left 0: its position is known only in the whole record.
  std::vector<Finding> review_entry(const TimelineEvent& event, const EntryContext& context) const;
  std::vector<Finding> review_entry(const Note& note, const EntryContext& context) const;
  std::vector<Finding> review_entry(const ActionItem& action, const EntryContext& context) const;

 private:
  // The dictionary, compiled by the first call (any thread); the same one after.
  const ReviewDictionary& compiled() const;
  // Shared by every Reviewer made from equal settings: the dictionary is compiled once
  // for all of them and never changed after.
  std::shared_ptr<ReviewRules> rules_;
};

// One-off convenience: Reviewer(settings).review(record, now).
std::vector<Finding> review_incident(const IncidentRecord& record, const ReviewSettings& settings,
                                     Timestamp now);

// Everyone the review treats as a person by name: the commander, the postmortem owner,
// and whoever wrote an event, note or action item or owns an action item.
std::vector<Person> review_people(const IncidentRecord& record);

}  // namespace scribe
