// Texts that each try a different way out of being text (links, images, raw HTML,
// entities, Markdown block and inline constructs, bidi overrides, control characters,
// broken UTF-8), for the tests of every format Scribe renders user text into.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace scribe::testing {

inline const std::vector<std::string>& hostile_texts() {
  static const std::vector<std::string> texts = {
      "<script>alert(1)</script>",
      "[click](javascript:alert(1))",
      "![x](https://evil/x.png)",
      "https://evil.example",
      "www.evil.example and mail ann@evil.example",
      "<https://evil.example> <ann@evil.example>",
      "<img src=x onerror=alert(1)>",
      "**bold** _it_ `code` *a*b ~~strike~~",
      "| pipe | and | more |",
      "# heading",
      "> quote",
      "1. list",
      "2) list",
      "- item",
      "+ item",
      "* item",
      "---",
      "***",
      "___",
      "setext\n===",
      "setext\n-",
      "~~~\nfenced\n~~~",
      "```js\nfenced\n```",
      "    indented code",
      "back\\slash \\* \\\\ \\| end\\",
      "&amp; &lt;b&gt; &#60;script&#62; &copy; AT&T",
      "[ref]: https://evil.example",
      "[x][ref] [y]",
      "snake_case_name __init__ _a_b",
      "a\nb\n\n- c\n    code\n> quote",
      "trailing spaces  \nnext line",
      "`` double `tick` ``",
      "| a | b |\n|---|---|\n| c | d |",
      "bidi \xE2\x80\xAE"
      "evil\xE2\x80\xAC and \xE2\x81\xA6iso\xE2\x81\xA9",
      "mark \xE2\x80\x8F rtl kept",
      "bad utf8 \xff\xfe end \xC0\xAF",
      "esc \x1b[31mred\x1b[0m nul \x01",
      "<!-- comment --> <?php ?> <![CDATA[x]]>",
      "\\<script>",
  };
  return texts;
}

// The ones a platform can carry at all: Slack's form and Matrix's JSON refuse text that is
// not UTF-8 before Scribe sees it.
inline std::vector<std::string> hostile_utf8_texts() {
  std::vector<std::string> out;
  for (const std::string& text : hostile_texts()) {
    try {
      (void)nlohmann::json(text).dump();  // the strict handler throws on invalid UTF-8
      out.push_back(text);
    } catch (const nlohmann::json::type_error&) {
    }
  }
  return out;
}

}  // namespace scribe::testing
