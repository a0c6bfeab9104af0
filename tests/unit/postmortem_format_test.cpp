#include "postmortem/format.h"

#include <chrono>

#include <gtest/gtest.h>

#include "test_support.h"

namespace scribe {
namespace {

using std::chrono::seconds;
using test::ts;

TEST(PostmortemFormat, Durations) {
  EXPECT_EQ(format_duration(seconds{0}), "0s");
  EXPECT_EQ(format_duration(seconds{42}), "42s");
  EXPECT_EQ(format_duration(seconds{60}), "1m 00s");
  EXPECT_EQ(format_duration(seconds{185}), "3m 05s");
  EXPECT_EQ(format_duration(seconds{3600}), "1h 00m 00s");
  EXPECT_EQ(format_duration(seconds{3723}), "1h 02m 03s");
  EXPECT_EQ(format_duration(seconds{86399}), "23h 59m 59s");
  EXPECT_EQ(format_duration(seconds{86400}), "1d 00h 00m");
  EXPECT_EQ(format_duration(seconds{2 * 86400 + 3 * 3600 + 4 * 60 + 59}), "2d 03h 04m");
  EXPECT_EQ(format_duration(seconds{-5}), "-5s");
}

TEST(PostmortemFormat, Offsets) {
  EXPECT_EQ(format_offset(seconds{0}), "+00:00:00");
  EXPECT_EQ(format_offset(seconds{185}), "+00:03:05");
  EXPECT_EQ(format_offset(seconds{23 * 3600 + 59 * 60 + 59}), "+23:59:59");
  EXPECT_EQ(format_offset(seconds{86400 + 3723}), "+1d 01:02:03");
  EXPECT_EQ(format_offset(seconds{-5}), "-00:00:05");
}

TEST(PostmortemFormat, Timestamps) {
  const Timestamp t = ts("2026-11-20 14:05:30.123");
  EXPECT_EQ(format_utc(t), "2026-11-20 14:05:30 UTC");
  EXPECT_EQ(format_utc_datetime(t), "2026-11-20 14:05:30");
  EXPECT_EQ(format_utc_date(t), "2026-11-20");
  EXPECT_EQ(format_iso8601(t), "2026-11-20T14:05:30.123Z");
  EXPECT_EQ(format_iso8601(ts("2026-11-20 14:05:30")), "2026-11-20T14:05:30.000Z");
}

TEST(PostmortemFormat, TimesBefore1970FloorToTheRightSecond) {
  const Timestamp t = Timestamp{} - std::chrono::milliseconds{1};
  EXPECT_EQ(format_iso8601(t), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_utc(t), "1969-12-31 23:59:59 UTC");
}

TEST(PostmortemFormat, SecondsBetweenAgreesWithShownTimes) {
  // 14:00:00.900 and 14:00:01.100 are shown as 14:00:00 and 14:00:01: one second apart.
  EXPECT_EQ(seconds_between(ts("2026-11-20 14:00:00.900"), ts("2026-11-20 14:00:01.100")),
            seconds{1});
  EXPECT_EQ(seconds_between(ts("2026-11-20 14:00:10"), ts("2026-11-20 14:00:00")), seconds{-10});
}

TEST(PostmortemFormat, KeyDurationDisplay) {
  KeyDuration k{"time_to_detect",
                "Time to detect",
                {"impact began", std::nullopt, "", "no impact"},
                {"detected", std::nullopt, "", "not detected"},
                std::nullopt,
                ""};
  EXPECT_EQ(format_key_duration(k), "unknown — no impact; not detected");
  k.to.missing.clear();
  EXPECT_EQ(format_key_duration(k), "unknown — no impact");
  k.seconds = seconds{0};
  k.remark = "detected 5s before impact began";
  EXPECT_EQ(format_key_duration(k), "0s (detected 5s before impact began)");
  k.seconds = seconds{65};
  k.remark.clear();
  EXPECT_EQ(format_key_duration(k), "1m 05s");
}

}  // namespace
}  // namespace scribe
