#include "fuzz/slack_checks.h"

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "fuzz/text_checks.h"

namespace scribe::fuzz {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::size_t kSlackTextLimit = 3000;              // characters of one text object

void check_text(std::string_view text, std::size_t limit, std::string_view source) {
  FUZZ_CHECK(text.size() <= limit, source);
  FUZZ_CHECK(slack_escaped(text), source);
  FUZZ_CHECK(valid_utf8(text), source);
  if (text.starts_with("```\n")) {
    FUZZ_CHECK(text.size() >= 7 && text.ends_with("\n```"), source);
    // A backtick after a backtick gets a zero-width space, so the text inside can never
    // spell the closing fence.
    const std::string_view inside = text.substr(4, text.size() - 7);
    FUZZ_CHECK(inside.find("``") == std::string_view::npos, source);
  }
}

}  // namespace

void check_slack_body(std::string_view body, const slack::RenderOptions& options,
                      std::string_view source) {
  const std::size_t section_limit = std::max<std::size_t>(options.max_section_chars, 16);
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(j.is_object(), source);
  if (source.find(kReplacement) == std::string_view::npos) {
    FUZZ_CHECK(body.find(kReplacement) == std::string_view::npos, source);
    FUZZ_CHECK(body.find("\\ufffd") == std::string_view::npos, source);
  }
  FUZZ_CHECK(j.contains("text") && j["text"].is_string(), source);
  check_text(j["text"].get<std::string>(), section_limit, source);
  if (j.contains("response_type")) {
    const auto type = j["response_type"].get<std::string>();
    FUZZ_CHECK(type == "in_channel" || type == "ephemeral", source);
  }
  if (!j.contains("blocks")) return;
  const nlohmann::json& blocks = j["blocks"];
  FUZZ_CHECK(blocks.is_array() && !blocks.empty(), source);
  FUZZ_CHECK(blocks.size() <= options.max_blocks, source);
  for (const nlohmann::json& block : blocks) {
    const std::string type = block.value("type", "");
    if (type == "section") {
      FUZZ_CHECK(block["text"].value("type", "") == "mrkdwn", source);
      FUZZ_CHECK(block["text"].value("verbatim", false), source);
      check_text(block["text"].value("text", ""), section_limit, source);
    } else {
      FUZZ_CHECK(type == "context", source);
      FUZZ_CHECK(block["elements"].is_array() && block["elements"].size() == 1, source);
      // Context notes are Scribe's own short sentences: only Slack's limit applies.
      check_text(block["elements"][0].value("text", ""), kSlackTextLimit, source);
    }
  }
}

}  // namespace scribe::fuzz
