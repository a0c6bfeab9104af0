#include "postmortem/format.h"

#include <cstdint>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/compile.h>
#include <fmt/format.h>

namespace scribe {

namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;

// Floored division and its remainder, without the overflow of `t - remainder` at the
// bottom of the range.
struct DayAndTime {
  std::int64_t day;        // days since 1970-01-01
  std::int64_t ms_of_day;  // 0 .. kMsPerDay - 1
};

DayAndTime split_day(Timestamp t) {
  const std::int64_t ms = t.time_since_epoch().count();
  std::int64_t day = ms / kMsPerDay;
  std::int64_t rest = ms % kMsPerDay;
  if (rest < 0) {
    rest += kMsPerDay;
    --day;
  }
  return {day, rest};
}

}  // namespace

std::int64_t utc_day_number(Timestamp t) { return split_day(t).day; }

UtcFields utc_fields(Timestamp t) {
  // The proleptic Gregorian calendar from a day count in 64 bits (the civil-from-days
  // algorithm, in 400-year eras), so that every Timestamp, even at the ends of its range,
  // has a date: date::days is 32-bit and would wrap there.
  const DayAndTime split = split_day(t);
  const std::int64_t z = split.day + 719468;  // days since 0000-03-01
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;                                       // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const std::int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  UtcFields f;
  f.year = static_cast<int>(year);  // within ±292 million: fits
  f.month = static_cast<unsigned>(month);
  f.day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const std::int64_t ms = split.ms_of_day;
  f.hour = static_cast<unsigned>(ms / 3'600'000);
  f.minute = static_cast<unsigned>(ms / 60'000 % 60);
  f.second = static_cast<unsigned>(ms / 1000 % 60);
  f.millisecond = static_cast<unsigned>(ms % 1000);
  return f;
}

std::string format_year(int year) {
  // ISO 8601's expanded form (explicit sign) outside the four-digit years.
  if (year >= 0 && year <= 9999) return fmt::format(FMT_COMPILE("{:04}"), year);
  return fmt::format(FMT_COMPILE("{:+}"), year);
}

std::string format_utc_date(Timestamp t) {
  const UtcFields f = utc_fields(t);
  return fmt::format("{}-{:02}-{:02}", format_year(f.year), f.month, f.day);
}

std::string format_utc_datetime(Timestamp t) {
  const UtcFields f = utc_fields(t);
  if (f.year < 0 || f.year > 9999) {
    return fmt::format("{}-{:02}-{:02} {:02}:{:02}:{:02}", format_year(f.year), f.month, f.day,
                       f.hour, f.minute, f.second);
  }
  return fmt::format(FMT_COMPILE("{:04}-{:02}-{:02} {:02}:{:02}:{:02}"), f.year, f.month, f.day,
                     f.hour, f.minute, f.second);
}

std::string format_utc(Timestamp t) { return format_utc_datetime(t) + " UTC"; }

std::string format_iso8601(Timestamp t) {
  const UtcFields f = utc_fields(t);
  if (f.year < 0 || f.year > 9999) {
    return fmt::format("{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", format_year(f.year), f.month,
                       f.day, f.hour, f.minute, f.second, f.millisecond);
  }
  return fmt::format(FMT_COMPILE("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z"), f.year, f.month,
                     f.day, f.hour, f.minute, f.second, f.millisecond);
}

std::string format_duration(std::chrono::seconds d) {
  constexpr std::uint64_t kLongestShownDays = 36525;  // 100 years
  const std::int64_t s = d.count();
  const char* sign = s < 0 ? "-" : "";
  // Unsigned magnitude: negating INT64_MIN would overflow.
  const std::uint64_t u = s < 0 ? 0 - static_cast<std::uint64_t>(s) : static_cast<std::uint64_t>(s);
  const std::uint64_t days = u / 86400, hours = u / 3600 % 24, minutes = u / 60 % 60, secs = u % 60;
  // Only a wrong clock or a typo gets here; a count of days in the billions reads as noise.
  if (days > kLongestShownDays) return fmt::format("{}more than 100 years", sign);
  if (days > 0) return fmt::format("{}{}d {:02}h {:02}m", sign, days, hours, minutes);
  if (hours > 0) return fmt::format("{}{}h {:02}m {:02}s", sign, hours, minutes, secs);
  if (minutes > 0) return fmt::format("{}{}m {:02}s", sign, minutes, secs);
  return fmt::format("{}{}s", sign, secs);
}

std::string format_offset(std::chrono::seconds d) {
  const std::int64_t s = d.count();
  const char sign = s < 0 ? '-' : '+';
  const std::uint64_t u = s < 0 ? 0 - static_cast<std::uint64_t>(s) : static_cast<std::uint64_t>(s);
  const std::uint64_t days = u / 86400, hours = u / 3600 % 24, minutes = u / 60 % 60, secs = u % 60;
  if (days > 0)
    return fmt::format(FMT_COMPILE("{}{}d {:02}:{:02}:{:02}"), sign, days, hours, minutes, secs);
  return fmt::format(FMT_COMPILE("{}{:02}:{:02}:{:02}"), sign, hours, minutes, secs);
}

std::string format_key_duration(const KeyDuration& k) {
  if (k.seconds) {
    std::string text = format_duration(*k.seconds);
    if (!k.remark.empty()) text += fmt::format(" ({})", k.remark);
    return text;
  }
  std::string text = "unknown — ";
  text += k.from.missing;
  if (!k.from.missing.empty() && !k.to.missing.empty()) text += "; ";
  text += k.to.missing;
  return text;
}

std::string customer_impact_text(const Draft& d, std::string_view command_prefix) {
  const KeyDuration& k = d.customer_impact;
  if (!k.seconds || !k.from.at || !k.to.at) {
    return fmt::format("{}; add with `{}timeline #impact <text>` (backdate it: `HH:MM`)",
                       format_key_duration(k), command_prefix);
  }
  std::string text = fmt::format("{} (impact began {} → {} {}", format_key_duration(k),
                                 format_utc_and_local(*k.from.at, d.zone), k.to.name,
                                 format_utc_and_local(*k.to.at, d.zone));
  if (!k.to.fallback.empty()) text += fmt::format("; {}", k.to.fallback);
  text += ')';
  return text;
}

namespace {
bool has_local(Timestamp t, const date::time_zone* zone) {
  if (zone == nullptr) return false;
  const int year = utc_fields(t).year;
  return year >= 1 && year <= 9999;
}
}  // namespace

std::string format_local_datetime(Timestamp t, const date::time_zone* zone) {
  if (!has_local(t, zone)) return {};
  return date::format("%F %T %Z", date::make_zoned(zone, date::floor<std::chrono::seconds>(t)));
}

std::string format_iso8601_local(Timestamp t, const date::time_zone* zone) {
  if (!has_local(t, zone)) return format_iso8601(t);
  const auto ms = date::floor<std::chrono::milliseconds>(t);
  std::string s = date::format("%FT%T%z", date::make_zoned(zone, ms));
  // %z is "+0200"; ISO 8601 extended form wants "+02:00".
  s.insert(s.size() - 2, ":");
  return s;
}

std::string format_utc_and_local(Timestamp t, const date::time_zone* zone) {
  if (!has_local(t, zone)) return format_utc(t);
  return fmt::format("{} ({})", format_utc(t), format_local_datetime(t, zone));
}

std::chrono::seconds seconds_between(Timestamp from, Timestamp to) {
  // Whole seconds of an int64 count of milliseconds span at most ±9.3e15, so their
  // difference (at most 1.9e16) cannot overflow int64, whatever the two times are.
  return date::floor<std::chrono::seconds>(to) - date::floor<std::chrono::seconds>(from);
}

}  // namespace scribe
