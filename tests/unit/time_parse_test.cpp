#include "commands/time_parse.h"

#include <date/date.h>
#include <date/tz.h>

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "test_support.h"

namespace scribe {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using test::utc;

const date::time_zone& zone(std::string_view name) { return *date::locate_zone(name); }
const date::time_zone& kUtc() { return zone("UTC"); }
const date::time_zone& kBerlin() { return zone("Europe/Berlin"); }
const date::time_zone& kNewYork() { return zone("America/New_York"); }

// A fixed "now" with milliseconds, so exactness is visible: 2026-11-20 14:30:15.500 UTC.
const Timestamp kNow = utc(2026, 11, 20, 14, 30, 15, 500);

std::string show(Timestamp t) { return date::format("%F %T", t); }

std::string describe(const TimeParse& p) {
  if (const auto* ok = std::get_if<TimeOk>(&p)) return "ok " + show(ok->at) + " [" + ok->note + "]";
  if (const auto* err = std::get_if<TimeError>(&p)) return "error: " + err->message;
  return "not a time";
}

testing::AssertionResult At(const TimeParse& p, Timestamp expected) {
  const auto* ok = std::get_if<TimeOk>(&p);
  if (ok != nullptr && ok->at == expected) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "expected " << show(expected) << ", got " << describe(p);
}

testing::AssertionResult Error(const TimeParse& p, std::string_view contains = "") {
  const auto* err = std::get_if<TimeError>(&p);
  if (err == nullptr)
    return testing::AssertionFailure() << "expected an error, got " << describe(p);
  if (err->message.find(contains) == std::string::npos) {
    return testing::AssertionFailure() << "error lacks \"" << contains << "\": " << err->message;
  }
  // Every error teaches the accepted forms.
  if (err->message.find("-15m") == std::string::npos ||
      err->message.find("2026-11-20T14:05Z") == std::string::npos) {
    return testing::AssertionFailure() << "error does not name the forms: " << err->message;
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult Text(const TimeParse& p) {
  if (std::holds_alternative<std::monostate>(p)) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "expected event text, got " << describe(p);
}

std::string note(const TimeParse& p) {
  const auto* ok = std::get_if<TimeOk>(&p);
  return ok == nullptr ? "<" + describe(p) + ">" : ok->note;
}

TimeParse parse(std::string_view token, Timestamp now = kNow) {
  return parse_event_time(token, now, kUtc());
}

// ------------------------------------------------------------------ wall-clock times

TEST(TimeParseClock, HoursAndMinutesToday) {
  EXPECT_TRUE(At(parse("14:05"), utc(2026, 11, 20, 14, 5)));
  EXPECT_EQ(note(parse("14:05")), "");
}

TEST(TimeParseClock, WithSeconds) {
  EXPECT_TRUE(At(parse("14:05:30"), utc(2026, 11, 20, 14, 5, 30)));
}

TEST(TimeParseClock, SingleDigitHour) {
  EXPECT_TRUE(At(parse("9:05"), utc(2026, 11, 20, 9, 5)));
  EXPECT_TRUE(At(parse("09:05"), utc(2026, 11, 20, 9, 5)));
  EXPECT_TRUE(At(parse("0:00"), utc(2026, 11, 20, 0, 0)));
}

TEST(TimeParseClock, FractionalSecondsAreExactMilliseconds) {
  EXPECT_TRUE(At(parse("14:05:30.250"), utc(2026, 11, 20, 14, 5, 30, 250)));
  EXPECT_TRUE(At(parse("14:05:30.25"), utc(2026, 11, 20, 14, 5, 30, 250)));
  EXPECT_TRUE(At(parse("14:05:30,5"), utc(2026, 11, 20, 14, 5, 30, 500)));
  EXPECT_TRUE(At(parse("14:05:30.123999"), utc(2026, 11, 20, 14, 5, 30, 123)));
}

TEST(TimeParseClock, TwelveHourForms) {
  EXPECT_TRUE(At(parse("2pm"), utc(2026, 11, 20, 14, 0)));
  EXPECT_TRUE(At(parse("2:05PM"), utc(2026, 11, 20, 14, 5)));
  EXPECT_TRUE(At(parse("12:30pm"), utc(2026, 11, 20, 12, 30)));
  EXPECT_TRUE(At(parse("12am"), utc(2026, 11, 20, 0, 0)));
  EXPECT_TRUE(At(parse("11:15:20am"), utc(2026, 11, 20, 11, 15, 20)));
}

TEST(TimeParseClock, InvalidTwelveHourTimesAreErrors) {
  EXPECT_TRUE(Error(parse("14:05pm"), "1 to 12"));
  EXPECT_TRUE(Error(parse("0:30am"), "1 to 12"));
  EXPECT_TRUE(Error(parse("13pm"), "1 to 12"));
}

TEST(TimeParseClock, OutOfRangeIsAnError) {
  EXPECT_TRUE(Error(parse("24:00"), "hours go from 0 to 23"));
  EXPECT_TRUE(Error(parse("25:00"), "hours go from 0 to 23"));
  EXPECT_TRUE(Error(parse("12:60"), "minutes and seconds"));
  EXPECT_TRUE(Error(parse("12:30:60"), "minutes and seconds"));
  EXPECT_TRUE(Error(parse("99:99"), "`99:99`"));
}

TEST(TimeParseClock, ZSuffixReadsUtcWhateverTheZone) {
  // 15:30 in Berlin: "14:05" is Berlin time, "14:05Z" is UTC.
  EXPECT_TRUE(At(parse_event_time("14:05", kNow, kBerlin()), utc(2026, 11, 20, 13, 5)));
  EXPECT_TRUE(At(parse_event_time("14:05Z", kNow, kBerlin()), utc(2026, 11, 20, 14, 5)));
  EXPECT_TRUE(At(parse_event_time("14:05:30z", kNow, kNewYork()), utc(2026, 11, 20, 14, 5, 30)));
  EXPECT_TRUE(At(parse_event_time("14:05UTC", kNow, kBerlin()), utc(2026, 11, 20, 14, 5)));
}

TEST(TimeParseClock, TrailingPunctuationIsIgnored) {
  EXPECT_TRUE(At(parse("14:05:"), utc(2026, 11, 20, 14, 5)));
  EXPECT_TRUE(At(parse("14:05,"), utc(2026, 11, 20, 14, 5)));
  EXPECT_TRUE(At(parse("14:05:30."), utc(2026, 11, 20, 14, 5, 30)));
}

// ------------------------------------------------------------------ yesterday and skew

TEST(TimeParseClock, FutureBeyondToleranceMeansYesterday) {
  const TimeParse p = parse("14:33");  // 2 min 44.5 s ahead of now
  EXPECT_TRUE(At(p, utc(2026, 11, 19, 14, 33)));
  EXPECT_EQ(note(p), "read as yesterday (2026-11-19), since 14:33 today is still to come");
}

TEST(TimeParseClock, FutureWithinToleranceKeepsTheTime) {
  EXPECT_TRUE(At(parse("14:31"), utc(2026, 11, 20, 14, 31)));
  EXPECT_TRUE(At(parse("14:32"), utc(2026, 11, 20, 14, 32)));
  EXPECT_EQ(note(parse("14:32")), "");
}

TEST(TimeParseClock, ToleranceBoundaryIsInclusive) {
  const Timestamp now = utc(2026, 11, 20, 14, 30);
  EXPECT_TRUE(At(parse("14:32", now), utc(2026, 11, 20, 14, 32)));
  EXPECT_TRUE(At(parse("14:32:01", now), utc(2026, 11, 19, 14, 32, 1)));
  EXPECT_TRUE(At(parse("14:30", now), now));
}

TEST(TimeParseClock, JustAfterMidnightLateEveningIsYesterday) {
  const Timestamp now = utc(2026, 11, 20, 0, 5);
  const TimeParse p = parse("23:50", now);
  EXPECT_TRUE(At(p, utc(2026, 11, 19, 23, 50)));
  EXPECT_EQ(note(p), "read as yesterday (2026-11-19), since 23:50 today is still to come");
  EXPECT_TRUE(At(parse("00:01", now), utc(2026, 11, 20, 0, 1)));
}

TEST(TimeParseClock, JustBeforeMidnightEarlyMorningIsToday) {
  const Timestamp now = utc(2026, 11, 20, 23, 55);
  EXPECT_TRUE(At(parse("00:10", now), utc(2026, 11, 20, 0, 10)));
  EXPECT_TRUE(At(parse("23:54", now), utc(2026, 11, 20, 23, 54)));
}

TEST(TimeParseClock, ClientClockAheadAcrossMidnightIsTomorrowWithinTolerance) {
  // The user's clock already shows 00:01 while ours shows 23:59:30.
  const Timestamp now = utc(2026, 11, 20, 23, 59, 30);
  EXPECT_TRUE(At(parse("00:01", now), utc(2026, 11, 21, 0, 1)));
  EXPECT_TRUE(At(parse("00:05", now), utc(2026, 11, 20, 0, 5)));
}

TEST(TimeParseClock, YesterdayUsesTheLocalDateNotTheUtcDate) {
  // 23:30 UTC on the 20th is 00:30 on the 21st in Berlin.
  const Timestamp now = utc(2026, 11, 20, 23, 30);
  EXPECT_TRUE(At(parse_event_time("00:15", now, kBerlin()), utc(2026, 11, 20, 23, 15)));
  const TimeParse p = parse_event_time("23:45", now, kBerlin());
  EXPECT_TRUE(At(p, utc(2026, 11, 20, 22, 45)));
  EXPECT_EQ(note(p), "read as yesterday (2026-11-20), since 23:45 today is still to come");
}

TEST(TimeParseClock, NoteShowsTwelveHourTimesIn24HourForm) {
  EXPECT_EQ(note(parse("11:59:59pm")),
            "read as yesterday (2026-11-19), since 23:59:59 today is still to come");
}

// ------------------------------------------------------------------ non-UTC zones and DST

TEST(TimeParseZone, BerlinWinterAndSummer) {
  EXPECT_TRUE(At(parse_event_time("15:05", kNow, kBerlin()), utc(2026, 11, 20, 14, 5)));
  const TimeParse late = parse_event_time("16:00", kNow, kBerlin());  // 15:30 in Berlin
  EXPECT_TRUE(At(late, utc(2026, 11, 19, 15, 0)));
  const Timestamp summer = utc(2026, 7, 1, 12, 0);  // 14:00 CEST
  EXPECT_TRUE(At(parse_event_time("13:00", summer, kBerlin()), utc(2026, 7, 1, 11, 0)));
}

TEST(TimeParseZone, NewYorkWinter) {
  EXPECT_TRUE(At(parse_event_time("9:05", kNow, kNewYork()), utc(2026, 11, 20, 14, 5)));
}

// 2026-03-08 in New York: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
TEST(TimeParseZone, SpringForwardGapIsAnErrorOnceItHasPassed) {
  const Timestamp now = utc(2026, 3, 8, 12, 0);
  EXPECT_TRUE(Error(parse_event_time("02:30", now, kNewYork()), "did not exist"));
  EXPECT_TRUE(At(parse_event_time("01:30", now, kNewYork()), utc(2026, 3, 8, 6, 30)));
  EXPECT_TRUE(At(parse_event_time("03:30", now, kNewYork()), utc(2026, 3, 8, 7, 30)));
}

TEST(TimeParseZone, SpringForwardGapStillToComeMeansYesterday) {
  const Timestamp now = utc(2026, 3, 8, 6, 30);  // 01:30 EST
  const TimeParse p = parse_event_time("02:30", now, kNewYork());
  EXPECT_TRUE(At(p, utc(2026, 3, 7, 7, 30)));
  EXPECT_EQ(note(p), "read as yesterday (2026-03-07), since 02:30 today is still to come");
}

TEST(TimeParseZone, BerlinSpringForwardGap) {
  EXPECT_TRUE(
      Error(parse_event_time("02:30", utc(2026, 3, 29, 12, 0), kBerlin()), "Europe/Berlin"));
}

// 2026-11-01 in New York: 02:00 EDT goes back to 01:00 EST (06:00 UTC); 01:30 happens
// at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
TEST(TimeParseZone, FallBackBothPassedTakesTheMostRecent) {
  const Timestamp now = utc(2026, 11, 1, 6, 45);  // 01:45 EST
  const TimeParse p = parse_event_time("01:30", now, kNewYork());
  EXPECT_TRUE(At(p, utc(2026, 11, 1, 6, 30)));
  EXPECT_EQ(note(p),
            "01:30 happened twice in America/New_York (the clocks went back); read as the later "
            "one, 01:30 EST");
}

TEST(TimeParseZone, FallBackSecondStillToComeTakesTheFirst) {
  const Timestamp now = utc(2026, 11, 1, 5, 45);  // 01:45 EDT
  const TimeParse p = parse_event_time("01:30", now, kNewYork());
  EXPECT_TRUE(At(p, utc(2026, 11, 1, 5, 30)));
  EXPECT_NE(note(p).find("earlier one, 01:30 EDT"), std::string::npos) << note(p);
}

TEST(TimeParseZone, FallBackNotYetReachedMeansYesterday) {
  const Timestamp now = utc(2026, 11, 1, 5, 10);  // 01:10 EDT
  const TimeParse p = parse_event_time("01:30", now, kNewYork());
  EXPECT_TRUE(At(p, utc(2026, 10, 31, 5, 30)));
  EXPECT_NE(note(p).find("yesterday (2026-10-31)"), std::string::npos) << note(p);
}

TEST(TimeParseZone, BerlinFallBack) {
  // 2026-10-25: 03:00 CEST goes back to 02:00 CET (01:00 UTC).
  const TimeParse p = parse_event_time("02:30", utc(2026, 10, 25, 12, 0), kBerlin());
  EXPECT_TRUE(At(p, utc(2026, 10, 25, 1, 30)));
  EXPECT_NE(note(p).find("later one, 02:30 CET"), std::string::npos) << note(p);
}

TEST(TimeParseZone, RelativeTimesIgnoreDst) {
  const Timestamp now = utc(2026, 3, 8, 7, 30);  // 03:30 EDT, half an hour after the jump
  EXPECT_TRUE(At(parse_event_time("-1h", now, kNewYork()), utc(2026, 3, 8, 6, 30)));
}

// ------------------------------------------------------------------ relative times

TEST(TimeParseRelative, SingleUnits) {
  EXPECT_TRUE(At(parse("-15m"), kNow - minutes{15}));
  EXPECT_TRUE(At(parse("-2h"), kNow - hours{2}));
  EXPECT_TRUE(At(parse("-90s"), kNow - seconds{90}));
  EXPECT_TRUE(At(parse("-1d"), kNow - hours{24}));
}

TEST(TimeParseRelative, KeepsTheMillisecondsOfNow) {
  EXPECT_TRUE(At(parse("-15m"), utc(2026, 11, 20, 14, 15, 15, 500)));
}

TEST(TimeParseRelative, Combined) {
  EXPECT_TRUE(At(parse("-1h30m"), kNow - minutes{90}));
  EXPECT_TRUE(At(parse("-1d2h3m4s"), kNow - (hours{26} + minutes{3} + seconds{4})));
  EXPECT_TRUE(At(parse("-2m30s"), kNow - seconds{150}));
}

TEST(TimeParseRelative, UnitWordsAndCase) {
  EXPECT_TRUE(At(parse("-15min"), kNow - minutes{15}));
  EXPECT_TRUE(At(parse("-15mins"), kNow - minutes{15}));
  EXPECT_TRUE(At(parse("-2hours"), kNow - hours{2}));
  EXPECT_TRUE(At(parse("-1hr30min"), kNow - minutes{90}));
  EXPECT_TRUE(At(parse("-3days"), kNow - hours{72}));
  EXPECT_TRUE(At(parse("-15M"), kNow - minutes{15}));
  EXPECT_TRUE(At(parse("-10sec"), kNow - seconds{10}));
}

TEST(TimeParseRelative, ZeroIsNow) {
  EXPECT_TRUE(At(parse("-0m"), kNow));
  EXPECT_TRUE(At(parse("+0s"), kNow));
}

TEST(TimeParseRelative, FutureIsAnError) {
  EXPECT_TRUE(Error(parse("+5m"), "can't be in the future"));
  EXPECT_TRUE(Error(parse("+5m"), "`-5m`"));
  EXPECT_TRUE(Error(parse("+1s"), "future"));
}

TEST(TimeParseRelative, CapIsThirtyDays) {
  EXPECT_TRUE(At(parse("-30d"), kNow - hours{24 * 30}));
  EXPECT_TRUE(At(parse("-720h"), kNow - hours{720}));
  EXPECT_TRUE(Error(parse("-31d"), "30 days"));
  EXPECT_TRUE(Error(parse("-30d1s"), "30 days"));
  EXPECT_TRUE(Error(parse("-721h"), "30 days"));
  EXPECT_TRUE(Error(parse("-99999999999999999999d"), "30 days"));
}

TEST(TimeParseRelative, MalformedAttemptsAreErrors) {
  EXPECT_TRUE(Error(parse("-1h30"), "needs a unit"));
  EXPECT_TRUE(Error(parse("-1.5h"), "whole numbers"));
  EXPECT_TRUE(Error(parse("-30m1h"), "largest first"));
  EXPECT_TRUE(Error(parse("-1h1h"), "largest first"));
}

TEST(TimeParseRelative, TrailingPunctuationIsIgnored) {
  EXPECT_TRUE(At(parse("-15m,"), kNow - minutes{15}));
}

// ------------------------------------------------------------------ ISO 8601

TEST(TimeParseIso, UtcForms) {
  EXPECT_TRUE(At(parse("2026-11-20T14:05Z"), utc(2026, 11, 20, 14, 5)));
  EXPECT_TRUE(At(parse("2026-11-20T14:05:30Z"), utc(2026, 11, 20, 14, 5, 30)));
  EXPECT_TRUE(At(parse("2026-11-20T14:05:30.250Z"), utc(2026, 11, 20, 14, 5, 30, 250)));
  EXPECT_TRUE(At(parse("2026-11-20t14:05z"), utc(2026, 11, 20, 14, 5)));
  EXPECT_TRUE(At(parse("2026-11-19T23:59:59.999Z"), utc(2026, 11, 19, 23, 59, 59, 999)));
}

TEST(TimeParseIso, Offsets) {
  EXPECT_TRUE(At(parse("2026-11-20T15:05:30+01:00"), utc(2026, 11, 20, 14, 5, 30)));
  EXPECT_TRUE(At(parse("2026-11-20T09:05-0500"), utc(2026, 11, 20, 14, 5)));
  EXPECT_TRUE(At(parse("2026-11-20T19:35+05:30"), utc(2026, 11, 20, 14, 5)));
  EXPECT_TRUE(At(parse("2026-11-20T14:05+01"), utc(2026, 11, 20, 13, 5)));
  EXPECT_TRUE(At(parse("2026-11-20T09:05:30.125-05:00"), utc(2026, 11, 20, 14, 5, 30, 125)));
  // The offset wins over the zone.
  EXPECT_TRUE(
      At(parse_event_time("2026-11-20T14:05+00:00", kNow, kBerlin()), utc(2026, 11, 20, 14, 5)));
}

TEST(TimeParseIso, WithoutOffsetIsLocalTimeInTheZone) {
  EXPECT_TRUE(At(parse("2026-11-20T14:05"), utc(2026, 11, 20, 14, 5)));
  EXPECT_TRUE(At(parse_event_time("2026-11-20T15:05:30.250", kNow, kBerlin()),
                 utc(2026, 11, 20, 14, 5, 30, 250)));
  EXPECT_TRUE(At(parse_event_time("2026-11-20T09:05", kNow, kNewYork()), utc(2026, 11, 20, 14, 5)));
  EXPECT_TRUE(At(parse_event_time("2026-07-01T14:00", utc(2026, 7, 2, 0, 0), kBerlin()),
                 utc(2026, 7, 1, 12, 0)));
}

TEST(TimeParseIso, FutureBeyondToleranceIsAnError) {
  EXPECT_TRUE(At(parse("2026-11-20T14:32Z"), utc(2026, 11, 20, 14, 32)));
  EXPECT_TRUE(Error(parse("2026-11-20T14:33Z"), "is in the future"));
  EXPECT_TRUE(Error(parse("2026-11-21T00:00Z"), "can't be in the future"));
  EXPECT_TRUE(Error(parse_event_time("2026-11-20T15:33", kNow, kBerlin()), "future"));
}

TEST(TimeParseIso, MoreThanThirtyDaysAgoIsAnError) {
  EXPECT_TRUE(At(parse("2026-10-21T14:30:15.500Z"), kNow - hours{24 * 30}));
  EXPECT_TRUE(Error(parse("2026-10-21T14:30:15.499Z"), "30 days"));
  EXPECT_TRUE(Error(parse("2025-11-20T14:05Z"), "check the date"));
}

TEST(TimeParseIso, InvalidValuesAreErrors) {
  EXPECT_TRUE(Error(parse("2026-13-01T10:00Z"), "not a valid date"));
  EXPECT_TRUE(Error(parse("2026-02-30T10:00Z"), "not a valid date"));
  EXPECT_TRUE(Error(parse("2026-11-20T25:00Z"), "not a valid time of day"));
  EXPECT_TRUE(Error(parse("2026-11-20T14:60Z"), "not a valid time of day"));
  EXPECT_TRUE(Error(parse("2026-11-20T14:05+25:00"), "offset"));
}

TEST(TimeParseIso, MalformedAttemptsAreErrors) {
  EXPECT_TRUE(Error(parse("2026-11-20"), "needs a time of day"));
  EXPECT_TRUE(Error(parse("2026-11-20T"), "ISO 8601"));
  EXPECT_TRUE(Error(parse("2026-11-20T14Z"), "ISO 8601"));
  EXPECT_TRUE(Error(parse("2026-11-20T14:05Q"), "ISO 8601"));
  EXPECT_TRUE(Error(parse("2026-11-20T14:05:30.Z"), "ISO 8601"));
  EXPECT_TRUE(Error(parse("2026-11-20T14:05+1:00"), "ISO 8601"));
  EXPECT_TRUE(Error(parse("2026-11-20T14:5Z"), "ISO 8601"));
}

TEST(TimeParseIso, SpringForwardGapIsAnError) {
  const Timestamp now = utc(2026, 3, 8, 12, 0);
  EXPECT_TRUE(Error(parse_event_time("2026-03-08T02:30", now, kNewYork()), "did not exist"));
  EXPECT_TRUE(
      At(parse_event_time("2026-03-08T02:30-05:00", now, kNewYork()), utc(2026, 3, 8, 7, 30)));
}

TEST(TimeParseIso, FallBackOverlapTakesTheEarlierAndSaysSo) {
  const Timestamp now = utc(2026, 11, 1, 12, 0);
  const TimeParse p = parse_event_time("2026-11-01T01:30", now, kNewYork());
  EXPECT_TRUE(At(p, utc(2026, 11, 1, 5, 30)));
  EXPECT_NE(note(p).find("earlier one, 2026-11-01 01:30 EDT"), std::string::npos) << note(p);
  EXPECT_TRUE(
      At(parse_event_time("2026-11-01T01:30-05:00", now, kNewYork()), utc(2026, 11, 1, 6, 30)));
}

// ------------------------------------------------------------------ not a time

TEST(TimeParseText, OrdinaryWordsAndTags) {
  for (std::string_view t : {"deploy", "#detected", "#alert", "@alice", "p99", "db-01", "", ".",
                             "-", "+", "--", "—15m", "ok:", "v1.2.3"}) {
    EXPECT_TRUE(Text(parse(t))) << t;
  }
}

TEST(TimeParseText, NumbersAndNumberLikeTokens) {
  for (std::string_view t : {"500", "1405", "14", "3.5", "1,000", "20261120T1405Z", "-5", "+1",
                             "-1.5", "404s", "5xx", "2x"}) {
    EXPECT_TRUE(Text(parse(t))) << t;
  }
}

TEST(TimeParseText, ClockLookalikes) {
  for (std::string_view t :
       {"14:5", "123:45", "1:2:3", "10:00-11:00", "14:05:3", "14:05.5", "12:30:45:00", "14:05am2",
        "3:1", "14:05GMT", "14:05+01:00", "2p", "14h05", "14.05"}) {
    EXPECT_TRUE(Text(parse(t))) << t;
  }
}

TEST(TimeParseText, RelativeLookalikes) {
  for (std::string_view t : {"-15x", "-15%", "-2fa", "-1st", "+1d-2h", "-15m-ago", "-m15"}) {
    EXPECT_TRUE(Text(parse(t))) << t;
  }
}

TEST(TimeParseText, DateLookalikes) {
  for (std::string_view t : {"2026-11-20-rollback", "2026-11", "2026/11/20T14:05Z", "20261120"}) {
    EXPECT_TRUE(Text(parse(t))) << t;
  }
}

// ------------------------------------------------------------------ formatting

TEST(TimeParseFormat, LocalShowsSecondsAndAbbreviation) {
  EXPECT_EQ(format_local(utc(2026, 11, 20, 14, 5, 30, 999), kBerlin()), "2026-11-20 15:05:30 CET");
  EXPECT_EQ(format_local(utc(2026, 7, 1, 12, 0), kBerlin()), "2026-07-01 14:00:00 CEST");
  EXPECT_EQ(format_local(utc(2026, 11, 20, 3, 0), kNewYork()), "2026-11-19 22:00:00 EST");
  EXPECT_EQ(format_local(utc(2026, 11, 20, 14, 5, 30), kUtc()), "2026-11-20 14:05:30 UTC");
}

TEST(TimeParseFormat, UtcTruncatesToTheSecond) {
  EXPECT_EQ(format_utc(utc(2026, 11, 20, 14, 5, 30, 999)), "2026-11-20 14:05:30 UTC");
  EXPECT_EQ(format_utc(utc(2026, 1, 2, 3, 4, 5)), "2026-01-02 03:04:05 UTC");
}

TEST(TimeParseFormat, FutureErrorShowsNow) {
  EXPECT_TRUE(Error(parse("2026-11-21T00:00Z"), "2026-11-20 14:30:15 UTC"));
}

}  // namespace
}  // namespace scribe
