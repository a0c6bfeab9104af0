// Trends across incidents: what `scribe report` prints. A pure function over rows the store
// reads in a few queries (Transaction::trends_rows), so it is tested without a database and
// benchmarked on its own (bench/trends_bench.cpp).
//
// Definitions (all times UTC):
//   - month: the month of the declaration;
//   - impact began: the earliest #impact event, else the declaration (counted in
//     `impact_start_fallbacks`, and the report says so);
//   - detected: the earliest #detected/#alert event, or the declaration when that is earlier
//     or there is none (as the draft's key durations);
//   - time to detect / mitigate / resolve: impact began -> detected / mitigated (else
//     resolved) / resolved; a negative span counts as 0, as in the draft;
//   - customer-impact minutes: impact began -> mitigated, else resolved (Scribe records no
//     separate "impact ended"; the report says so);
//   - median: the middle value (the mean of the two middle ones for an even count); p90: the
//     nearest-rank 90th percentile;
//   - overdue: open with a due date before today; done by due date: done on or before the end
//     of the due day, as a share of the items with a due date that are done or overdue;
//   - recurring causes: cause notes tagged `#cause:<tag>` (lower case), and untagged cause
//     notes with the same normalised text (lower case, letters and digits, single spaces),
//     shared by two or more incidents.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/model.h"
#include "storage/store.h"

namespace scribe {

struct DurationStats {
  std::size_t count = 0;  // incidents measured
  std::optional<double> median_minutes;
  std::optional<double> p90_minutes;
};

struct ActionCounts {
  int open = 0;
  int overdue = 0;  // included in `open`
  int done = 0;
  int dropped = 0;
};

struct RecurringCause {
  std::string cause;  // "#cause:config-default" or a normalised cause text
  std::vector<IncidentId> incidents;
};

struct Trends {
  Timestamp since{};
  Timestamp now{};
  std::size_t incidents = 0;
  // "2026-11" -> counts of sev1..sev4 (index 0..3)
  std::map<std::string, std::array<int, 4>> by_month_severity;
  DurationStats time_to_detect, time_to_mitigate, time_to_resolve, impact_minutes;
  std::size_t impact_start_fallbacks = 0;                // incidents without an #impact event
  std::map<std::string, ActionCounts> actions_by_owner;  // "(no owner)" for none
  std::map<std::string, ActionCounts> actions_by_kind;   // "none" for none
  ActionCounts actions_total;
  int due_considered = 0;  // done or overdue items with a due date
  int done_by_due = 0;
  std::vector<RecurringCause> recurring_causes;  // most incidents first
};

// "90d", "12w", "6m" (30-day months) or "1y" (365 days); nullopt for anything else.
std::optional<std::chrono::days> parse_span(std::string_view text);

Trends compute_trends(const TrendsRows& rows, Timestamp since, Timestamp now);

// The lower-case letters and digits of `text`, words separated by single spaces.
std::string normalise_cause(std::string_view text);

std::string trends_markdown(const Trends& t);
std::string trends_json(const Trends& t);
std::string trends_html(const Trends& t);

}  // namespace scribe
