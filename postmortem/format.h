// Text forms of times and durations shared by the draft renderers, so the Markdown and
// the JSON say "3m 05s" and "2026-11-20 14:05:30" identically. All times are UTC;
// everything is cut (floored) to whole seconds except `format_iso8601`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "postmortem/draft.h"
#include "storage/model.h"

namespace date {
class time_zone;
}

namespace scribe {

// A timestamp broken into UTC calendar and clock fields.
struct UtcFields {
  int year = 1970;
  unsigned month = 1, day = 1;
  unsigned hour = 0, minute = 0, second = 0, millisecond = 0;
};
// Defined for every Timestamp, the ends of its range included (years beyond 9999 or
// before 0 come out as such: "+292278994-08-17" is honest where a wrapped date is not).
UtcFields utc_fields(Timestamp t);
// Days since 1970-01-01 UTC, floored; for comparing dates without date::days' 32 bits.
std::int64_t utc_day_number(Timestamp t);

// "2026", and "+12026" / "-0001"-style expanded years (ISO 8601) outside 0..9999.
std::string format_year(int year);
std::string format_utc_date(Timestamp t);      // "2026-11-20"
std::string format_utc_datetime(Timestamp t);  // "2026-11-20 14:05:30"
std::string format_utc(Timestamp t);           // "2026-11-20 14:05:30 UTC"
std::string format_iso8601(Timestamp t);       // "2026-11-20T14:05:30.123Z" (always ms)
// Local time in `zone`, whole seconds: "2026-10-25 02:30:00 CEST". Empty when `zone` is
// null or the year is outside 1..9999 (the tz rules say nothing there).
std::string format_local_datetime(Timestamp t, const date::time_zone* zone);
// "2026-10-25T02:30:00.000+02:00"; for a null zone (or outside 1..9999) format_iso8601.
std::string format_iso8601_local(Timestamp t, const date::time_zone* zone);
// format_utc, and the local time after it when `zone` is not null:
// "2026-10-25 00:30:00 UTC (2026-10-25 02:30:00 CEST)".
std::string format_utc_and_local(Timestamp t, const date::time_zone* zone);

// "42s", "3m 05s", "1h 02m 03s", "2d 03h 04m" (days from 24 h on, seconds dropped).
// A negative value is shown with a leading "-"; beyond 100 years: "more than 100 years".
std::string format_duration(std::chrono::seconds d);
// Time since the incident start: "+00:03:05", "+1d 02:03:04". Negative: "-00:00:05".
std::string format_offset(std::chrono::seconds d);

// A key duration's value as people read it: "3m 05s", "0s (detected 2m 00s before impact
// began)", "unknown — no #impact event marks when impact began".
std::string format_key_duration(const KeyDuration& k);

// The header's customer-impact line: "45m 00s (impact began 2026-11-20 23:40:00 UTC →
// mitigated 2026-11-21 00:25:00 UTC)", or "unknown — no #impact event …; add with
// `<prefix>timeline #impact <text>`". Plain text; the caller escapes for its format.
std::string customer_impact_text(const Draft& d, std::string_view command_prefix);

// Whole seconds from `from` to `to`, after flooring both to whole seconds, so the
// difference agrees with the times as they are shown. Never overflows.
std::chrono::seconds seconds_between(Timestamp from, Timestamp to);

}  // namespace scribe
