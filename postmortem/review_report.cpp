#include "postmortem/review_report.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "postmortem/format.h"
#include "postmortem/json.h"
#include "postmortem/markdown.h"
#include "postmortem/markdown_view.h"
#include "util/markdown_escape.h"
#include "util/text.h"

namespace scribe {
namespace {

using Json = nlohmann::ordered_json;

std::string_view section_name(NoteSection s) {
  switch (s) {
    case NoteSection::kSummary:
      return "Summary";
    case NoteSection::kImpact:
      return "Impact";
    case NoteSection::kCause:
      return "Root cause";
    case NoteSection::kWhy:
      return "5 whys";
    case NoteSection::kWentWell:
      return "What went well";
    case NoteSection::kWentWrong:
      return "What went wrong";
    case NoteSection::kLucky:
      return "Where we got lucky";
    case NoteSection::kLesson:
      return "Lessons";
    case NoteSection::kTrigger:
      return "Trigger";
    case NoteSection::kDetection:
      return "Detection";
    case NoteSection::kResolution:
      return "Resolution";
    case NoteSection::kLink:
      return "Supporting links";
  }
  return "Notes";
}

std::string_view display(const Person& p) {
  if (!p.name.empty()) return p.name;
  if (!p.id.empty()) return p.id;
  return "nobody";
}

// User text on one line, shown as typed: display-safe, every Markdown construct escaped
// (util/markdown_escape.h), line breaks as spaces.
std::string escape_inline(std::string_view s) {
  std::string flat = display_text(s);
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  std::replace(flat.begin(), flat.end(), '\r', ' ');
  fmt::memory_buffer out;
  append_markdown_escaped(out, flat, /*hashes=*/true);
  return fmt::to_string(out);
}

// By id when both have one, else by name (an @name the platform did not resolve).
bool same_person(const Person& a, const Person& b) {
  if (!a.id.empty() && !b.id.empty()) return a.id == b.id;
  return !a.name.empty() && a.name == b.name;
}

Json person(const Person& p) {
  Json j = Json::object();
  j["id"] = p.id;
  j["name"] = p.name;
  return j;
}

}  // namespace

std::string_view postmortem_status_words(PostmortemStatus s) {
  switch (s) {
    case PostmortemStatus::kDraft:
      return "draft";
    case PostmortemStatus::kInReview:
      return "in review";
    case PostmortemStatus::kFinal:
      return "final";
  }
  return "draft";
}

PostmortemReview review_postmortem(const IncidentRecord& record, const Reviewer& reviewer,
                                   Timestamp now) {
  PostmortemReview r;
  r.status = record.incident.postmortem_status;
  r.owner = postmortem_owner_of(record.incident);
  r.approvals = record.approvals;
  r.closed_anyway = record.incident.closed_anyway;
  r.findings = reviewer.review(record, now);
  return r;
}

std::string describe_target(const FindingTarget& t) {
  switch (t.type) {
    case TargetType::kIncident:
      return "the incident";
    case TargetType::kEvent:
      return t.seq ? fmt::format("timeline #{}", *t.seq) : std::string("timeline");
    case TargetType::kAction:
      return t.seq ? fmt::format("action #{}", *t.seq) : std::string("action item");
    case TargetType::kNote: {
      const std::string_view name = t.section ? section_name(*t.section) : "Notes";
      return t.index > 0 ? fmt::format("{} note {}", name, t.index) : fmt::format("{} note", name);
    }
  }
  return "the incident";
}

std::vector<std::string> finding_lines(const std::vector<Finding>& findings) {
  std::vector<std::string> lines;
  lines.reserve(findings.size());
  for (const Finding& f : findings) {
    std::string line = fmt::format("[{}] {}: ", to_string(f.rule), describe_target(f.target));
    if (!f.excerpt.empty()) line += fmt::format("“{}” — ", f.excerpt);
    line += f.message;
    if (!f.suggestion.empty()) line += " " + f.suggestion;
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string render_review_markdown(const PostmortemReview& review, std::string_view command_prefix,
                                   std::size_t max_bytes) {
  std::string out = "\n## Review before the meeting\n\n";
  fmt::format_to(std::back_inserter(out), "- Postmortem status: **{}**\n",
                 postmortem_status_words(review.status));
  fmt::format_to(std::back_inserter(out), "- Postmortem owner: {}\n",
                 escape_inline(display(review.owner)));
  if (review.approvals.empty()) {
    out += "- Approvals: none yet\n";
  } else {
    out += "- Approvals: ";
    for (std::size_t i = 0; i < review.approvals.size(); ++i) {
      if (i > 0) out += ", ";
      fmt::format_to(std::back_inserter(out), "{} ({})",
                     escape_inline(display(review.approvals[i].by)),
                     format_utc(review.approvals[i].at));
    }
    out += "\n";
  }
  if (review.closed_anyway) {
    fmt::format_to(std::back_inserter(out), "- **Closed over open review findings**: {}\n",
                   escape_inline(*review.closed_anyway));
  }
  out += "\n";
  if (review.findings.empty()) {
    out +=
        "No findings: the record is blameless, precise, actionable and complete as far as "
        "the review can tell.\n";
    return out;
  }
  fmt::format_to(std::back_inserter(out),
                 "{} finding{} for the author{}; fix the entries, then `{}incident review` "
                 "again.\n\n",
                 review.findings.size(), review.findings.size() == 1 ? "" : "s",
                 review.findings.size() == 1 ? "" : "s", command_prefix);
  for (std::size_t i = 0; i < review.findings.size(); ++i) {
    const Finding& f = review.findings[i];
    if (max_bytes > 0 && out.size() > max_bytes) {
      fmt::format_to(std::back_inserter(out),
                     "- … and {} more: `{}incident review` or `scribe lint` lists them all.\n",
                     review.findings.size() - i, command_prefix);
      break;
    }
    fmt::format_to(std::back_inserter(out), "- **{}** · {}", to_string(f.rule),
                   escape_inline(describe_target(f.target)));
    if (!f.excerpt.empty()) {
      fmt::format_to(std::back_inserter(out), ": “{}”", escape_inline(f.excerpt));
    }
    fmt::format_to(std::back_inserter(out), " — {}", escape_inline(f.message));
    if (!f.suggestion.empty()) {
      fmt::format_to(std::back_inserter(out), " *{}*", escape_inline(f.suggestion));
    }
    out += "\n";
  }
  return out;
}

kainjow::mustache::data review_markdown_view(const PostmortemReview& review) {
  namespace mus = kainjow::mustache;
  using view::add;
  mus::data v;
  add(v, "status", postmortem_status_words(review.status));
  add(v, "owner", escape_inline(display(review.owner)));
  add(v, "approvals", view::list(review.approvals.size(), [&](std::size_t i) {
        mus::data item;
        add(item, "by", escape_inline(display(review.approvals[i].by)));
        add(item, "at", format_utc(review.approvals[i].at));
        return item;
      }));
  if (review.closed_anyway) {
    add(v, "closed_anyway", escape_inline(*review.closed_anyway));
  } else {
    add(v, "closed_anyway", false);
  }
  const std::size_t n = review.findings.size();
  add(v, "findings_count",
      fmt::format("{} finding{} for the author{}", n, n == 1 ? "" : "s", n == 1 ? "" : "s"));
  add(v, "findings", view::list(n, [&](std::size_t i) {
        const Finding& f = review.findings[i];
        mus::data item;
        add(item, "rule", to_string(f.rule));
        add(item, "target", escape_inline(describe_target(f.target)));
        if (f.excerpt.empty()) {
          add(item, "excerpt", false);
        } else {
          add(item, "excerpt", escape_inline(f.excerpt));
        }
        add(item, "message", escape_inline(f.message));
        if (f.suggestion.empty()) {
          add(item, "suggestion", false);
        } else {
          add(item, "suggestion", escape_inline(f.suggestion));
        }
        return item;
      }));
  return v;
}

nlohmann::ordered_json review_to_json(const PostmortemReview& review) {
  Json j = Json::object();
  j["status"] = std::string(to_string(review.status));
  j["owner"] = person(review.owner);
  Json approvals = Json::array();
  for (const Approval& a : review.approvals) {
    Json x = Json::object();
    x["by"] = person(a.by);
    x["at"] = format_iso8601(a.at);
    approvals.push_back(std::move(x));
  }
  j["approvals"] = std::move(approvals);
  j["closed_anyway"] = review.closed_anyway ? Json(*review.closed_anyway) : Json(nullptr);
  Json findings = Json::array();
  for (const Finding& f : review.findings) {
    Json target = Json::object();
    target["type"] = std::string(to_string(f.target.type));
    if (f.target.seq) target["seq"] = *f.target.seq;
    if (f.target.section) {
      target["section"] = std::string(to_string(*f.target.section));
      if (f.target.index > 0) target["index"] = f.target.index;
    }
    Json x = Json::object();
    x["rule"] = std::string(to_string(f.rule));
    x["code"] = std::string(f.code);
    x["target"] = std::move(target);
    x["excerpt"] = f.excerpt;
    x["message"] = f.message;
    x["suggestion"] = f.suggestion;
    findings.push_back(std::move(x));
  }
  j["findings"] = std::move(findings);
  return j;
}

std::string render_reviewed_markdown(const Draft& draft, const PostmortemReview& review,
                                     std::string_view command_prefix, std::size_t max_bytes,
                                     const DraftTemplate* tmpl) {
  std::string failed;
  if (tmpl != nullptr) {
    Json j = draft_to_json(draft);
    j["review"] = review_to_json(review);
    try {
      std::string out = tmpl->render(j, command_prefix, &draft, &review);
      if (max_bytes == 0 || out.size() <= max_bytes) return out;
    } catch (const TemplateError& e) {
      // Checked at start-up, so unexpected: the reader is told, and gets Scribe's own draft.
      failed = fmt::format("*The draft template failed ({}); this is Scribe's own draft.*\n\n",
                           escape_template_value(e.what()));
    }
  }
  if (max_bytes == 0) return failed + render_default_markdown(draft, &review, command_prefix);
  // A chat message: the draft within its budget (markdown.h), then the review section.
  const std::string section =
      render_review_markdown(review, command_prefix, max_bytes > 0 ? max_bytes / 4 : 0);
  const std::size_t rest = max_bytes > section.size() ? max_bytes - section.size() : 1;
  std::string out = failed + render_markdown(draft, command_prefix, max_bytes > 0 ? rest : 0);
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  out += section;
  return out;
}

std::string render_reviewed_json(const Draft& draft, const PostmortemReview& review, int indent) {
  Json j = draft_to_json(draft);
  j["review"] = review_to_json(review);
  // Chat text is not guaranteed UTF-8; the default handler would throw mid-request.
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::map<Severity, CloseRequirements> CloseGateSettings::default_close_requirements() {
  CloseRequirements high;
  high.summary = high.impact = high.cause = high.owner = high.prevent = high.no_blame = true;
  high.approvals = 1;
  CloseRequirements low;
  low.summary = low.cause = true;
  return {{Severity::kSev1, high},
          {Severity::kSev2, high},
          {Severity::kSev3, low},
          {Severity::kSev4, low}};
}

std::optional<CloseRequirements> close_requirements_from_names(
    const std::vector<std::string>& names, std::string* bad) {
  CloseRequirements r;
  for (const std::string& n : names) {
    if (n == "summary") {
      r.summary = true;
    } else if (n == "impact") {
      r.impact = true;
    } else if (n == "cause") {
      r.cause = true;
    } else if (n == "owner") {
      r.owner = true;
    } else if (n == "prevent") {
      r.prevent = true;
    } else if (n == "no_blame") {
      r.no_blame = true;
    } else if (n == "approval") {
      ++r.approvals;
    } else {
      if (bad != nullptr) *bad = n;
      return std::nullopt;
    }
  }
  return r;
}

std::vector<std::string> close_objections(const IncidentRecord& record,
                                          const PostmortemReview& review,
                                          const CloseGateSettings& gate,
                                          std::string_view command_prefix) {
  std::vector<std::string> out;
  const auto it = gate.by_severity.find(record.incident.severity);
  if (it == gate.by_severity.end()) return out;
  const CloseRequirements& need = it->second;
  const auto has_note = [&](NoteSection s) {
    return std::any_of(record.notes.begin(), record.notes.end(),
                       [&](const Note& n) { return n.section == s; });
  };
  const auto has_code = [&](std::string_view code) {
    return std::any_of(review.findings.begin(), review.findings.end(),
                       [&](const Finding& f) { return f.code == code; });
  };
  if (need.summary && !has_note(NoteSection::kSummary)) {
    out.push_back("No summary: `incident summary <what happened, in two sentences>`.");
  }
  if (need.impact) {
    if (!has_note(NoteSection::kImpact)) {
      out.push_back("No impact: `incident impact <who, how many, how long, data lost?>`.");
    } else if (has_code("impact_unquantified")) {
      out.push_back(
          "Impact has no numbers: add one with them (how many users or requests, for how "
          "long).");
    }
  }
  if (need.cause && !has_note(NoteSection::kCause)) {
    out.push_back("No root cause: `incident cause <what made this possible>`.");
  }
  if (need.owner && review.owner.id.empty() && review.owner.name.empty()) {
    out.push_back("No postmortem owner: `incident owner @someone`.");
  }
  if (need.prevent &&
      std::none_of(record.actions.begin(), record.actions.end(), [](const ActionItem& a) {
        return a.kind == ActionKind::kPrevent && a.status != ActionStatus::kDropped;
      })) {
    out.push_back("No action item of kind prevent: `action <change> @owner due <date> #prevent`.");
  }
  if (need.no_blame) {
    const auto blame = std::count_if(review.findings.begin(), review.findings.end(),
                                     [](const Finding& f) { return f.rule == ReviewRule::kBlame; });
    if (blame > 0) {
      out.push_back(fmt::format(
          "{} blame finding{}: rewrite {} about the system, not the person (see `incident "
          "review`).",
          blame, blame == 1 ? "" : "s", blame == 1 ? "it" : "them"));
    }
  }
  if (need.approvals > 0) {
    const Person& commander = record.incident.commander;
    // An approval given before the latest reopen approved a postmortem that has changed.
    std::optional<Timestamp> reopened;
    for (const TimelineEvent& e : record.events) {
      if (e.kind == EventKind::kReopened && (!reopened || e.recorded_at > *reopened)) {
        reopened = e.recorded_at;
      }
    }
    const auto counted =
        std::count_if(review.approvals.begin(), review.approvals.end(), [&](const Approval& a) {
          return !same_person(a.by, commander) && !same_person(a.by, review.owner) &&
                 (!reopened || a.at >= *reopened);
        });
    if (counted < need.approvals) {
      out.push_back(fmt::format(
          "{} of {} approval{}: someone other than the commander and the postmortem owner "
          "runs `incident approve` (ask with `incident review request`).",
          counted, need.approvals, need.approvals == 1 ? "" : "s"));
    }
  }
  // The commands in the sentences as users type them here.
  for (std::string& line : out) {
    for (std::string_view word : {"`incident ", "`action "}) {
      for (std::size_t at = line.find(word); at != std::string::npos;
           at = line.find(word, at + word.size() + command_prefix.size())) {
        line.insert(at + 1, command_prefix);
      }
    }
  }
  return out;
}

}  // namespace scribe
