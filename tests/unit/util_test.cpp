// The shared helpers in util/: every layer relies on these one copies.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "util/markdown_escape.h"
#include "util/percent.h"
#include "util/secret.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace scribe {
namespace {

TEST(Strings, TrimRemovesAsciiWhitespaceAtBothEndsOnly) {
  EXPECT_EQ(trim("  a b \t\r\n\v\f"), "a b");
  EXPECT_EQ(trim(" \t\n "), "");
  EXPECT_EQ(trim(""), "");
  // A non-breaking space (U+00A0) is text, not ASCII whitespace.
  EXPECT_EQ(trim("\xC2\xA0x"), "\xC2\xA0x");
}

TEST(Strings, LowerAndCaseInsensitiveComparisonsTouchOnlyAsciiLetters) {
  EXPECT_EQ(lower("Bearer ÄBC-9"), "bearer Äbc-9");
  EXPECT_TRUE(iequals("UTC", "utc"));
  EXPECT_FALSE(iequals("utc", "utc "));
  EXPECT_TRUE(starts_with_ci("BEARER token", "Bearer "));
  EXPECT_FALSE(starts_with_ci("Bear", "Bearer "));
}

TEST(Utf8, APrefixNeverEndsInsideACharacter) {
  const std::string s =
      "a\xE2\x9C\x93"  // a✓
      "b";
  EXPECT_EQ(utf8_prefix(s, 10), s.size());
  EXPECT_EQ(utf8_prefix(s, 1), 1u);
  EXPECT_EQ(utf8_prefix(s, 2), 1u);
  EXPECT_EQ(utf8_prefix(s, 3), 1u);
  EXPECT_EQ(utf8_prefix(s, 4), 4u);
  EXPECT_EQ(utf8_prefix("\xE2\x9C\x93", 2), 0u);
  EXPECT_EQ(truncate_utf8(s, 3), "a");
  EXPECT_EQ(count_code_points(s), 3u);
}

TEST(Utf8, EncodesAndValidatesStrictly) {
  std::string out;
  append_utf8(out, 0x1F4CC);  // 📌
  EXPECT_EQ(out, "\xF0\x9F\x93\x8C");
  append_utf8(out, 0x110000);
  EXPECT_EQ(out, "\xF0\x9F\x93\x8C") << "past U+10FFFF appends nothing";
  EXPECT_TRUE(valid_utf8(out));
  EXPECT_FALSE(valid_utf8("\xC0\xAF")) << "overlong";
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80")) << "surrogate";
  EXPECT_FALSE(valid_utf8("\xE2\x9C")) << "cut short";
}

TEST(Utf8, DecodesOneSequenceOrNone) {
  char32_t cp = 0;
  EXPECT_EQ(decode_utf8("a", 0, cp), 1u);
  EXPECT_EQ(cp, U'a');
  EXPECT_EQ(decode_utf8("x\xE2\x80\xAEy", 1, cp), 3u);
  EXPECT_EQ(cp, U'\u202E');
  EXPECT_EQ(decode_utf8("\xF0\x9F\x93\x8C", 0, cp), 4u);
  EXPECT_EQ(cp, U'\U0001F4CC');
  EXPECT_EQ(decode_utf8("\xF4\x8F\xBF\xBF", 0, cp), 4u);
  EXPECT_EQ(cp, U'\U0010FFFF');
  for (const std::string_view bad : {"\x80", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                                     "\xF4\x90\x80\x80", "\xE2\x82", "\xE2(\xA1", "\xFF"}) {
    EXPECT_EQ(decode_utf8(bad, 0, cp), 0u) << testing::PrintToString(std::string(bad));
  }
}

TEST(Percent, EncodesAllButUnreservedAndDecodesBack) {
  EXPECT_EQ(percent_encode("!a:b c~_.-"), "%21a%3Ab%20c~_.-");
  EXPECT_EQ(percent_decode("%21a%3ab"), "!a:b");
  EXPECT_EQ(percent_decode("a+b%2"), "a+b%2");
  EXPECT_EQ(percent_decode("a+b%zz", true), "a b%zz");
  const std::string all = "\x01\xFF/?#é";
  EXPECT_EQ(percent_decode(percent_encode(all)), all);
}

TEST(MarkdownLink, KeepsOnlyWebUrlsAndEncodesWhatCouldEndTheLinkOrCell) {
  EXPECT_EQ(markdown_link_destination("https://example.org/a/b?c=d#e"),
            "https://example.org/a/b?c=d#e");
  EXPECT_EQ(markdown_link_destination("http://x.test/f (1).png"), "");  // a space
  EXPECT_EQ(markdown_link_destination("https://x.test/a)b|c<d>[e]_f`g"),
            "https://x.test/a%29b%7Cc%3Cd%3E[e]_f%60g");
  for (std::string_view bad : {"javascript:alert(1)", "data:text/html,x", "ftp://x.test/f",
                               "mxc://server/id", "/relative", "", "https://x.test/\nnext"}) {
    EXPECT_EQ(markdown_link_destination(bad), "") << bad;
  }
}

TEST(Secret, ComparesWholeValues) {
  EXPECT_TRUE(secret_equals("s3cret", "s3cret"));
  EXPECT_FALSE(secret_equals("s3cret", "s3cre"));
  EXPECT_FALSE(secret_equals("s3cret", "s3cret "));
  EXPECT_FALSE(secret_equals("", "x"));
  EXPECT_TRUE(secret_equals("", ""));
}

}  // namespace
}  // namespace scribe
