// The postmortem review on arbitrary records (fuzz/record_maker.h), with the default word
// lists or ones taken from the input, then everything made from its findings: the review
// section of the Markdown draft (full and shortened for chat), the JSON draft with its
// review, the chat lines and the close gate. Checked besides crashes, leaks and UB:
// - the review is a pure function: the same findings twice, and from review_incident;
// - findings come in rule order (blame, vague, unactionable, coverage, missing);
// - an entry reviewed alone (review_entry, as when it is typed) gets exactly the entry-rule
//   findings the whole review gives it (the header's promise), for events and actions;
// - excerpts from valid UTF-8 are valid UTF-8; the HTML of the Markdown holds only the
//   renderer's tags; the JSON parses and has one finding per finding.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "fuzz/html_checks.h"
#include "fuzz/record_maker.h"
#include "fuzz/text_checks.h"
#include "postmortem/draft.h"
#include "postmortem/html.h"
#include "postmortem/markdown.h"
#include "postmortem/review.h"
#include "postmortem/review_report.h"

using namespace scribe;

namespace {

// What identifies a finding for comparisons (the code is a view of a constant).
std::string key(const Finding& f) {
  return std::string(to_string(f.rule)) + "|" + std::string(f.code) + "|" +
         std::string(to_string(f.target.type)) + "|" +
         (f.target.seq ? std::to_string(*f.target.seq) : "-") + "|" + std::to_string(f.target.id) +
         "|" + f.excerpt + "|" + f.message + "|" + f.suggestion;
}

std::vector<std::string> keys(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  out.reserve(findings.size());
  for (const Finding& f : findings) out.push_back(key(f));
  return out;
}

bool entry_rule(ReviewRule r) {
  return r == ReviewRule::kBlame || r == ReviewRule::kVague || r == ReviewRule::kUnactionable;
}

// The findings of `all` about the entry with stored id `id` of `type`, entry rules only.
std::vector<std::string> entry_keys(const std::vector<Finding>& all, TargetType type,
                                    std::int64_t id) {
  std::vector<std::string> out;
  for (const Finding& f : all) {
    if (entry_rule(f.rule) && f.target.type == type && f.target.id == id) out.push_back(key(f));
  }
  return out;
}

ReviewSettings settings_from(FuzzedDataProvider& in, fuzz::RecordMaker& maker) {
  ReviewSettings s;
  s.blame = in.ConsumeIntegralInRange(0, 7) != 0;
  s.vague = in.ConsumeIntegralInRange(0, 7) != 0;
  s.unactionable = in.ConsumeIntegralInRange(0, 7) != 0;
  s.coverage = in.ConsumeIntegralInRange(0, 7) != 0;
  s.missing = in.ConsumeIntegralInRange(0, 7) != 0;
  if (in.ConsumeIntegralInRange(0, 3) == 0) {
    // Word lists an operator could configure: any words, empty ones and phrases included.
    for (auto* list : {&s.blame_words, &s.person_words, &s.measurable_nouns, &s.vague_verbs,
                       &s.concrete_verbs}) {
      if (in.ConsumeBool()) list->push_back(maker.text(24));
    }
  }
  s.action_horizon_days = in.ConsumeIntegralInRange(-1, 100000);
  s.detect_threshold = std::chrono::minutes{in.ConsumeIntegralInRange(0, 1 << 20)};
  s.timeline_gap = std::chrono::minutes{in.ConsumeIntegralInRange(0, 1 << 20)};
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  fuzz::RecordMaker maker(in);
  const ReviewSettings settings = settings_from(in, maker);
  const Timestamp now = in.ConsumeBool() ? fuzz::now() : maker.time();
  const std::string_view prefix = in.ConsumeBool() ? "!" : "/";
  const IncidentRecord record = maker.record();
  const bool valid = maker.all_valid_utf8;

  const Reviewer reviewer(settings);
  const std::vector<Finding> findings = reviewer.review(record, now);
  FUZZ_CHECK(keys(reviewer.review(record, now)) == keys(findings), "not deterministic");
  FUZZ_CHECK(keys(review_incident(record, settings, now)) == keys(findings), "review_incident");
  for (std::size_t i = 1; i < findings.size(); ++i) {
    FUZZ_CHECK(findings[i - 1].rule <= findings[i].rule, key(findings[i]));
  }
  for (const Finding& f : findings) {
    FUZZ_CHECK(!f.code.empty() && !f.message.empty(), key(f));
    if (valid) FUZZ_CHECK(fuzz::valid_utf8(f.excerpt), f.excerpt);
  }

  // Each entry alone, as when it is typed, with the participants as its people.
  EntryContext context;
  context.people = review_people(record);
  context.now = now;
  for (const TimelineEvent& e : record.events) {
    if (e.deleted) continue;
    std::vector<std::string> alone = keys(reviewer.review_entry(e, context));
    FUZZ_CHECK(alone == entry_keys(findings, TargetType::kEvent, e.id), e.text);
  }
  for (const ActionItem& a : record.actions) {
    std::vector<std::string> alone = keys(reviewer.review_entry(a, context));
    FUZZ_CHECK(alone == entry_keys(findings, TargetType::kAction, a.id), a.text);
  }
  for (const Note& n : record.notes) (void)reviewer.review_entry(n, context);

  // What is made from it.
  const PostmortemReview review = review_postmortem(record, reviewer, now);
  FUZZ_CHECK(review.findings.size() == findings.size(), "review_postmortem");
  for (const std::string& line : finding_lines(review.findings)) {
    if (valid) FUZZ_CHECK(fuzz::valid_utf8(line), line);
  }
  (void)close_objections(record, review, CloseGateSettings{}, prefix);

  const Draft draft = assemble_draft(record, now);
  const std::string markdown = render_reviewed_markdown(draft, review, prefix);
  if (valid) FUZZ_CHECK(fuzz::valid_utf8(markdown), markdown);
  fuzz::check_html(markdown_to_html(markdown), markdown);
  const std::size_t max_bytes = in.ConsumeIntegralInRange<std::size_t>(1, kChatDraftBytes);
  const std::string shortened = render_reviewed_markdown(draft, review, prefix, max_bytes);
  if (valid) FUZZ_CHECK(fuzz::valid_utf8(shortened), shortened);
  fuzz::check_html(markdown_to_html(shortened), shortened);

  const std::string json_text = render_reviewed_json(draft, review, -1);
  const nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(j.is_object(), json_text);
  FUZZ_CHECK(
      j["review"]["findings"].is_array() && j["review"]["findings"].size() == findings.size(),
      json_text);
  return 0;
}
