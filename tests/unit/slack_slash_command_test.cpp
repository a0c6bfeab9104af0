#include "adapters/slack/blocks.h"
#include "adapters/slack/slash_command.h"

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "util/percent.h"

namespace scribe::slack {
namespace {

using nlohmann::json;

const Timestamp kReceived{std::chrono::milliseconds(1'763'647'500'123)};

// The fields of a form, editable; make_form encodes them as Slack would and parses them.
using Fields = std::map<std::string, std::string>;

Form make_form(const Fields& fields) {
  std::string body;
  for (const auto& [key, value] : fields) {
    if (!body.empty()) body += '&';
    body += form_encode(key) + '=' + form_encode(value);
  }
  FormResult parsed = parse_form(body);
  EXPECT_TRUE(parsed) << body << ": " << parsed.error;
  return parsed.form.value_or(Form{});
}

Fields command_form() {
  return Fields{{"team_id", "T1"},
                {"channel_id", "C9"},
                {"user_id", "U7"},
                {"user_name", "roadrunner"},
                {"command", "/incident"},
                {"text", "start sev2 db down"},
                {"response_url", "https://hooks.slack.com/commands/T1/1/x"}};
}

// ---- inbound ----

TEST(SlackSlashCommand, TranslatesFormToInvocation) {
  const SlashCommandResult result = to_invocation(make_form(command_form()), kReceived);
  ASSERT_TRUE(result) << result.error;
  const Invocation& inv = result.command->invocation;
  EXPECT_EQ(inv.channel, (ChannelRef{"slack", "T1", "C9"}));
  EXPECT_EQ(inv.user, (Person{"U7", "roadrunner"}));
  EXPECT_EQ(inv.command, "incident");
  EXPECT_EQ(inv.text, "start sev2 db down");
  EXPECT_TRUE(inv.mentions.empty());
  EXPECT_EQ(inv.received_at, kReceived);
  EXPECT_EQ(result.command->response_url, "https://hooks.slack.com/commands/T1/1/x");
}

TEST(SlackSlashCommand, OptionalFieldsMayBeAbsent) {
  Fields form = command_form();
  form.erase("team_id");
  form.erase("user_name");
  form.erase("text");
  form.erase("response_url");
  const SlashCommandResult result = to_invocation(make_form(form), kReceived);
  ASSERT_TRUE(result) << result.error;
  EXPECT_EQ(result.command->invocation.channel, (ChannelRef{"slack", "", "C9"}));
  EXPECT_EQ(result.command->invocation.user, (Person{"U7", "U7"}));
  EXPECT_EQ(result.command->invocation.text, "");
}

TEST(SlackSlashCommand, RejectsMissingRequiredFields) {
  for (const char* field : {"channel_id", "user_id", "command"}) {
    Fields form = command_form();
    form.erase(field);
    const SlashCommandResult result = to_invocation(make_form(form), kReceived);
    EXPECT_FALSE(result) << field;
    EXPECT_NE(result.error.find(field), std::string::npos) << result.error;

    form[field] = "";
    EXPECT_FALSE(to_invocation(make_form(form), kReceived)) << field << " empty";
  }
  const SlashCommandResult none = to_invocation(Form{}, kReceived);
  EXPECT_FALSE(none);
  EXPECT_NE(none.error.find("channel_id, user_id, command"), std::string::npos) << none.error;
}

TEST(SlackSlashCommand, RejectsBareSlash) {
  Fields form = command_form();
  form["command"] = "/";
  const SlashCommandResult result = to_invocation(make_form(form), kReceived);
  EXPECT_FALSE(result);
  EXPECT_FALSE(result.error.empty());
}

TEST(SlackSlashCommand, StripsOnlyTheLeadingSlash) {
  Fields form = command_form();
  form["command"] = "/timeline";
  EXPECT_EQ(to_invocation(make_form(form), kReceived).command->invocation.command, "timeline");
  form["command"] = "action";
  EXPECT_EQ(to_invocation(make_form(form), kReceived).command->invocation.command, "action");
}

TEST(SlackSlashCommand, TranslatesMentionsInCommandText) {
  Fields form = command_form();
  form["text"] = "  commander <@U123|alice>  ";
  const SlashCommandResult result = to_invocation(make_form(form), kReceived);
  ASSERT_TRUE(result);
  EXPECT_EQ(result.command->invocation.text, "commander @alice");
  EXPECT_EQ(result.command->invocation.mentions, (std::vector<Person>{{"U123", "alice"}}));
}

TEST(SlackSlashCommand, RecognisesSslCheck) {
  EXPECT_TRUE(is_ssl_check(make_form(Fields{{"ssl_check", "1"}, {"token", "x"}})));
  EXPECT_FALSE(is_ssl_check(make_form(command_form())));
  EXPECT_FALSE(is_ssl_check(Form{}));
}

TEST(SlackTranslateText, UserMentionWithName) {
  std::vector<Person> mentions;
  EXPECT_EQ(translate_text("<@U123|alice> owns it", mentions), "@alice owns it");
  EXPECT_EQ(mentions, (std::vector<Person>{{"U123", "alice"}}));
}

TEST(SlackTranslateText, UserMentionWithoutName) {
  std::vector<Person> mentions;
  EXPECT_EQ(translate_text("ask <@U123>", mentions), "ask @U123");
  EXPECT_EQ(mentions, (std::vector<Person>{{"U123", "U123"}}));
}

TEST(SlackTranslateText, MentionsAreListedOncePerPersonInOrder) {
  std::vector<Person> mentions;
  EXPECT_EQ(translate_text("<@U2|bob> and <@U1|ann> then <@U2|bob>", mentions),
            "@bob and @ann then @bob");
  EXPECT_EQ(mentions, (std::vector<Person>{{"U2", "bob"}, {"U1", "ann"}}));
}

// translate_text for text that names no person: fails the test if it collects a mention.
std::string translate_without_mentions(std::string_view text) {
  std::vector<Person> mentions;
  std::string out = translate_text(text, mentions);
  EXPECT_TRUE(mentions.empty()) << text;
  return out;
}

TEST(SlackTranslateText, ChannelReferences) {
  EXPECT_EQ(translate_without_mentions("see <#C123|general>"), "see #general");
  EXPECT_EQ(translate_without_mentions("see <#C123>"), "see #C123");
}

TEST(SlackTranslateText, Links) {
  EXPECT_EQ(translate_without_mentions("graph <https://x.example/d?a=1&amp;b=2|dashboard>"),
            "graph https://x.example/d?a=1&b=2");
  EXPECT_EQ(translate_without_mentions("<https://x>"), "https://x");
}

TEST(SlackTranslateText, SpecialMentions) {
  EXPECT_EQ(translate_without_mentions("<!here> db is down"), "@here db is down");
  EXPECT_EQ(translate_without_mentions("<!channel>"), "@channel");
  EXPECT_EQ(translate_without_mentions("<!everyone>"), "@everyone");
  EXPECT_EQ(translate_without_mentions("<!here|here>"), "@here");
  EXPECT_EQ(translate_without_mentions("paged <!subteam^S123|@oncall>"), "paged @oncall");
}

TEST(SlackTranslateText, HtmlEntities) {
  EXPECT_EQ(translate_without_mentions("p99 &gt; 1.2s &amp;&amp; errors &lt; 5%"),
            "p99 > 1.2s && errors < 5%");
  // Decoded once only: an escaped entity stays an entity.
  EXPECT_EQ(translate_without_mentions("&amp;lt;"), "&lt;");
  // An escaped control sequence is user text, not a mention.
  EXPECT_EQ(translate_without_mentions("&lt;@U1|x&gt;"), "<@U1|x>");
  EXPECT_EQ(translate_without_mentions("&quot; &nbsp;"), "&quot; &nbsp;");
}

TEST(SlackTranslateText, TrimsAndKeepsStrayBrackets) {
  std::vector<Person> mentions;
  EXPECT_EQ(translate_text(" \t\n  ", mentions), "");
  EXPECT_EQ(translate_text("  a < b  ", mentions), "a < b");
  EXPECT_EQ(translate_text("x <> y", mentions), "x <> y");
  EXPECT_EQ(translate_text("a <b <@U1|ann>", mentions), "a <b @ann");
  EXPECT_EQ(mentions, (std::vector<Person>{{"U1", "ann"}}));
}

TEST(SlackTranslateText, KeepsUnicode) {
  std::vector<Person> mentions;
  EXPECT_EQ(translate_text("fixed \xE2\x9C\x93 <@U1|j\xC3\xBCrgen>", mentions),
            "fixed \xE2\x9C\x93 @j\xC3\xBCrgen");
  EXPECT_EQ(mentions, (std::vector<Person>{{"U1", "j\xC3\xBCrgen"}}));
}

// ---- outbound ----

json render(const Reply& reply, const RenderOptions& options = {}) {
  const std::string out = render_reply(reply, options);
  EXPECT_TRUE(json::accept(out)) << out;
  return json::parse(out);
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// The draft content of a ``` section, fences removed. The renderer ends every chunk with a
// newline before the closing fence, so a chunk cut inside a line gains one.
std::string code_content(const json& block) {
  std::string text = block.at("text").at("text").get<std::string>();
  EXPECT_TRUE(text.starts_with("```\n") && text.ends_with("\n```")) << text;
  return text.substr(4, text.size() - 7);
}

std::string unescape_code(std::string s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, 5, "&amp;") == 0) {
      out += '&';
      i += 5;
    } else if (s.compare(i, 4, "&lt;") == 0) {
      out += '<';
      i += 4;
    } else if (s.compare(i, 4, "&gt;") == 0) {
      out += '>';
      i += 4;
    } else if (s.compare(i, 3, "\xE2\x80\x8B") == 0) {
      i += 3;
    } else {
      out += s[i++];
    }
  }
  return out;
}

void expect_within_slack_limits(const json& body) {
  ASSERT_TRUE(body.contains("blocks"));
  EXPECT_LE(body["blocks"].size(), 50u);
  for (const auto& block : body["blocks"]) {
    const std::string text = block["type"] == "context"
                                 ? block["elements"][0]["text"].get<std::string>()
                                 : block["text"]["text"].get<std::string>();
    EXPECT_LE(text.size(), 3000u);
    EXPECT_FALSE(text.empty());
    EXPECT_TRUE(valid_utf8(text));
  }
}

TEST(SlackRenderReply, ChannelVisibility) {
  Reply reply;
  reply.visibility = Reply::Visibility::kChannel;
  reply.text = "Incident INC-7 declared";
  const json body = render(reply);
  EXPECT_EQ(body["response_type"], "in_channel");
  EXPECT_EQ(body["text"], "Incident INC-7 declared");
}

TEST(SlackRenderReply, EphemeralVisibility) {
  Reply reply;
  reply.text = "Unknown command";
  EXPECT_EQ(render(reply)["response_type"], "ephemeral");
}

TEST(SlackRenderReply, SectionHoldsTextAndDetails) {
  Reply reply;
  reply.text = "Timeline of `INC-7`";
  reply.details = {"1. 14:05:07 deploy", "2. 14:07:00 alert"};
  const json body = render(reply);
  ASSERT_EQ(body["blocks"].size(), 1u);
  const json& block = body["blocks"][0];
  EXPECT_EQ(block["type"], "section");
  EXPECT_EQ(block["text"]["type"], "mrkdwn");
  EXPECT_EQ(block["text"]["verbatim"], true);
  EXPECT_EQ(block["text"]["text"], "Timeline of `INC-7`\n1. 14:05:07 deploy\n2. 14:07:00 alert");
}

TEST(SlackRenderReply, EscapesControlCharacters) {
  Reply reply;
  reply.text = "p99 > 1.2s & <!channel>";
  reply.details = {"a<b"};
  const json body = render(reply);
  EXPECT_EQ(body["text"], "p99 &gt; 1.2s &amp; &lt;!channel&gt;");
  EXPECT_EQ(body["blocks"][0]["text"]["text"], "p99 &gt; 1.2s &amp; &lt;!channel&gt;\na&lt;b");
  EXPECT_EQ(escape_mrkdwn("&<>x"), "&amp;&lt;&gt;x");
}

TEST(SlackRenderReply, ShortDocumentIsOneCodeBlock) {
  Reply reply;
  reply.text = "Draft for INC-7";
  reply.incident = 7;
  reply.document = "# INC-7 db down\n\n| time | what |\n|---|---|\n| 14:05 | a -> b |\n";
  const json body = render(reply);
  ASSERT_EQ(body["blocks"].size(), 2u);
  EXPECT_EQ(body["blocks"][1]["text"]["text"],
            "```\n# INC-7 db down\n\n| time | what |\n|---|---|\n| 14:05 | a -&gt; b |\n```");
}

TEST(SlackRenderReply, DocumentBacktickFencesCannotCloseTheBlock) {
  Reply reply;
  reply.text = "Draft";
  reply.document = "```sh\nls\n```";
  const std::string content = code_content(render(reply)["blocks"][1]);
  EXPECT_EQ(content.find("``"), std::string::npos) << content;
  EXPECT_EQ(unescape_code(content), "```sh\nls\n```\n");
}

std::string make_draft(std::size_t sections, std::size_t lines_per_section) {
  std::string doc = "# INC-42 postmortem\n";
  for (std::size_t s = 0; s < sections; ++s) {
    doc += "\n## Section " + std::to_string(s) + "\n";
    for (std::size_t l = 0; l < lines_per_section; ++l) {
      doc += "| 14:" + std::to_string(10 + l % 50) + ":00 | row " + std::to_string(l) +
             " of section " + std::to_string(s) + " |\n";
    }
  }
  return doc;
}

TEST(SlackRenderReply, LongDocumentSplitsAtLineBoundariesWithinLimits) {
  Reply reply;
  reply.text = "Draft";
  reply.incident = 42;
  reply.document = make_draft(4, 60);  // about 8,500 bytes: fits, in several blocks
  ASSERT_LT(reply.document->size(), 12000u);
  ASSERT_GT(reply.document->size(), 6000u);
  const json body = render(reply);
  expect_within_slack_limits(body);
  ASSERT_GE(body["blocks"].size(), 4u);
  std::string joined;
  for (std::size_t i = 1; i < body["blocks"].size(); ++i) {
    const json& block = body["blocks"][i];
    ASSERT_EQ(block["type"], "section");
    const std::string content = code_content(block);
    EXPECT_LE(content.size(), 2900u);
    EXPECT_TRUE(content.ends_with("\n")) << "split inside a line";
    joined += content;
  }
  EXPECT_EQ(joined, *reply.document);
  EXPECT_NE(body["blocks"].back()["type"], "context") << "nothing was cut";
}

TEST(SlackRenderReply, PrefersSplittingBeforeSectionHeadings) {
  Reply reply;
  reply.text = "Draft";
  // Two sections that each fit a block but not together.
  reply.document = make_draft(2, 50);
  ASSERT_GT(reply.document->size(), 2900u);
  const json body = render(reply);
  ASSERT_EQ(body["blocks"].size(), 3u);
  EXPECT_TRUE(code_content(body["blocks"][2]).starts_with("## Section 1\n"));
}

TEST(SlackRenderReply, TruncatesLongDocumentWithNote) {
  Reply reply;
  reply.text = "Draft";
  reply.incident = 42;
  reply.document = make_draft(10, 80);  // about 36,000 bytes
  const json body = render(reply);
  expect_within_slack_limits(body);
  std::string shown;
  for (std::size_t i = 1; i + 1 < body["blocks"].size(); ++i)
    shown += code_content(body["blocks"][i]);
  EXPECT_LE(shown.size(), 12000u);
  EXPECT_GT(shown.size(), 10000u);
  EXPECT_TRUE(reply.document->starts_with(shown));
  const json& note = body["blocks"].back();
  ASSERT_EQ(note["type"], "context");
  const std::string text = note["elements"][0]["text"];
  EXPECT_NE(text.find("Showing the first " + std::to_string(shown.size()) + " of " +
                      std::to_string(reply.document->size()) + " characters."),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("`scribe draft INC-42`"), std::string::npos) << text;
  EXPECT_NE(text.find("/api/incidents/42/postmortem.md"), std::string::npos) << text;
  EXPECT_NE(text.find("outbox"), std::string::npos) << text;
}

TEST(SlackRenderReply, TruncationNoteWithoutIncidentId) {
  Reply reply;
  reply.text = "Draft";
  reply.document = make_draft(10, 80);
  const std::string text = render(reply)["blocks"].back()["elements"][0]["text"];
  EXPECT_NE(text.find("scribe draft &lt;incident&gt;"), std::string::npos) << text;
}

TEST(SlackRenderReply, BlockLimitCutsDocumentAndCountsWhatWasShown) {
  Reply reply;
  reply.text = "Draft";
  reply.incident = 3;
  reply.document = make_draft(5, 60);         // about 10,600 bytes: four blocks' worth
  ASSERT_LT(reply.document->size(), 12000u);  // so only the block limit cuts it
  RenderOptions options;
  options.max_blocks = 4;  // summary, two draft blocks, note
  const json body = render(reply, options);
  ASSERT_EQ(body["blocks"].size(), 4u);
  ASSERT_EQ(body["blocks"][3]["type"], "context");
  const std::string shown = code_content(body["blocks"][1]) + code_content(body["blocks"][2]);
  EXPECT_TRUE(reply.document->starts_with(shown));
  EXPECT_NE(body["blocks"][3].at("elements")[0]["text"].get<std::string>().find(
                "Showing the first " + std::to_string(shown.size()) + " of"),
            std::string::npos);
}

TEST(SlackRenderReply, NeverSplitsInsideUtf8Sequences) {
  Reply reply;
  reply.text = "Draft";
  // One enormous line of 3-byte and 4-byte characters: only hard splits are possible.
  std::string doc;
  for (int i = 0; i < 3000; ++i) doc += i % 2 ? "\xE2\x9C\x93" : "\xF0\x9F\x93\x8C";
  reply.document = doc;
  const std::string out = render_reply(reply);
  ASSERT_TRUE(json::accept(out));
  const json body = json::parse(out);
  expect_within_slack_limits(body);
  std::string shown;
  for (const auto& block : body["blocks"]) {
    if (block["type"] == "section" && block["text"]["text"].get<std::string>().starts_with("```")) {
      const std::string content = code_content(block);
      EXPECT_TRUE(valid_utf8(content));
      shown += content;
    }
  }
  // The renderer adds a newline to close each fence.
  std::string without_newlines;
  for (char c : shown) {
    if (c != '\n') without_newlines += c;
  }
  EXPECT_TRUE(doc.starts_with(without_newlines));
  EXPECT_EQ(out.find("\\ufffd"), std::string::npos);
  EXPECT_EQ(out.find("\xEF\xBF\xBD"), std::string::npos);
}

TEST(SlackRenderReply, EscapingCountsTowardsTheSectionLimit) {
  Reply reply;
  reply.text = "Draft";
  reply.document = std::string(5000, '<') + "\n" + std::string(5000, '&');
  const json body = render(reply);
  expect_within_slack_limits(body);
  std::string shown;
  for (std::size_t i = 1; i < body["blocks"].size(); ++i) {
    if (body["blocks"][i]["type"] == "section")
      shown += unescape_code(code_content(body["blocks"][i]));
  }
  EXPECT_FALSE(shown.empty());
}

TEST(SlackRenderReply, LongDetailsSpreadOverSections) {
  Reply reply;
  reply.text = "Timeline";
  for (int i = 0; i < 200; ++i) {
    reply.details.push_back(std::to_string(i) + ". 14:05:07 something happened & was noted");
  }
  const json body = render(reply);
  expect_within_slack_limits(body);
  EXPECT_GT(body["blocks"].size(), 1u);
  std::string joined;
  for (const auto& block : body["blocks"]) joined += block["text"]["text"].get<std::string>();
  EXPECT_NE(joined.find("199. 14:05:07 something happened &amp; was noted"), std::string::npos);
}

TEST(SlackRenderReply, HugeDetailsStayWithinBlockLimit) {
  Reply reply;
  reply.text = "Timeline";
  reply.details.assign(20000, "a line that is long enough to fill many blocks quickly");
  const json body = render(reply);
  expect_within_slack_limits(body);
  EXPECT_EQ(body["blocks"].size(), 50u);
  EXPECT_EQ(body["blocks"].back()["type"], "context");
}

TEST(SlackRenderReply, InvalidUtf8NeverThrows) {
  Reply reply;
  reply.text = "bad \xFF\xFE bytes";
  reply.document = "also \xC3";
  std::string out;
  EXPECT_NO_THROW(out = render_reply(reply));
  EXPECT_TRUE(json::accept(out));
}

TEST(SlackRenderReply, EmptyReplyIsStillValidJson) {
  const json body = render(Reply{});
  EXPECT_EQ(body["response_type"], "ephemeral");
  EXPECT_EQ(body["text"], "");
  EXPECT_FALSE(body.contains("blocks"));
}

TEST(SlackRenderReply, UserTextCannotBecomeMarkupPingsOrReorderedText) {
  Reply reply;
  reply.text =
      "Recorded: <!channel> <@U1> <https://evil|click> & \xE2\x80\xAE"
      "evil";
  reply.details = {"<script>alert(1)</script>", "bad \xFF byte", "esc \x1b[31m"};
  reply.document =
      "| 1 | <b> \xE2\x81\xA6"
      "iso |\n";
  const json body = render(reply);
  expect_within_slack_limits(body);
  std::vector<std::string> texts = {body["text"].get<std::string>()};
  for (const auto& block : body["blocks"]) {
    const json& text = block["type"] == "context" ? block["elements"][0] : block["text"];
    EXPECT_EQ(text["type"], "mrkdwn");
    EXPECT_EQ(text["verbatim"], true);  // no auto-linking of URLs, channels or mentions
    texts.push_back(text["text"].get<std::string>());
  }
  std::string all;
  for (const std::string& t : texts) {
    // Slack's control sequences all start with '<': none of the user's survives.
    EXPECT_EQ(t.find('<'), std::string::npos) << t;
    EXPECT_EQ(t.find('>'), std::string::npos) << t;
    EXPECT_EQ(t.find("\xE2\x80\xAE"), std::string::npos) << t;
    EXPECT_EQ(t.find("\xE2\x81\xA6"), std::string::npos) << t;
    EXPECT_EQ(t.find('\x1b'), std::string::npos) << t;
    EXPECT_TRUE(valid_utf8(t));
    all += t + "\n";
  }
  EXPECT_NE(all.find("Recorded: &lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|click&gt; &amp; "
                     "\u2039U+202E\u203A"
                     "evil"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << all;
  EXPECT_NE(all.find("bad \xEF\xBF\xBD byte"), std::string::npos) << all;
  EXPECT_NE(all.find("esc \u2039U+001B\u203A[31m"), std::string::npos) << all;
  EXPECT_NE(all.find("| 1 | &lt;b&gt; \u2039U+2066\u203Aiso |"), std::string::npos) << all;
}

// render_reply writes its JSON directly (it runs for every command, on the writer thread);
// its bytes must be those of the same object built as a JSON tree, as render_blocks does.
TEST(SlackRenderReply, WritesTheSameBytesAsTheJsonTree) {
  std::vector<Reply> replies;
  replies.push_back(Reply{});
  Reply plain;
  plain.text = "Recorded event #3 at 14:02 UTC";
  replies.push_back(plain);
  Reply quoting;
  quoting.visibility = Reply::Visibility::kChannel;
  quoting.text = "say \"hi\" \\ back\tslash / & <x> \xE2\x9C\x93 \x7F";
  quoting.details = {"line \"one\"", "", "tab\there \\n", "\xF0\x9F\x94\xA5 fire"};
  replies.push_back(quoting);
  Reply document;
  document.text = "Draft";
  document.document = "# Title\n\n## Timeline\n- `a` ``` \"b\"\n\\ c\n";
  document.incident = 7;
  replies.push_back(document);
  Reply many;
  many.details.assign(20000, "a line that is long enough to fill many blocks quickly");
  replies.push_back(many);
  Reply bad;
  bad.text = "bad \xFF\xFE bytes";
  bad.details = {"\xC3", "esc \x1b[31m \x01"};
  replies.push_back(bad);
  for (const Reply& reply : replies) {
    json tree = render_blocks(reply);
    tree["response_type"] =
        reply.visibility == Reply::Visibility::kChannel ? "in_channel" : "ephemeral";
    EXPECT_EQ(render_reply(reply), tree.dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

}  // namespace
}  // namespace scribe::slack
