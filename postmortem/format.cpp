#include "postmortem/format.h"

#include <algorithm>
#include <cstdint>

#include <date/date.h>
#include <fmt/compile.h>
#include <fmt/format.h>

namespace scribe {
namespace {

// The instants a four-digit year can show. A time outside them comes only from absurd
// input (a homeserver's clock, a hand-edited row) and is shown as the nearest end: every
// text form stays valid (ISO 8601 has four-digit years), and the calendar arithmetic below
// cannot overflow.
constexpr Timestamp kFirstShown{date::sys_days{date::year{0} / 1 / 1}};
constexpr Timestamp kLastShown =
    Timestamp{date::sys_days{date::year{10000} / 1 / 1}} - std::chrono::milliseconds{1};

}  // namespace

UtcFields utc_fields(Timestamp t) {
  t = std::clamp(t, kFirstShown, kLastShown);
  // floor (not duration_cast) so times before 1970 still land on the right day/second.
  const auto day = date::floor<date::days>(t);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<std::chrono::milliseconds> clock{t - day};
  UtcFields f;
  f.year = static_cast<int>(ymd.year());
  f.month = static_cast<unsigned>(ymd.month());
  f.day = static_cast<unsigned>(ymd.day());
  f.hour = static_cast<unsigned>(clock.hours().count());
  f.minute = static_cast<unsigned>(clock.minutes().count());
  f.second = static_cast<unsigned>(clock.seconds().count());
  f.millisecond = static_cast<unsigned>(clock.subseconds().count());
  return f;
}

std::string format_utc_date(Timestamp t) {
  const UtcFields f = utc_fields(t);
  return fmt::format("{:04}-{:02}-{:02}", f.year, f.month, f.day);
}

std::string format_utc_datetime(Timestamp t) {
  const UtcFields f = utc_fields(t);
  return fmt::format(FMT_COMPILE("{:04}-{:02}-{:02} {:02}:{:02}:{:02}"), f.year, f.month, f.day,
                     f.hour, f.minute, f.second);
}

std::string format_utc(Timestamp t) { return format_utc_datetime(t) + " UTC"; }

std::string format_iso8601(Timestamp t) {
  const UtcFields f = utc_fields(t);
  return fmt::format(FMT_COMPILE("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z"), f.year, f.month,
                     f.day, f.hour, f.minute, f.second, f.millisecond);
}

std::string format_duration(std::chrono::seconds d) {
  const std::int64_t s = d.count();
  const char* sign = s < 0 ? "-" : "";
  // Unsigned magnitude: negating INT64_MIN would overflow.
  const std::uint64_t u = s < 0 ? 0 - static_cast<std::uint64_t>(s) : static_cast<std::uint64_t>(s);
  const std::uint64_t days = u / 86400, hours = u / 3600 % 24, minutes = u / 60 % 60, secs = u % 60;
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

std::chrono::seconds seconds_between(Timestamp from, Timestamp to) {
  return date::floor<std::chrono::seconds>(to) - date::floor<std::chrono::seconds>(from);
}

}  // namespace scribe
