#include "commands/time_parse.h"

#include <date/date.h>
#include <date/tz.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "postmortem/format.h"
#include "util/strings.h"

namespace scribe {
namespace {

using Ms = std::chrono::milliseconds;
using LocalMs = date::local_time<Ms>;

// Appended to every error so a user who got it wrong sees at once what works.
constexpr std::string_view kForms =
    "Times look like `14:05`, `14:05:30`, `-15m`, `-1h30m` or `2026-11-20T14:05Z`.";

TimeError fail(std::string what) {
  what += ' ';
  what += kForms;
  return TimeError{std::move(what)};
}

std::string quoted(std::string_view token) {
  std::string out = "`";
  out += token;
  out += '`';
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
std::size_t count_digits(std::string_view s, std::size_t pos) {
  std::size_t n = 0;
  while (pos + n < s.size() && is_digit(s[pos + n])) ++n;
  return n;
}

// Callers pass at most 9 digits, so this cannot overflow.
std::int64_t to_int(std::string_view digits) {
  std::int64_t v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

// Storage keeps milliseconds; further digits are dropped (truncation, like a clock).
Ms fraction_ms(std::string_view digits) {
  std::int64_t ms = 0;
  for (std::size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < digits.size() ? digits[i] - '0' : 0);
  return Ms{ms};
}

std::string two_digits(std::int64_t v) {
  std::string out;
  out += static_cast<char>('0' + v / 10 % 10);
  out += static_cast<char>('0' + v % 10);
  return out;
}

struct TimeOfDay {
  int hour = 0;
  int minute = 0;
  int second = 0;
  Ms fraction{0};

  Ms since_midnight() const {
    return std::chrono::hours{hour} + std::chrono::minutes{minute} + std::chrono::seconds{second} +
           fraction;
  }
  // Normalised 24-hour form for notes, so "2pm" is explained as "14:00".
  std::string show() const {
    std::string out = two_digits(hour) + ":" + two_digits(minute);
    if (second != 0 || fraction != Ms{0}) out += ":" + two_digits(second);
    if (fraction != Ms{0}) {
      const auto f = fraction.count();
      out += "." + std::to_string(f / 100) + two_digits(f % 100);
    }
    return out;
  }
};

// Reads "[:SS[.fff]]" after the minutes; returns false when the shape is wrong.
bool read_seconds(std::string_view t, std::size_t& i, TimeOfDay& tod) {
  if (i >= t.size() || t[i] != ':') return true;
  if (count_digits(t, i + 1) != 2) return false;
  tod.second = static_cast<int>(to_int(t.substr(i + 1, 2)));
  i += 3;
  if (i < t.size() && (t[i] == '.' || t[i] == ',')) {
    const std::size_t n = count_digits(t, i + 1);
    if (n == 0) return false;
    tod.fraction = fraction_ms(t.substr(i + 1, n));
    i += 1 + n;
  }
  return true;
}

// ---------------------------------------------------------------- wall-clock times

enum class Suffix { kNone, kAm, kPm, kUtc };

std::optional<Suffix> read_suffix(std::string_view rest) {
  if (rest.empty()) return Suffix::kNone;
  if (iequals(rest, "am")) return Suffix::kAm;
  if (iequals(rest, "pm")) return Suffix::kPm;
  if (iequals(rest, "z") || iequals(rest, "utc")) return Suffix::kUtc;
  return std::nullopt;
}

struct Clock {
  TimeOfDay tod;
  bool utc = false;
};

using ClockParse = std::variant<std::monostate, Clock, TimeError>;

// Only exact shapes count as an attempt (1–2 digit hour, 2-digit minutes and seconds), so
// ratios, versions, ranges ("10:00-11:00") and scores stay event text.
ClockParse parse_clock(std::string_view t) {
  std::size_t i = count_digits(t, 0);
  if (i == 0 || i > 2 || i == t.size()) return std::monostate{};
  Clock clock;
  clock.tod.hour = static_cast<int>(to_int(t.substr(0, i)));
  std::optional<Suffix> suffix;
  if (t[i] == ':') {
    if (count_digits(t, i + 1) != 2) return std::monostate{};
    clock.tod.minute = static_cast<int>(to_int(t.substr(i + 1, 2)));
    i += 3;
    if (!read_seconds(t, i, clock.tod)) return std::monostate{};
    suffix = read_suffix(t.substr(i));
    if (!suffix) return std::monostate{};
  } else {
    // "2pm": without minutes only a 12-hour suffix makes it a time.
    suffix = read_suffix(t.substr(i));
    if (suffix != Suffix::kAm && suffix != Suffix::kPm) return std::monostate{};
  }

  if (*suffix == Suffix::kAm || *suffix == Suffix::kPm) {
    if (clock.tod.hour < 1 || clock.tod.hour > 12) {
      return fail(quoted(t) +
                  " is not a 12-hour time: with am/pm the hour goes from 1 to 12 (or leave out "
                  "am/pm for a 24-hour time).");
    }
    clock.tod.hour = clock.tod.hour % 12 + (*suffix == Suffix::kPm ? 12 : 0);
  }
  if (clock.tod.hour > 23) {
    return fail(quoted(t) + " is not a time of day: hours go from 0 to 23.");
  }
  if (clock.tod.minute > 59 || clock.tod.second > 59) {
    return fail(quoted(t) + " is not a time of day: minutes and seconds go from 00 to 59.");
  }
  clock.utc = *suffix == Suffix::kUtc;
  return clock;
}

// Every instant at which a wall clock in `zone` (nullptr: UTC) showed a local time.
struct LocalAt {
  enum class Kind { kUnique, kAmbiguous, kNonexistent };
  Kind kind = Kind::kUnique;
  Timestamp first{};   // kNonexistent: the moment the clocks jumped over it
  Timestamp second{};  // kAmbiguous: the later occurrence; otherwise == first
  std::string first_abbrev;
  std::string second_abbrev;
};

LocalAt locate(LocalMs lt, const date::time_zone* zone) {
  LocalAt out;
  if (zone == nullptr) {
    out.first = out.second = Timestamp{lt.time_since_epoch()};
    out.first_abbrev = out.second_abbrev = "UTC";
    return out;
  }
  const date::local_info info = zone->get_info(date::floor<std::chrono::seconds>(lt));
  out.first_abbrev = info.first.abbrev;
  out.second_abbrev = info.second.abbrev;
  switch (info.result) {
    case date::local_info::unique:
      out.first = out.second = Timestamp{(lt - info.first.offset).time_since_epoch()};
      out.second_abbrev = out.first_abbrev;
      break;
    case date::local_info::ambiguous:
      out.kind = LocalAt::Kind::kAmbiguous;
      out.first = Timestamp{(lt - info.first.offset).time_since_epoch()};
      out.second = Timestamp{(lt - info.second.offset).time_since_epoch()};
      break;
    case date::local_info::nonexistent:
      out.kind = LocalAt::Kind::kNonexistent;
      out.first = out.second = Timestamp{info.second.begin};
      break;
  }
  return out;
}

std::string zone_label(const date::time_zone* zone) {
  return zone == nullptr ? std::string("UTC") : std::string(zone->name());
}

std::string twice_note(const std::string& shown, const date::time_zone* zone, bool later,
                       const std::string& abbrev) {
  return shown + " happened twice in " + zone_label(zone) +
         " (the clocks went back); read as the " + (later ? "later" : "earlier") + " one, " +
         shown + " " + abbrev;
}

std::string format_day(date::local_days day) { return date::format("%F", day); }

// The most recent moment the wall clock showed this time, not counting moments further
// ahead than the skew tolerance: a responder typing "23:50" just after midnight means the
// 23:50 they just lived through, not tonight's.
TimeParse resolve_clock(std::string_view token, const Clock& clock, Timestamp now,
                        const date::time_zone* zone) {
  const Timestamp limit = now + kClockSkewTolerance;
  const LocalMs local_now = zone == nullptr ? LocalMs{now.time_since_epoch()} : zone->to_local(now);
  const date::local_days today = date::floor<date::days>(local_now);
  const Ms tod = clock.tod.since_midnight();
  const std::string shown = clock.tod.show();

  // Tomorrow only matters within the tolerance of midnight (a client clock slightly ahead).
  for (int back = -1; back <= 1; ++back) {
    const date::local_days day = today - date::days{back};
    const LocalAt at = locate(day + tod, zone);
    if (at.kind == LocalAt::Kind::kNonexistent) {
      if (at.first <= limit) {
        return fail(quoted(token) + " did not exist on " + format_day(day) + " in " +
                    zone_label(zone) +
                    ": the clocks jumped forward. Give it in UTC instead (`HH:MMZ`).");
      }
      continue;
    }
    TimeOk ok;
    if (at.kind == LocalAt::Kind::kAmbiguous && at.second <= limit) {
      ok.at = at.second;
      ok.note = twice_note(shown, zone, true, at.second_abbrev);
    } else if (at.first <= limit) {
      ok.at = at.first;
      if (at.kind == LocalAt::Kind::kAmbiguous) {
        ok.note =
            twice_note(shown, zone, false, at.first_abbrev) + "; the later one is still to come";
      }
    } else {
      continue;
    }
    if (back == 1) {
      std::string note =
          "read as yesterday (" + format_day(day) + "), since " + shown + " today is still to come";
      if (!ok.note.empty()) note += "; " + ok.note;
      ok.note = std::move(note);
    }
    return ok;
  }
  // Only reachable around exotic transitions (a zone skipping a whole day).
  return fail("Could not place " + quoted(token) + " on a recent day in " + zone_label(zone) +
              "; give a full date and time.");
}

// ---------------------------------------------------------------- relative times

struct Unit {
  std::string_view name;
  int rank;  // units must come largest first: -1h30m, not -30m1h
  Ms size;
};

constexpr std::array<Unit, 18> kUnits{{
    {"s", 0, std::chrono::seconds{1}},
    {"sec", 0, std::chrono::seconds{1}},
    {"secs", 0, std::chrono::seconds{1}},
    {"second", 0, std::chrono::seconds{1}},
    {"seconds", 0, std::chrono::seconds{1}},
    {"m", 1, std::chrono::minutes{1}},
    {"min", 1, std::chrono::minutes{1}},
    {"mins", 1, std::chrono::minutes{1}},
    {"minute", 1, std::chrono::minutes{1}},
    {"minutes", 1, std::chrono::minutes{1}},
    {"h", 2, std::chrono::hours{1}},
    {"hr", 2, std::chrono::hours{1}},
    {"hrs", 2, std::chrono::hours{1}},
    {"hour", 2, std::chrono::hours{1}},
    {"hours", 2, std::chrono::hours{1}},
    {"d", 3, std::chrono::hours{24}},
    {"day", 3, std::chrono::hours{24}},
    {"days", 3, std::chrono::hours{24}},
}};

const Unit* find_unit(std::string_view name) {
  for (const Unit& u : kUnits) {
    if (iequals(name, u.name)) return &u;
  }
  return nullptr;
}

struct Relative {
  bool future = false;
  Ms amount{0};
};

using RelativeParse = std::variant<std::monostate, Relative, TimeError>;

// Only a sign, digits and known unit words make an attempt: "-15x", "-5", "+1", "-2fa"
// and "-15%" stay event text.
RelativeParse parse_relative(std::string_view t) {
  if (t.size() < 2 || (t[0] != '-' && t[0] != '+') || !is_digit(t[1])) return std::monostate{};
  struct Run {
    std::string_view text;
    bool number;
  };
  std::array<Run, 16> runs{};
  std::size_t count = 0;
  bool has_unit = false;
  for (std::size_t i = 1; i < t.size();) {
    const bool number = is_digit(t[i]) || t[i] == '.' || t[i] == ',';
    if (!number && !is_alpha(t[i])) return std::monostate{};
    std::size_t j = i;
    while (j < t.size() &&
           (number ? (is_digit(t[j]) || t[j] == '.' || t[j] == ',') : is_alpha(t[j]))) {
      ++j;
    }
    const std::string_view text = t.substr(i, j - i);
    if (!number) {
      if (find_unit(text) == nullptr) return std::monostate{};
      has_unit = true;
    }
    if (count == runs.size()) return std::monostate{};
    runs[count++] = Run{text, number};
    i = j;
  }
  if (!has_unit) return std::monostate{};

  if (runs[count - 1].number) {
    return fail(quoted(t) + ": every number needs a unit (s, m, h or d), as in `-1h30m`.");
  }
  Relative rel;
  rel.future = t[0] == '+';
  int last_rank = 4;
  for (std::size_t k = 0; k < count; k += 2) {
    const std::string_view digits = runs[k].text;
    if (digits.find_first_of(".,") != std::string_view::npos) {
      return fail(quoted(t) + ": use whole numbers, as in `-1h30m`.");
    }
    const Unit* unit = find_unit(runs[k + 1].text);
    if (unit->rank >= last_rank) {
      return fail(quoted(t) + ": put the units largest first, each once, as in `-1h30m`.");
    }
    last_rank = unit->rank;
    // Nine digits of days still fit in 64-bit milliseconds; more is far past any cap.
    if (digits.size() > 9) {
      return fail(quoted(t) + " is more than " + std::to_string(kMaxBackdate.count()) +
                  " days back; the timeline takes events from the last " +
                  std::to_string(kMaxBackdate.count()) + " days.");
    }
    rel.amount += to_int(digits) * unit->size;
  }
  return rel;
}

// ---------------------------------------------------------------- ISO 8601

struct Iso {
  date::year_month_day ymd;
  TimeOfDay tod;
  std::optional<std::chrono::minutes> offset;  // east of UTC; none: local time in `zone`
};

using IsoParse = std::variant<std::monostate, Iso, TimeError>;

// "YYYY-MM-DD" followed by 'T' or nothing is plainly a date; anything else after it (a
// "2026-11-20-rollback" tag) stays text.
IsoParse parse_iso(std::string_view t) {
  if (t.size() < 10 || count_digits(t, 0) != 4 || t[4] != '-' || count_digits(t, 5) != 2 ||
      t[7] != '-' || count_digits(t, 8) != 2) {
    return std::monostate{};
  }
  if (t.size() > 10 && t[10] != 'T' && t[10] != 't') return std::monostate{};

  Iso iso;
  iso.ymd = date::year{static_cast<int>(to_int(t.substr(0, 4)))} /
            date::month{static_cast<unsigned>(to_int(t.substr(5, 2)))} /
            date::day{static_cast<unsigned>(to_int(t.substr(8, 2)))};
  if (!iso.ymd.ok()) return fail(quoted(t) + " is not a valid date.");
  if (t.size() == 10) {
    return fail(quoted(t) + " needs a time of day too, as in `" + std::string(t.substr(0, 10)) +
                "T14:05Z`.");
  }

  const TimeError unreadable =
      fail(quoted(t) + " is not a date-time I can read (ISO 8601, as in `" +
           std::string(t.substr(0, 10)) + "T14:05:30Z` or `" + std::string(t.substr(0, 10)) +
           "T14:05+01:00`).");
  std::size_t i = 11;
  const std::size_t hour_digits = count_digits(t, i);
  if (hour_digits < 1 || hour_digits > 2) return unreadable;
  iso.tod.hour = static_cast<int>(to_int(t.substr(i, hour_digits)));
  i += hour_digits;
  if (i >= t.size() || t[i] != ':' || count_digits(t, i + 1) != 2) return unreadable;
  iso.tod.minute = static_cast<int>(to_int(t.substr(i + 1, 2)));
  i += 3;
  if (!read_seconds(t, i, iso.tod)) return unreadable;

  if (i < t.size()) {
    const std::string_view zone = t.substr(i);
    if (zone == "Z" || zone == "z") {
      iso.offset = std::chrono::minutes{0};
    } else if (zone[0] == '+' || zone[0] == '-') {
      std::size_t j = 1;
      if (count_digits(zone, j) < 2) return unreadable;
      const auto hours = to_int(zone.substr(j, 2));
      j += 2;
      std::int64_t minutes = 0;
      if (j < zone.size() && zone[j] == ':') ++j;
      if (j < zone.size()) {
        if (count_digits(zone, j) != 2 || j + 2 != zone.size()) return unreadable;
        minutes = to_int(zone.substr(j, 2));
      }
      if (hours > 23 || minutes > 59) {
        return fail(quoted(t) + " has an impossible UTC offset.");
      }
      const std::chrono::minutes off{hours * 60 + minutes};
      iso.offset = zone[0] == '+' ? off : -off;
    } else {
      return unreadable;
    }
  }
  if (iso.tod.hour > 23 || iso.tod.minute > 59 || iso.tod.second > 59) {
    return fail(quoted(t) + " is not a valid time of day.");
  }
  return iso;
}

TimeParse finish(std::string_view token, Timestamp at, std::string note, Timestamp now) {
  if (at > now + kClockSkewTolerance) {
    return fail(quoted(token) + " is in the future (it is now " + format_utc(now) +
                "); an event can't be in the future.");
  }
  if (at < now - kMaxBackdate) {
    return fail(quoted(token) + " is more than " + std::to_string(kMaxBackdate.count()) +
                " days ago; check the date (the timeline takes events from the last " +
                std::to_string(kMaxBackdate.count()) + " days).");
  }
  return TimeOk{at, std::move(note), {}};
}

TimeParse resolve_iso(std::string_view token, const Iso& iso, Timestamp now,
                      const date::time_zone& zone) {
  const Ms tod = iso.tod.since_midnight();
  if (iso.offset) {
    return finish(token, Timestamp{date::sys_days{iso.ymd} + tod - *iso.offset}, "", now);
  }
  const LocalAt at = locate(date::local_days{iso.ymd} + tod, &zone);
  switch (at.kind) {
    case LocalAt::Kind::kUnique:
      return finish(token, at.first, "", now);
    case LocalAt::Kind::kAmbiguous:
      // Unlike a bare "01:30", the date is given, so "most recent" has no say here.
      return finish(token, at.first,
                    twice_note(format_day(date::local_days{iso.ymd}) + " " + iso.tod.show(), &zone,
                               false, at.first_abbrev) +
                        "; add a UTC offset to mean the later one",
                    now);
    case LocalAt::Kind::kNonexistent:
      break;
  }
  return fail(
      quoted(token) + " did not exist in " + zone.name() +
      ": the clocks jumped forward. Add its UTC offset (`±HH:MM`) or give it in UTC (`Z`).");
}

}  // namespace

TimeParse parse_event_time(std::string_view token, Timestamp now, const date::time_zone& zone) {
  // People type "14:05: db failover" or "-15m, paged"; the punctuation is not the time.
  if (token.size() > 1) {
    const char last = token.back();
    if (last == '.' || last == ',' || last == ':' || last == ';') token.remove_suffix(1);
  }
  if (token.empty()) return std::monostate{};

  if (token[0] == '-' || token[0] == '+') {
    const RelativeParse rel = parse_relative(token);
    if (const auto* err = std::get_if<TimeError>(&rel)) return *err;
    const auto* r = std::get_if<Relative>(&rel);
    if (r == nullptr) return std::monostate{};
    if (r->future && r->amount > Ms{0}) {
      std::string back(token);
      back[0] = '-';
      return fail(quoted(token) + " is in the future; an event can't be in the future. For " +
                  "the past write " + quoted(back) + ".");
    }
    if (r->amount > kMaxBackdate) {
      return fail(quoted(token) + " is more than " + std::to_string(kMaxBackdate.count()) +
                  " days back; the timeline takes events from the last " +
                  std::to_string(kMaxBackdate.count()) + " days.");
    }
    return TimeOk{now - r->amount, "", {}};
  }

  if (!is_digit(token[0])) return std::monostate{};

  const IsoParse iso = parse_iso(token);
  if (const auto* err = std::get_if<TimeError>(&iso)) return *err;
  if (const auto* i = std::get_if<Iso>(&iso)) {
    TimeParse t = resolve_iso(token, *i, now, zone);
    if (auto* ok = std::get_if<TimeOk>(&t); ok != nullptr && !i->offset) ok->local_token = token;
    return t;
  }

  const ClockParse clock = parse_clock(token);
  if (const auto* err = std::get_if<TimeError>(&clock)) return *err;
  if (const auto* c = std::get_if<Clock>(&clock)) {
    TimeParse t = resolve_clock(token, *c, now, c->utc ? nullptr : &zone);
    if (auto* ok = std::get_if<TimeOk>(&t); ok != nullptr && !c->utc) ok->local_token = token;
    return t;
  }
  return std::monostate{};
}

std::string format_local(Timestamp t, const date::time_zone& zone) {
  return date::format("%F %T %Z", date::make_zoned(&zone, date::floor<std::chrono::seconds>(t)));
}

}  // namespace scribe
