// Reading the backdated event time that may open a `/timeline` command, and showing
// instants back to people. `parse_event_time` looks at one whitespace-free token and
// says whether it is a time (and which instant), plainly an attempt at a time that is
// wrong (with a message naming the accepted forms), or not a time at all, in which case
// the token is simply the start of the event text. It never throws and never reads the
// real clock: `now` is the moment the command was received.
//
// Accepted forms (an optional trailing `.`, `,`, `:` or `;` is ignored):
//   14:05  14:05:30  9:05  14:05:30.250  the most recent such wall-clock time in `zone`:
//                                         today's, or yesterday's if today's is still to
//                                         come (beyond kClockSkewTolerance)
//   2pm  2:05pm  11:30am                 the same, 12-hour
//   14:05Z  14:05:30Z  14:05UTC           the same, read in UTC instead of `zone`
//   -15m  -90s  -2h  -1h30m  -1d  -15min  that long before `now` (at most kMaxBackdate)
//   2026-11-20T14:05Z  …T14:05:30.250+01:00  …T14:05-0500  an absolute ISO 8601 instant
//   2026-11-20T14:05                      ISO 8601 without offset: local time in `zone`
// Local times that happened twice (clocks going back) are noted in TimeOk::note; local
// times that never happened (clocks going forward) are a TimeError rather than a guess.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

#include "storage/model.h"

namespace date {
class time_zone;
}

namespace scribe {

// Chat clients and servers disagree a little about the time; a time this far ahead of
// `now` is taken as meant, not as an error (and not as yesterday).
inline constexpr std::chrono::minutes kClockSkewTolerance{2};
// Anything older is almost certainly a typo (a wrong year, an extra digit).
inline constexpr std::chrono::days kMaxBackdate{30};

struct TimeOk {
  Timestamp at;
  // "" or a remark worth showing the user, e.g. that "23:50" was read as yesterday.
  std::string note;
  // The time as written ("14:05", "2pm") when it was read in the zone given (a wall-clock
  // time or an ISO 8601 time without offset); empty for relative, UTC and offset forms,
  // which mean the same in every zone.
  std::string local_token;
};

struct TimeError {
  // One short sentence or two for the user; names the accepted forms.
  std::string message;
};

// monostate: the token is not a time; it belongs to the event text.
using TimeParse = std::variant<std::monostate, TimeOk, TimeError>;

TimeParse parse_event_time(std::string_view token, Timestamp now, const date::time_zone& zone);

// "2026-11-20 15:05:30 CET": truncated to the second, in `zone` with its abbreviation.
std::string format_local(Timestamp t, const date::time_zone& zone);
// "2026-11-20 14:05:30 UTC": truncated to the second. Declared here for callers of this
// file, but defined once, in postmortem/format.cpp, so drafts and replies agree.
std::string format_utc(Timestamp t);

}  // namespace scribe
