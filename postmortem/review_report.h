// The review as people and programs see it: the "Review before the meeting" section at
// the end of the Markdown and HTML drafts, `review` in the JSON draft, the answer to
// `/incident review` and `scribe lint`; and the close gate, which decides from the same
// findings whether an incident may be closed.
//
// Everything here is a pure function of its arguments (no I/O, no clock), like the review
// itself (review.h).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "postmortem/draft.h"
#include "postmortem/review.h"
#include "postmortem/template.h"
#include "storage/model.h"

namespace scribe {

// The postmortem's review state together with the findings.
struct PostmortemReview {
  PostmortemStatus status = PostmortemStatus::kDraft;
  Person owner;                              // in effect: the one named, else the commander
  std::vector<Approval> approvals;           // oldest first
  std::optional<std::string> closed_anyway;  // the reason, when closed over the close gate
  std::vector<Finding> findings;
};

PostmortemReview review_postmortem(const IncidentRecord& record, const Reviewer& reviewer,
                                   Timestamp now);

// Where a finding points, in words: "the incident", "timeline #3", "action #2",
// "Impact note 1".
std::string describe_target(const FindingTarget& target);

// The postmortem's status as people read it: "draft", "in review", "final".
std::string_view postmortem_status_words(PostmortemStatus s);

// The "## Review before the meeting" section: status, owner, approvals, a close over the
// gate, and the findings (or that there are none). User text in excerpts is escaped so
// it cannot change the document's structure. `command_prefix` as in render_markdown.
// With `max_bytes` > 0, findings are listed while they fit in about that many bytes, then
// how many more there are and where to see them all.
std::string render_review_markdown(const PostmortemReview& review,
                                   std::string_view command_prefix = "/",
                                   std::size_t max_bytes = 0);

// `review: { status, owner, approvals: [{by, at}], closed_anyway, findings: [{rule, code,
// target: {type, seq?, section?, index?}, excerpt, message, suggestion}] }`.
nlohmann::ordered_json review_to_json(const PostmortemReview& review);

// The draft followed by its review section; the JSON draft with `review` added. With
// `max_bytes` > 0 (a chat message, render_markdown's budget) the whole stays about that
// size: the review section gets at most a quarter, the draft the rest.
// With `tmpl` (an organisation's `draft.template`), the Markdown is the template rendered
// over the JSON draft with its review; where that fails, or is longer than a chat message
// may be (`max_bytes`), Scribe's own draft is given instead, so a draft is never empty.
std::string render_reviewed_markdown(const Draft& draft, const PostmortemReview& review,
                                     std::string_view command_prefix = "/",
                                     std::size_t max_bytes = 0,
                                     const DraftTemplate* tmpl = nullptr);
std::string render_reviewed_json(const Draft& draft, const PostmortemReview& review,
                                 int indent = 2);

// One line per finding for chat and the command line: "[blame] timeline #3: “bob forgot
// the flag” — message Suggestion."
std::vector<std::string> finding_lines(const std::vector<Finding>& findings);

// What a severity requires before `/incident close` is accepted.
struct CloseRequirements {
  bool summary = false;
  bool impact = false;  // at least one impact note, and impact not flagged as unquantified
  bool cause = false;
  bool owner = false;     // a postmortem owner (the commander counts)
  bool prevent = false;   // at least one action item of kind `prevent` that is not dropped
  bool no_blame = false;  // no `blame` finding
  int approvals = 0;  // by others than the commander and postmortem owner, since the last reopen
};

// The close gate's requirements per severity. Defaults: sev1/sev2 need summary, quantified
// impact, cause, owner, a `prevent` item, no blame and one approval; sev3/sev4 summary and
// cause. Names for the configuration: "summary", "impact", "cause", "owner", "prevent",
// "no_blame", "approval".
struct CloseGateSettings {
  std::map<Severity, CloseRequirements> by_severity = default_close_requirements();
  static std::map<Severity, CloseRequirements> default_close_requirements();
};

// Reads a list of requirement names; nullopt with the first unknown name in `bad`.
std::optional<CloseRequirements> close_requirements_from_names(
    const std::vector<std::string>& names, std::string* bad = nullptr);

// What stops the close, one sentence each, in a fixed order; empty when it may close.
// `record` is the incident's record, `review` its review (the findings of the same record);
// the commands named are written with `command_prefix`.
std::vector<std::string> close_objections(const IncidentRecord& record,
                                          const PostmortemReview& review,
                                          const CloseGateSettings& gate,
                                          std::string_view command_prefix = "/");

}  // namespace scribe
