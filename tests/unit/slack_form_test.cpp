#include "adapters/slack/form.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse_query.hpp>

#include "util/percent.h"
#include "util/utf8.h"

namespace scribe::slack {
namespace {

using FormMap = std::map<std::string, std::string, std::less<>>;

FormMap to_map(const Form& form) {
  FormMap map;
  for (const auto& [key, value] : form) map.emplace(key, value);
  return map;
}

Form parse_ok(std::string_view body) {
  FormResult result = parse_form(body);
  EXPECT_TRUE(result) << body << ": " << result.error;
  return result.form.value_or(Form{});
}

TEST(SlackForm, DecodesPlusAsSpace) {
  const Form form = parse_ok("text=start+sev2+db+down");
  EXPECT_EQ(form_value(form, "text"), "start sev2 db down");
}

TEST(SlackForm, EncodedPlusStaysPlus) {
  EXPECT_EQ(form_value(parse_ok("text=a%2Bb+c"), "text"), "a+b c");
}

TEST(SlackForm, DecodesPercentEscapes) {
  const Form form = parse_ok("command=%2Fincident&url=https%3A%2F%2Fhooks.slack.com%2Fx");
  EXPECT_EQ(form_value(form, "command"), "/incident");
  EXPECT_EQ(form_value(form, "url"), "https://hooks.slack.com/x");
}

TEST(SlackForm, LowercaseEscapesAreAccepted) {
  EXPECT_EQ(form_value(parse_ok("command=%2fincident"), "command"), "/incident");
}

TEST(SlackForm, DecodesKeys) { EXPECT_EQ(form_value(parse_ok("a+b%5B0%5D=1"), "a b[0]"), "1"); }

TEST(SlackForm, EmptyValuesAndMissingEquals) {
  const Form form = parse_ok("text=&flag&x=1");
  ASSERT_EQ(form.size(), 3u);
  EXPECT_TRUE(form.contains("text"));
  EXPECT_EQ(form_value(form, "text"), "");
  EXPECT_TRUE(form.contains("flag"));
  EXPECT_EQ(form_value(form, "flag"), "");
  EXPECT_EQ(form_value(form, "x"), "1");
}

TEST(SlackForm, EmptyBodyAndEmptyPairs) {
  EXPECT_TRUE(parse_ok("").empty());
  const Form form = parse_ok("&a=1&&=ignored&");
  ASSERT_EQ(form.size(), 1u);
  EXPECT_EQ(form_value(form, "a"), "1");
}

TEST(SlackForm, ValueMayContainEquals) {
  EXPECT_EQ(form_value(parse_ok("text=a=b"), "text"), "a=b");
}

TEST(SlackForm, FirstValueWinsOnDuplicateKeys) {
  EXPECT_EQ(form_value(parse_ok("user_id=U1&user_id=U2"), "user_id"), "U1");
}

TEST(SlackForm, MissingKeyReadsAsEmpty) { EXPECT_EQ(form_value(parse_ok("a=1"), "b"), ""); }

TEST(SlackForm, DecodesUnicode) {
  EXPECT_EQ(form_value(parse_ok("text=done+%E2%9C%93"), "text"), "done \xE2\x9C\x93");
  EXPECT_EQ(form_value(parse_ok("text=%F0%9F%93%8C"), "text"), "\xF0\x9F\x93\x8C");
}

TEST(SlackForm, RejectsMalformedEscapes) {
  for (std::string_view body : {"text=%zz", "text=%", "text=%2", "text=100%", "%zz=1", "a=%G0"}) {
    const FormResult result = parse_form(body);
    EXPECT_FALSE(result) << body;
    EXPECT_FALSE(result.form.has_value());
    EXPECT_FALSE(result.error.empty()) << body;
  }
}

TEST(SlackForm, RejectsUnescapedSpecialCharacters) {
  for (std::string_view body : {"text=a b", "text=a#b", "text=<x>", "text=\"q\""}) {
    EXPECT_FALSE(parse_form(body)) << body;
  }
}

TEST(SlackForm, RejectsInvalidUtf8AndNul) {
  EXPECT_FALSE(parse_form("text=%FF"));
  EXPECT_FALSE(parse_form("text=%E2%9C"));     // truncated sequence
  EXPECT_FALSE(parse_form("text=%C0%AF"));     // overlong '/'
  EXPECT_FALSE(parse_form("text=%ED%A0%80"));  // UTF-16 surrogate
  EXPECT_FALSE(parse_form("text=a%00b"));
}

TEST(SlackForm, ParsesRealSlashCommandBody) {
  const Form form = parse_ok(
      "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&channel_id=C2147483705"
      "&channel_name=test&user_id=U2147483697&user_name=Steve&command=%2Ftimeline"
      "&text=%23detected+p99+%3E+1.2s+%3C%40U1%7Cann%3E&response_url=https%3A%2F%2Fhooks.slack.com"
      "%2Fcommands%2F1234%2F5678&trigger_id=13345224609.738474920.8088930838d88f008e0");
  EXPECT_EQ(form_value(form, "command"), "/timeline");
  EXPECT_EQ(form_value(form, "text"), "#detected p99 > 1.2s <@U1|ann>");
  EXPECT_EQ(form_value(form, "response_url"), "https://hooks.slack.com/commands/1234/5678");
}

// Found by fuzz/form_fuzzer.cpp (ASan: heap-buffer-overflow in strlen under parse_query):
// the parser read past the end of the view it was given, up to the next NUL.
TEST(SlackForm, ReadsOnlyTheViewItIsGiven) {
  const std::string buffer = "text=abc&user_id=U1";
  EXPECT_EQ(form_value(parse_ok(std::string_view(buffer).substr(0, 7)), "text"), "ab");
  EXPECT_TRUE(parse_ok(std::string_view(buffer).substr(0, 0)).empty());
  const std::vector<char> unterminated = {'t', 'e', 'x', 't', '=', 'a'};
  EXPECT_EQ(
      form_value(parse_ok(std::string_view(unterminated.data(), unterminated.size())), "text"),
      "a");
}

// parse_form decodes by hand (it runs for every slash command); Boost.URL's query parser,
// which it replaced, is the reference for which bodies are well-formed and what they decode
// to. Random bodies over an alphabet of the characters that matter, and a few fixed ones.
std::optional<FormMap> boost_form(std::string_view body) {
  const std::string terminated(body);
  auto params = boost::urls::parse_query(terminated);
  if (!params) return std::nullopt;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  FormMap form;
  for (const auto& param : *params) {
    std::string key = param.key.decode(opts);
    if (key.empty()) continue;
    form.emplace(std::move(key), param.has_value ? param.value.decode(opts) : std::string());
  }
  return form;
}

TEST(SlackForm, AgreesWithBoostUrlsQueryParser) {
  const std::string alphabet = "ab=&+%2F4e0zZ~!$'()*,;:@/?-._ #<>[]\"\\^`{|}\x7f\x01\xc3\xa9";
  std::vector<std::string> bodies = {"", "=", "&", "a", "a=", "=a", "a==b", "%41=%42", "%4", "%"};
  std::uint32_t state = 12345;
  for (int n = 0; n < 20000; ++n) {
    std::string body;
    const int length = static_cast<int>(state % 12);
    for (int i = 0; i < length; ++i) {
      state = state * 1664525u + 1013904223u;
      body.push_back(alphabet[(state >> 16) % alphabet.size()]);
    }
    state = state * 1664525u + 1013904223u;
    bodies.push_back(std::move(body));
  }
  for (const std::string& body : bodies) {
    const FormResult ours = parse_form(body);
    const std::optional<FormMap> theirs = boost_form(body);
    if (!theirs) {
      EXPECT_FALSE(ours) << body;
      continue;
    }
    // Boost accepts it; ours also refuses a decoded NUL and invalid UTF-8.
    bool clean = true;
    for (const auto& [key, value] : *theirs) {
      clean = clean && key.find('\0') == std::string::npos &&
              value.find('\0') == std::string::npos && valid_utf8(key) && valid_utf8(value);
    }
    if (!clean) {
      EXPECT_FALSE(ours) << body;
      continue;
    }
    ASSERT_TRUE(ours) << body << ": " << ours.error;
    EXPECT_EQ(to_map(*ours.form), *theirs) << body;
  }
}

// The decoder that built a std::map of strings, before the form became one buffer and a
// sorted index; kept here as the reference the new one must agree with, verdict, error
// and every field, on random bodies: well-formed ones (keys repeated, empty, escaped) and
// arbitrary bytes.
struct OldFormResult {
  std::optional<FormMap> form;
  std::string error;
};

OldFormResult old_parse_form(std::string_view body) {
  OldFormResult result;
  const auto query_char = [](unsigned char c) {
    return std::isalnum(c) != 0 ||
           std::string_view("-._~!$&'()*+,;=:@/?").find(static_cast<char>(c)) !=
               std::string_view::npos;
  };
  for (std::size_t i = 0; i < body.size(); ++i) {
    const auto c = static_cast<unsigned char>(body[i]);
    if (c == '%') {
      if (i + 2 >= body.size() || std::isxdigit(static_cast<unsigned char>(body[i + 1])) == 0 ||
          std::isxdigit(static_cast<unsigned char>(body[i + 2])) == 0) {
        result.error = "invalid percent-escape, or a character that must be percent-encoded";
        return result;
      }
      i += 2;
    } else if (c >= 0x80 || !query_char(c)) {
      result.error = "invalid percent-escape, or a character that must be percent-encoded";
      return result;
    }
  }
  FormMap form;
  std::size_t begin = 0;
  while (begin <= body.size()) {
    const std::size_t amp = std::min(body.find('&', begin), body.size());
    const std::string_view pair = body.substr(begin, amp - begin);
    begin = amp + 1;
    const std::size_t eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq), /*plus_is_space=*/true);
    if (key.empty()) continue;
    std::string value = eq == std::string_view::npos
                            ? std::string()
                            : percent_decode(pair.substr(eq + 1), /*plus_is_space=*/true);
    if (key.find('\0') != std::string::npos || value.find('\0') != std::string::npos) {
      result.error = "a decoded NUL character";
      return result;
    }
    if (!valid_utf8(key) || !valid_utf8(value)) {
      result.error = "text is not valid UTF-8";
      return result;
    }
    form.emplace(std::move(key), std::move(value));
  }
  result.form = std::move(form);
  return result;
}

TEST(SlackForm, AgreesWithTheMapDecoderItReplaced) {
  // Pieces that make well-formed bodies with repeated, empty and escaped keys, and bytes
  // that make malformed ones.
  const std::vector<std::string> pieces = {
      "a",   "b",   "text", "user_id",   "=",  "&", "+",   "%20", "%2B", "%26", "%3D",      "%00",
      "%C3", "%A9", "%FF",  "%e2%9c%93", "%4", "%", "x=1", "&&",  "==",  " ",   "\xc3\xa9", "#"};
  std::uint32_t state = 4242;
  const auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  int accepted = 0;
  int refused = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string body;
    const std::uint32_t count = next() % 16;
    for (std::uint32_t i = 0; i < count; ++i) body += pieces[next() % pieces.size()];
    const FormResult ours = parse_form(body);
    const OldFormResult old = old_parse_form(body);
    ASSERT_EQ(ours.form.has_value(), old.form.has_value()) << body;
    if (!old.form) {
      EXPECT_EQ(ours.error, old.error) << body;
      ++refused;
      continue;
    }
    ++accepted;
    EXPECT_EQ(to_map(*ours.form), *old.form) << body;
    EXPECT_EQ(ours.form->size(), old.form->size()) << body;
    for (const auto& [key, value] : *old.form) {
      EXPECT_EQ(form_value(*ours.form, key), value) << body << " key " << key;
    }
    EXPECT_FALSE(ours.form->contains("absent-key")) << body;
  }
  // Both kinds were exercised, not only one.
  EXPECT_GT(accepted, 2000);
  EXPECT_GT(refused, 2000);
}

TEST(SlackForm, CopiesAndMovesKeepTheirFields) {
  // Short forms keep their text inside the string object: the index is offsets, not views.
  Form form = parse_ok("a=1&b=2");
  const Form copy = form;
  const Form moved = std::move(form);
  EXPECT_EQ(form_value(copy, "a"), "1");
  EXPECT_EQ(form_value(moved, "b"), "2");
  EXPECT_EQ(copy, moved);
}

}  // namespace
}  // namespace scribe::slack
