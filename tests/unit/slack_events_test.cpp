// The Slack message timestamps of pin and reaction events ("1763648400.000100").
#include "adapters/slack/events_endpoint.h"

#include <chrono>

#include <gtest/gtest.h>

namespace scribe::slack {
namespace {

using std::chrono::milliseconds;

TEST(SlackMessageTs, SecondsAndMicrosecondsToMilliseconds) {
  EXPECT_EQ(parse_message_ts("1763648400.000100"), Timestamp{milliseconds{1763648400000}});
  EXPECT_EQ(parse_message_ts("1763648400.123999"), Timestamp{milliseconds{1763648400123}});
  EXPECT_EQ(parse_message_ts("1763648400"), Timestamp{milliseconds{1763648400000}});
  EXPECT_EQ(parse_message_ts("1763648400.5"), Timestamp{milliseconds{1763648400500}});
  EXPECT_FALSE(parse_message_ts(""));
  EXPECT_FALSE(parse_message_ts("."));
  EXPECT_FALSE(parse_message_ts("1763648400."));
  EXPECT_FALSE(parse_message_ts("1763648400.1234567"));
  EXPECT_FALSE(parse_message_ts("17636x8400.000100"));
}

// Found by fuzzing the Slack events endpoint: "9223372036854775807.999999" overflowed the
// conversion to milliseconds (UBSan) and a negative count was taken as a time before 1970.
// A Slack ts is seconds of years 1970-9999.
TEST(SlackMessageTs, CountsNoCalendarShowsAreRefused) {
  EXPECT_FALSE(parse_message_ts("9223372036854775807.999999"));
  EXPECT_FALSE(parse_message_ts("9999999999999999.000001"));
  EXPECT_FALSE(parse_message_ts("253402300800.000000"));
  EXPECT_FALSE(parse_message_ts("-1.5"));
  EXPECT_FALSE(parse_message_ts("-9223372036854775808.0"));
  EXPECT_FALSE(parse_message_ts("+1.5"));
  EXPECT_EQ(parse_message_ts("253402300799.999999"), Timestamp{milliseconds{253402300799999}});
  EXPECT_EQ(parse_message_ts("0.000000"), Timestamp{milliseconds{0}});
}

}  // namespace
}  // namespace scribe::slack
