// An organisation's `draft.template` (postmortem/template.h), two ways:
// - a value typed by a user, put into a fixed template as `{{v}}` in a paragraph and in a
//   table cell: the value shows as text and nothing else, so the paragraph's HTML holds
//   no tag but its <p>, the table row keeps its two cells, and the escaped value has no
//   line break (it cannot end the line it was put in);
// - an arbitrary template over the JSON draft of an arbitrary record with its review: it
//   compiles or is refused with a TemplateError, and renders (or is refused) without a
//   crash, a hang or a leak; from valid UTF-8 it makes valid UTF-8.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "fuzz/record_maker.h"
#include "fuzz/text_checks.h"
#include "postmortem/draft.h"
#include "postmortem/html.h"
#include "postmortem/review.h"
#include "postmortem/review_report.h"
#include "postmortem/template.h"

using namespace scribe;

namespace {

std::size_t count(std::string_view s, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string_view::npos; at = s.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// Every tag in `html` is one of `allowed` (names with their '<' or "</").
void check_only_tags(std::string_view html, std::initializer_list<std::string_view> allowed,
                     std::string_view source) {
  for (std::size_t at = html.find('<'); at != std::string_view::npos; at = html.find('<', at + 1)) {
    bool ok = false;
    for (std::string_view tag : allowed) ok = ok || html.substr(at).starts_with(tag);
    FUZZ_CHECK(ok, std::string(source) + " => " + std::string(html));
  }
}

void check_value(const std::string& value) {
  const std::string escaped = escape_template_value(value);
  FUZZ_CHECK(escaped.find_first_of("\r\n") == std::string::npos, escaped);

  static const DraftTemplate paragraph("P {{v}} Q\n");
  const nlohmann::ordered_json data = {{"v", value}};
  const std::string p = markdown_to_html(paragraph.render(data, "/"));
  check_only_tags(p, {"<p>", "</p>"}, value);
  FUZZ_CHECK(count(p, "<p>") == 1, value + " => " + p);

  static const DraftTemplate table("| a | b |\n|---|---|\n| {{v}} | x |\n");
  const std::string t = markdown_to_html(table.render(data, "/"));
  check_only_tags(t,
                  {"<table", "</table", "<thead", "</thead", "<tbody", "</tbody", "<tr", "</tr",
                   "<th", "</th", "<td", "</td"},
                  value);
  FUZZ_CHECK(count(t, "<td") == 2, value + " => " + t);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string value = in.ConsumeRandomLengthString(512);
  if (fuzz::valid_utf8(value)) check_value(value);

  const std::string text = in.ConsumeRandomLengthString(4096);
  fuzz::RecordMaker maker(in);
  const IncidentRecord record = maker.record();
  std::optional<DraftTemplate> tmpl;
  try {
    tmpl.emplace(text);
  } catch (const TemplateError& e) {
    FUZZ_CHECK(std::string_view(e.what()).size() > 0, text);
    return 0;
  }
  const Reviewer reviewer(ReviewSettings{});
  const PostmortemReview review = review_postmortem(record, reviewer, fuzz::now());
  const Draft draft = assemble_draft(record, fuzz::now());
  const auto json = nlohmann::ordered_json::parse(render_reviewed_json(draft, review, -1));
  try {
    const std::string out = tmpl->render(json, in.ConsumeBool() ? "!" : "/");
    if (fuzz::valid_utf8(text) && maker.all_valid_utf8) FUZZ_CHECK(fuzz::valid_utf8(out), text);
  } catch (const TemplateError&) {
    // Allowed: the service falls back to its own draft (review_report.h).
  }
  return 0;
}
