// Renders a postmortem draft as JSON for the API (`/api/incidents/{id}/postmortem.json`)
// and `scribe draft --format json`: the same model as the Markdown, as data. Keys keep
// a fixed order; times are ISO 8601 UTC with milliseconds ("2026-11-20T14:05:30.000Z");
// absent values are null, never omitted, so consumers see a stable shape.
//
// Shape (a person is {id, name}):
//   incident {id, ref, title, severity, status, commander, declared_at, mitigated_at,
//             resolved_at, closed_at}
//   participants [person], total_duration {from, to, ongoing, seconds, display}
//   sections {summary, impact, cause, why, went_well, went_wrong, lucky, lessons}:
//            each [{text, author, created_at}]
//   impact_events [seq]
//   durations [{id, measure, from, to, seconds|null, display, remark|null}], where from/to
//             are {name, at|null, fallback|null, missing|null}
//   timeline [{seq, occurred_at, offset_seconds, author, kind, text}]
//   actions [{seq, text, owner|null, due|null, kind|null, status, done_at|null}]
//   generated_at
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "postmortem/draft.h"

namespace scribe {

// The draft as a JSON value, for callers that embed it in a larger document.
nlohmann::ordered_json draft_to_json(const Draft& draft);

// The draft as JSON text: pretty-printed with `indent` spaces, or compact when indent < 0.
// Text that is not valid UTF-8 is repaired (U+FFFD), never a reason to fail.
std::string render_json(const Draft& draft, int indent = 2);

}  // namespace scribe
