// A user's Mustache template for the Markdown postmortem (the `draft.template` setting).
// The template sees the JSON draft (json.h) with its `review` (review_report.h), under the
// same names, plus `command_prefix` ("/" or "!"): `{{incident.ref}}`,
// `{{#timeline}}…{{/timeline}}`, `{{customer_impact.display}}` and so on; README, "Draft
// templates", lists them. Numbers appear as their decimal text, JSON null and empty lists
// are false in sections.
//
// `{{name}}` is Markdown-escaped (util/markdown_escape.h): whatever a user typed shows as
// typed and cannot open a heading, a list, a link or a table cell, and each line break in
// it becomes " ⏎ " so a value never ends the line (list item, table row) it was put in.
// `{{{name}}}` is the raw text: the template's author answers for it.
//
// A template is compiled once, at start-up: a syntax error is a TemplateError naming the
// line and column, so a broken template stops the service from starting instead of
// producing broken or empty drafts. Thread-safe after construction: render() is const and
// parses its own copy (the parsed form is not copyable; parsing is a small part of a render).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace scribe {

class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DraftTemplate {
 public:
  // Throws TemplateError("line 3, column 5: Unclosed section \"timeline\"") when `text`
  // is not a valid template, or when it cannot render a sample draft (an unusable partial).
  explicit DraftTemplate(std::string text);

  // The Markdown for `draft`: a JSON draft as render_reviewed_json makes it (an object).
  // Throws TemplateError only for what compiling could not see, which the constructor's
  // sample rendering makes unlikely; callers fall back to the built-in draft then.
  std::string render(const nlohmann::ordered_json& draft, std::string_view command_prefix) const;

 private:
  std::string text_;
};

// `text` escaped as `{{name}}` escapes it; exposed for tests.
std::string escape_template_value(std::string_view text);

// Reads and compiles the template file at `path`; TemplateError names the file and line.
std::shared_ptr<const DraftTemplate> load_draft_template(const std::string& path);

}  // namespace scribe
