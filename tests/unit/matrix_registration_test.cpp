// The Matrix application-service registration YAML and its random tokens.
#include "adapters/matrix/registration.h"

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace scribe::matrix {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RegistrationOptions options() {
  RegistrationOptions o;
  o.url = "http://scribe.internal:8080";
  o.homeserver_domain = "example.org";
  o.as_token = "aaaa";
  o.hs_token = "bbbb";
  return o;
}

TEST(MatrixRegistration, PrintsEveryKeyOfTheRegistration) {
  const std::string y = registration_yaml(options());
  EXPECT_THAT(y, HasSubstr("\nid: \"scribe\"\n"));
  EXPECT_THAT(y, HasSubstr("\nurl: \"http://scribe.internal:8080\"\n"));
  EXPECT_THAT(y, HasSubstr("\nas_token: \"aaaa\"\n"));
  EXPECT_THAT(y, HasSubstr("\nhs_token: \"bbbb\"\n"));
  EXPECT_THAT(y, HasSubstr("\nsender_localpart: \"scribe\"\n"));
  EXPECT_THAT(y, HasSubstr("\nrate_limited: false\n"));
  EXPECT_THAT(y, HasSubstr("\nnamespaces:\n  users:\n    - exclusive: true\n      regex: "
                           "\"^@scribe:example\\\\.org$\"\n  aliases: []\n  rooms: []\n"));
  // Comments only before the keys; every line is a comment, a key or a list entry.
  EXPECT_TRUE(y.starts_with("# "));
  EXPECT_TRUE(y.ends_with("\n"));
  EXPECT_THAT(y, Not(HasSubstr("\t")));
  EXPECT_THAT(y, HasSubstr("@scribe:example.org"));
}

TEST(MatrixRegistration, QuotesAndEscapesValues) {
  RegistrationOptions o = options();
  o.id = "scribe \"prod\"";
  o.url = "http://h/a\\b: #x";
  o.sender_localpart = "inc.bot";
  o.homeserver_domain = "matrix.example.org:8448";
  const std::string y = registration_yaml(o);
  EXPECT_THAT(y, HasSubstr("\nid: \"scribe \\\"prod\\\"\"\n"));
  EXPECT_THAT(y, HasSubstr("\nurl: \"http://h/a\\\\b: #x\"\n"));
  EXPECT_THAT(y, HasSubstr("\nsender_localpart: \"inc.bot\"\n"));
  // Regex: "." escaped (\.), then the backslash escaped again for the YAML string.
  EXPECT_THAT(y, HasSubstr("regex: \"^@inc\\\\.bot:matrix\\\\.example\\\\.org:8448$\""));

  EXPECT_EQ(yaml_quote("a\nb\x01"), "\"a\\nb\\x01\"");
  EXPECT_EQ(regex_escape("a.b+c(d)[e]$^|?*{}-/\\"),
            "a\\.b\\+c\\(d\\)\\[e\\]\\$\\^\\|\\?\\*\\{\\}\\-\\/\\\\");
  EXPECT_EQ(bot_user_id("scribe", "example.org"), "@scribe:example.org");
}

TEST(MatrixRegistration, TokensAre64HexCharactersAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    const std::string t = random_token();
    ASSERT_EQ(t.size(), 64u);
    EXPECT_EQ(t.find_first_not_of("0123456789abcdef"), std::string::npos) << t;
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 20u);
  EXPECT_EQ(random_token(4).size(), 8u);
  EXPECT_EQ(random_token(0), "");
}

}  // namespace
}  // namespace scribe::matrix
