// Times at the ends of the int64 range, as a damaged row or an unchecked platform time could
// bring them: every date, duration and draft computed from them is defined (no overflow,
// clean under UBSan) and says something a person can read.
#include <chrono>
#include <optional>
#include <string>
#include <tuple>

#include <date/date.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "postmortem/draft.h"
#include "postmortem/format.h"
#include "postmortem/json.h"
#include "postmortem/markdown.h"
#include "test_support.h"

namespace scribe {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::HasSubstr;
using testing::Not;

const Timestamp kMin = Timestamp::min();
const Timestamp kMax = Timestamp::max();

TEST(TimeExtremes, DatesAtTheEndsOfTheRange) {
  EXPECT_EQ(format_iso8601(kMax), "+292278994-08-17T07:12:55.807Z");
  EXPECT_EQ(format_iso8601(kMin), "-292275055-05-16T16:47:04.192Z");
  EXPECT_EQ(format_utc(kMax), "+292278994-08-17 07:12:55 UTC");
  EXPECT_EQ(format_utc_date(kMin), "-292275055-05-16");
  // Ordinary years keep four digits, 0 and 9999 included.
  EXPECT_EQ(format_utc_date(test::utc(0, 1, 1, 0, 0)), "0000-01-01");
  EXPECT_EQ(format_utc_date(test::utc(9999, 12, 31, 23, 59)), "9999-12-31");
  EXPECT_EQ(format_utc_date(test::utc(10000, 1, 1, 0, 0)), "+10000-01-01");
  EXPECT_EQ(format_utc_date(test::utc(-1, 12, 31, 0, 0)), "-1-12-31");
}

TEST(TimeExtremes, CalendarAgreesWithTheDateLibraryWhereItHasOne) {
  // Every 997th day over ±800 years around the epoch, and the first and last ms of each.
  for (int day = -292'000; day <= 292'000; day += 997) {
    const Timestamp start{date::sys_days{date::days{day}}};
    for (Timestamp t : {start, start + std::chrono::hours{24} - milliseconds{1}}) {
      const date::year_month_day ymd{date::floor<date::days>(t)};
      const UtcFields f = utc_fields(t);
      ASSERT_EQ(f.year, static_cast<int>(ymd.year())) << day;
      ASSERT_EQ(f.month, static_cast<unsigned>(ymd.month())) << day;
      ASSERT_EQ(f.day, static_cast<unsigned>(ymd.day())) << day;
      ASSERT_EQ(utc_day_number(t), day);
    }
  }
}

TEST(TimeExtremes, DurationsNeverOverflow) {
  EXPECT_EQ(seconds_between(kMin, kMax).count(), 18'446'744'073'709'551);
  EXPECT_EQ(seconds_between(kMax, kMin).count(), -18'446'744'073'709'551);
  EXPECT_EQ(format_duration(seconds_between(kMin, kMax)), "more than 100 years");
  EXPECT_EQ(format_duration(seconds_between(kMax, kMin)), "-more than 100 years");
  EXPECT_EQ(format_duration(seconds::min()), "-more than 100 years");
  EXPECT_EQ(format_duration(seconds::max()), "more than 100 years");
  EXPECT_EQ(format_duration(seconds{36525LL * 86400}), "36525d 00h 00m");
  EXPECT_THAT(format_offset(seconds::min()), testing::StartsWith("-"));
  EXPECT_THAT(format_offset(seconds::max()), testing::StartsWith("+"));
}

IncidentRecord record_with(Timestamp declared, Timestamp event, std::optional<Timestamp> resolved) {
  IncidentRecord r;
  r.incident.id = 7;
  r.incident.title = "Clock gone wrong";
  r.incident.commander = test::kAlice;
  r.incident.declared_at = declared;
  if (resolved) {
    r.incident.status = IncidentStatus::kResolved;
    r.incident.resolved_at = resolved;
    r.incident.mitigated_at = resolved;
  }
  r.events.push_back(test::event(1, "2026-11-20 14:00:00", test::kBob, EventKind::kImpact, "a"));
  r.events[0].occurred_at = event;
  r.events.push_back(test::event(2, "2026-11-20 14:00:00", test::kBob, EventKind::kAlert, "b"));
  r.events[1].occurred_at = declared;
  return r;
}

TEST(TimeExtremes, DraftsFromAbsurdTimesRenderEveryFormat) {
  const Timestamp now = test::utc(2026, 11, 20, 14, 0);
  for (const auto& [declared, event, resolved] :
       {std::tuple{kMin, kMax, std::optional<Timestamp>{kMax}},
        std::tuple{kMax, kMin, std::optional<Timestamp>{kMin}},
        std::tuple{kMin, kMin, std::optional<Timestamp>{}},
        std::tuple{kMax, kMax, std::optional<Timestamp>{}}}) {
    const Draft d = assemble_draft(record_with(declared, event, resolved), now);
    EXPECT_GE(d.duration.count(), 0);
    for (const KeyDuration& k : d.durations) {
      if (k.seconds) {
        EXPECT_GE(k.seconds->count(), 0) << k.id;
      }
    }
    const std::string md = render_markdown(d, "/");
    EXPECT_THAT(md, HasSubstr("Clock gone wrong"));
    EXPECT_THAT(md, Not(HasSubstr("d 00h 00m 00s")));  // no garbage day counts
    const std::string json = render_json(d, 0);
    EXPECT_THAT(json, HasSubstr("Clock gone wrong"));
  }
  // Resolved at the top of the range, declared at the bottom: the longest incident shown
  // is "more than 100 years", not a wrapped or negative number.
  const Draft d = assemble_draft(record_with(kMin, kMin, kMax), now);
  EXPECT_THAT(render_markdown(d, "/"), HasSubstr("more than 100 years"));
}

}  // namespace
}  // namespace scribe
