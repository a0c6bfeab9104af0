#include "adapters/slack/signature.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace scribe::slack {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

// The worked example from Slack's "Verifying requests from Slack".
constexpr std::string_view kSecret = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr std::string_view kTimestamp = "1531420618";
constexpr std::string_view kBody =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    "803a0bc887a14d10d2c447fce8b6703c";
constexpr std::string_view kSignature =
    "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

system_clock::time_point at(long long unix_seconds) {
  return system_clock::time_point(seconds(unix_seconds));
}
const system_clock::time_point kNow = at(1531420618);

TEST(SlackSignature, ComputesSlackDocumentedExample) {
  EXPECT_EQ(compute_signature(kSecret, kTimestamp, kBody), kSignature);
}

TEST(SlackSignature, VerifiesSlackDocumentedExample) {
  EXPECT_EQ(verify_request(kSecret, kTimestamp, kSignature, kBody, kNow), VerifyResult::kOk);
}

TEST(SlackSignature, AcceptsExactlyFiveMinutesSkewEitherWay) {
  EXPECT_EQ(verify_request(kSecret, kTimestamp, kSignature, kBody, at(1531420618 + 300)),
            VerifyResult::kOk);
  EXPECT_EQ(verify_request(kSecret, kTimestamp, kSignature, kBody, at(1531420618 - 300)),
            VerifyResult::kOk);
}

TEST(SlackSignature, RejectsTimestamp301SecondsOld) {
  EXPECT_EQ(verify_request(kSecret, kTimestamp, kSignature, kBody, at(1531420618 + 301)),
            VerifyResult::kStale);
}

TEST(SlackSignature, RejectsTimestamp301SecondsInTheFuture) {
  EXPECT_EQ(verify_request(kSecret, kTimestamp, kSignature, kBody, at(1531420618 - 301)),
            VerifyResult::kStale);
}

TEST(SlackSignature, RejectsTamperedBody) {
  std::string body(kBody);
  body.replace(body.find("roadrunner"), 10, "wilecoyote");
  EXPECT_EQ(verify_request(kSecret, kTimestamp, kSignature, body, kNow),
            VerifyResult::kBadSignature);
  EXPECT_EQ(verify_request(kSecret, kTimestamp, kSignature, std::string(kBody) + "&x=1", kNow),
            VerifyResult::kBadSignature);
}

TEST(SlackSignature, RejectsWrongSecret) {
  EXPECT_EQ(verify_request("8f742231b10e8888abcd99yyyzzz85a6", kTimestamp, kSignature, kBody, kNow),
            VerifyResult::kBadSignature);
}

TEST(SlackSignature, EmptySecretNeverVerifies) {
  const std::string signature = compute_signature("", kTimestamp, kBody);
  ASSERT_EQ(signature.size(), 67u);
  EXPECT_EQ(verify_request("", kTimestamp, signature, kBody, kNow), VerifyResult::kBadSignature);
}

TEST(SlackSignature, RejectsTimestampThatDoesNotMatchTheSignedOne) {
  // Replaying with a fresh timestamp header invalidates the signature.
  EXPECT_EQ(verify_request(kSecret, "1531420619", kSignature, kBody, kNow),
            VerifyResult::kBadSignature);
}

TEST(SlackSignature, RejectsMissingHeaders) {
  EXPECT_EQ(verify_request(kSecret, "", kSignature, kBody, kNow), VerifyResult::kMissingHeaders);
  EXPECT_EQ(verify_request(kSecret, kTimestamp, "", kBody, kNow), VerifyResult::kMissingHeaders);
  EXPECT_EQ(verify_request(kSecret, "", "", kBody, kNow), VerifyResult::kMissingHeaders);
}

TEST(SlackSignature, RejectsMalformedTimestamp) {
  for (std::string_view ts : {"abc", "1531420618.5", "-1531420618", "+1531420618", " 1531420618",
                              "1531420618 ", "0x5b47", "99999999999999999999999"}) {
    EXPECT_EQ(verify_request(kSecret, ts, kSignature, kBody, kNow), VerifyResult::kBadTimestamp)
        << ts;
  }
}

TEST(SlackSignature, RejectsWrongVersionPrefix) {
  std::string v1(kSignature);
  v1[1] = '1';
  EXPECT_EQ(verify_request(kSecret, kTimestamp, v1, kBody, kNow), VerifyResult::kBadSignature);
  EXPECT_EQ(verify_request(kSecret, kTimestamp, kSignature.substr(3), kBody, kNow),
            VerifyResult::kBadSignature);
}

TEST(SlackSignature, RejectsWrongLengthSignature) {
  EXPECT_EQ(
      verify_request(kSecret, kTimestamp, kSignature.substr(0, kSignature.size() - 1), kBody, kNow),
      VerifyResult::kBadSignature);
  EXPECT_EQ(verify_request(kSecret, kTimestamp, std::string(kSignature) + "0", kBody, kNow),
            VerifyResult::kBadSignature);
  EXPECT_EQ(verify_request(kSecret, kTimestamp, "v0=", kBody, kNow), VerifyResult::kBadSignature);
}

TEST(SlackSignature, RejectsUppercaseHex) {
  std::string upper(kSignature);
  for (std::size_t i = 3; i < upper.size(); ++i) {
    if (upper[i] >= 'a' && upper[i] <= 'f') upper[i] = static_cast<char>(upper[i] - 'a' + 'A');
  }
  EXPECT_EQ(verify_request(kSecret, kTimestamp, upper, kBody, kNow), VerifyResult::kBadSignature);
}

TEST(SlackSignature, DescribeNeverEchoesSecretsAndCoversEveryResult) {
  for (VerifyResult r :
       {VerifyResult::kOk, VerifyResult::kMissingHeaders, VerifyResult::kBadTimestamp,
        VerifyResult::kStale, VerifyResult::kBadSignature}) {
    const std::string_view text = describe(r);
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(text.find(kSecret), std::string_view::npos);
    EXPECT_EQ(text.find("a2114d57"), std::string_view::npos);
  }
  EXPECT_NE(describe(VerifyResult::kStale), describe(VerifyResult::kBadSignature));
}

}  // namespace
}  // namespace scribe::slack
