// Text forms of times and durations shared by the draft renderers, so the Markdown and
// the JSON say "3m 05s" and "2026-11-20 14:05:30" identically. All times are UTC;
// everything is cut (floored) to whole seconds except `format_iso8601`.
#pragma once

#include <chrono>
#include <string>

#include "postmortem/draft.h"
#include "storage/model.h"

namespace scribe {

// A timestamp broken into UTC calendar and clock fields.
struct UtcFields {
  int year = 1970;
  unsigned month = 1, day = 1;
  unsigned hour = 0, minute = 0, second = 0, millisecond = 0;
};
UtcFields utc_fields(Timestamp t);

std::string format_utc_date(Timestamp t);      // "2026-11-20"
std::string format_utc_datetime(Timestamp t);  // "2026-11-20 14:05:30"
std::string format_utc(Timestamp t);           // "2026-11-20 14:05:30 UTC"
std::string format_iso8601(Timestamp t);       // "2026-11-20T14:05:30.123Z" (always ms)

// "42s", "3m 05s", "1h 02m 03s", "2d 03h 04m" (days from 24 h on, seconds dropped).
// A negative value is shown with a leading "-".
std::string format_duration(std::chrono::seconds d);
// Time since the incident start: "+00:03:05", "+1d 02:03:04". Negative: "-00:00:05".
std::string format_offset(std::chrono::seconds d);

// A key duration's value as people read it: "3m 05s", "0s (detected 2m 00s before impact
// began)", "unknown — no #impact event marks when impact began".
std::string format_key_duration(const KeyDuration& k);

// Whole seconds from `from` to `to`, after flooring both to whole seconds, so the
// difference agrees with the times as they are shown.
std::chrono::seconds seconds_between(Timestamp from, Timestamp to);

}  // namespace scribe
