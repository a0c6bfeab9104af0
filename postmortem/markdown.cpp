#include "postmortem/markdown.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <date/tz.h>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "postmortem/format.h"
#include "postmortem/markdown_parts.h"
#include "postmortem/template.h"

namespace scribe {
namespace {

using namespace markdown;

class MarkdownWriter {
 public:
  MarkdownWriter(const Draft& draft, std::string_view prefix, std::size_t max_bytes)
      : d_(draft), prefix_(prefix), max_bytes_(max_bytes), clock_(draft) {}

  std::string render() {
    if (max_bytes_ == 0) {
      out_.reserve(estimated_size());
      head();
      timeline();
      tail();
      return fmt::to_string(out_);
    }
    // The whole draft if it fits, found out by rendering it until it no longer does.
    out_.reserve(max_bytes_ + max_bytes_ / 2);
    mode_ = Mode::kProbe;
    head();
    timeline();
    tail();
    if (!overflow_) return fmt::to_string(out_);
    return render_short();
  }

 private:
  enum class Mode {
    kWhole,
    kProbe,  // the whole draft, abandoned (overflow_) once it passes max_bytes_
    kShort,  // each list within a budget, the timeline within what the rest leaves
  };

  // The sections before and after the timeline.
  void head() {
    facts();
    summary();
    impact();
    key_durations();
  }
  void tail() {
    causes();
    // Sections that have no command of their own yet show only when something was written.
    note_list_if_any("Trigger", d_.sections.trigger);
    note_list_if_any("Detection", d_.sections.detection);
    note_list_if_any("Resolution", d_.sections.resolution);
    note_list("What went well", d_.sections.went_well, "incident went-well <text>");
    note_list("What went wrong", d_.sections.went_wrong, "incident went-wrong <text>");
    note_list("Where we got lucky", d_.sections.lucky, "incident lucky <text>");
    note_list("Lessons learned", d_.sections.lessons, "incident lesson <text>");
    actions();
    related();
    note_list_if_any("Supporting links", d_.sections.links);
    if (d_.zone == nullptr) {
      fmt::format_to(fmt::appender(out_), "\n---\n\nDrafted by Scribe at {}. Times are UTC.\n",
                     format_utc(d_.generated_at));
    } else {
      fmt::format_to(fmt::appender(out_),
                     "\n---\n\nDrafted by Scribe at {}. Times are UTC, with the channel's local "
                     "time ({}) in brackets.\n",
                     format_utc_and_local(d_.generated_at, d_.zone), d_.zone->name());
    }
  }

  // A draft of at most max_bytes_: every section, each list cut short with a count of
  // what is left out, and as much of the timeline's beginning and end as the rest leaves
  // room for. Only when single items are larger than their list's budget is the end cut.
  std::string render_short() {
    mode_ = Mode::kShort;
    out_.clear();
    head();
    Buffer before = std::move(out_);
    out_ = Buffer();
    tail();
    Buffer after = std::move(out_);
    out_ = std::move(before);
    const std::size_t rest = out_.size() + after.size() + 512;
    timeline_budget_ = max_bytes_ > rest ? max_bytes_ - rest : 0;
    timeline();
    put(out_, std::string_view(after.data(), after.size()));
    if (out_.size() > max_bytes_) {
      // Lists of huge items: the end goes, cut at a line so no table row is torn.
      std::string_view text(out_.data(), out_.size());
      const std::size_t cut = text.rfind('\n', max_bytes_ > 400 ? max_bytes_ - 400 : 0);
      out_.resize(cut == std::string_view::npos ? 0 : cut + 1);
      put(out_, "\n");
      where_whole();
    }
    return fmt::to_string(out_);
  }

  // Where the whole draft is, for a shortened one.
  void where_whole() {
    fmt::format_to(fmt::appender(out_),
                   "*Shortened to fit a chat message. The whole draft: `scribe draft {}` or "
                   "`GET /api/incidents/{}/postmortem.md` (or `.html`).*\n",
                   d_.ref, d_.incident.id);
  }

  // Before each item of a list that began at `start` in out_: whether it is shown.
  bool room(std::size_t start, std::size_t budget) {
    switch (mode_) {
      case Mode::kWhole:
        return true;
      case Mode::kProbe:
        overflow_ = overflow_ || out_.size() > max_bytes_;
        return !overflow_;
      case Mode::kShort:
        return out_.size() - start < budget;
    }
    return true;
  }
  // The budget of a list of notes when shortening.
  std::size_t list_budget() const { return max_bytes_ / 10; }

  // After a list (not a table) that showed `shown` of `total` items.
  void left_out(std::size_t shown, std::size_t total) {
    if (shown < total) {
      fmt::format_to(fmt::appender(out_), "\n*… and {} more not shown here.*\n", total - shown);
    }
  }

  std::size_t estimated_size() const {
    std::size_t n = 4096;
    for (const auto& row : d_.timeline) {
      n += row.event.text.size() + row.event.author.name.size() + 64;
    }
    for (const auto& a : d_.actions) n += a.text.size() + 96;
    for (const auto& r : d_.action_history) n += r.before.size() + r.after.size() + 96;
    const DraftSections& s = d_.sections;
    for (const auto* notes :
         {&s.summary, &s.impact, &s.cause, &s.why, &s.went_well, &s.went_wrong, &s.lucky,
          &s.lessons, &s.trigger, &s.detection, &s.resolution, &s.links}) {
      for (const auto& note : *notes) n += note.text.size() + 16;
    }
    return n;
  }

  void clock(Timestamp t) { clock_.put(out_, t); }

  void heading(std::string_view level, std::string_view text) {
    fmt::format_to(fmt::appender(out_), "\n{} {}\n\n", level, text);
  }

  // The line an empty section shows: what is missing and which command fills it.
  void placeholder(std::string_view command) {
    fmt::format_to(fmt::appender(out_), "*Missing — add with `{}{}`.*\n", prefix_, command);
  }

  void bullets(const std::vector<Note>& notes) {
    const std::size_t start = out_.size();
    std::size_t shown = 0;
    for (const auto& n : notes) {
      if (!room(start, list_budget())) break;
      put(out_, "- ");
      put_block(out_, n.text, 2);
      out_.push_back('\n');
      ++shown;
    }
    left_out(shown, notes.size());
  }

  void facts() {
    const Incident& inc = d_.incident;
    fmt::format_to(fmt::appender(out_), "# Postmortem: {}", d_.ref);
    if (!inc.title.empty()) {
      put(out_, " — ");
      put_inline(out_, inc.title, /*hashes=*/true);
    }
    put(out_, "\n\n");
    auto fact = [&](std::string_view label, std::string_view value) {
      fmt::format_to(fmt::appender(out_), "- **{}:** {}\n", label, value);
    };
    // What customers felt leads, labelled apart from how long the responders worked on it.
    fact(d_.impact_ongoing ? "Customer impact so far" : "Customer impact",
         customer_impact_text(d_, prefix_));
    fact(d_.ongoing ? "Incident duration so far" : "Incident duration",
         d_.ongoing ? fmt::format("{} (first timeline event to this draft; not resolved)",
                                  format_duration(d_.duration))
                    : fmt::format("{} (first timeline event to resolution)",
                                  format_duration(d_.duration)));
    fact("Severity", to_string(inc.severity));
    fact("Status", status_title(inc.status));
    fact("Declared", format_utc_and_local(inc.declared_at, d_.zone));
    fact("Mitigated", inc.mitigated_at ? format_utc_and_local(*inc.mitigated_at, d_.zone) : "—");
    fact("Resolved", d_.ongoing ? "—" : format_utc_and_local(d_.ended_at, d_.zone));
    put(out_, "- **Commander:** ");
    put_inline(out_, display_name(inc.commander));
    put(out_, "\n- **Participants:** ");
    const std::size_t start = out_.size();
    std::size_t shown = 0;
    for (; shown < d_.participants.size() && room(start, list_budget()); ++shown) {
      if (shown > 0) put(out_, ", ");
      put_inline(out_, display_name(d_.participants[shown]));
    }
    if (shown < d_.participants.size()) {
      fmt::format_to(fmt::appender(out_), " and {} more", d_.participants.size() - shown);
    }
    if (d_.participants.empty()) put(out_, "—");
    out_.push_back('\n');
    if (mode_ == Mode::kShort) {
      out_.push_back('\n');
      where_whole();
    }
  }

  void summary() {
    heading("##", "Summary");
    if (d_.sections.summary.empty()) return placeholder("incident summary <text>");
    const std::size_t start = out_.size();
    std::size_t i = 0;
    for (; i < d_.sections.summary.size() && room(start, list_budget()); ++i) {
      if (i > 0) out_.push_back('\n');
      put_block(out_, d_.sections.summary[i].text, 0);
      out_.push_back('\n');
    }
    left_out(i, d_.sections.summary.size());
  }

  void impact() {
    heading("##", "Impact");
    if (d_.sections.impact.empty() && d_.impact_events.empty()) {
      fmt::format_to(fmt::appender(out_),
                     "*Missing — who was affected, how many, for how long, was data lost? Add "
                     "with `{0}incident impact <text>` or `{0}timeline #impact <text>`.*\n",
                     prefix_);
      return;
    }
    bullets(d_.sections.impact);
    const std::size_t start = out_.size();
    std::size_t shown = 0;
    for (const std::size_t i : d_.impact_events) {
      if (!room(start, list_budget())) break;
      const TimelineEvent& e = d_.timeline[i].event;
      put(out_, "- ");
      clock(e.occurred_at);
      put(out_, " — ");
      put_block(out_, e.text, 2);
      out_.push_back('\n');
      ++shown;
    }
    left_out(shown, d_.impact_events.size());
  }

  void moment(const Moment& m) {
    put(out_, m.name);
    if (!m.at) return put(out_, ": —");
    put(out_, " at ");
    clock(*m.at);
    if (!m.fallback.empty()) fmt::format_to(fmt::appender(out_), " ({})", m.fallback);
  }

  void key_durations() {
    heading("##", "Key durations");
    put(out_, "| Measure | From | To | Duration |\n|---|---|---|---|\n");
    for (const KeyDuration& k : d_.durations) {
      fmt::format_to(fmt::appender(out_), "| {} | ", k.measure);
      moment(k.from);
      put(out_, " | ");
      moment(k.to);
      put(out_, " | ");
      put_cell(out_, format_key_duration(k));
      put(out_, " |\n");
    }
    fmt::format_to(fmt::appender(out_),
                   "\n*Impact began*: the earliest `#impact` event. *Detected*: the earliest "
                   "`#detected` or `#alert` event, or the declaration if that was earlier or "
                   "there is none. *Mitigated*: `{0}incident mitigated`, else the resolution. "
                   "*Resolved*: `{0}incident resolved`. A span that would be negative (say, "
                   "detected before impact began) counts as 0s, with a remark.\n",
                   prefix_);
  }

  void timeline() {
    heading("##", "Timeline");
    if (d_.timeline.empty()) {
      fmt::format_to(fmt::appender(out_), "*Missing — add with `{}timeline <text>`.*\n", prefix_);
      return;
    }
    const std::string local = d_.zone == nullptr
                                  ? std::string()
                                  : fmt::format(", local time in {} in brackets", d_.zone->name());
    if (clock_.with_dates()) {
      fmt::format_to(fmt::appender(out_), "All times UTC, from {} to {}{}.\n\n",
                     format_utc_date(clock_.first_date()), format_utc_date(clock_.last_date()),
                     local);
    } else {
      fmt::format_to(fmt::appender(out_), "All times UTC on {}{}.\n\n",
                     format_utc_date(clock_.first_date()), local);
    }
    put(out_, d_.zone == nullptr
                  ? "| # | Time (UTC) | Since start | Author | Kind | Event |\n"
                  : "| # | Time (UTC, local) | Since start | Author | Kind | Event |\n");
    put(out_, "|---:|---|---|---|---|---|\n");
    const std::size_t start = out_.size();
    const std::size_t rows = d_.timeline.size();
    std::size_t first = 0;
    for (; first < rows && room(start, timeline_budget_ / 2); ++first) timeline_row(first);
    if (first == rows) return;
    if (mode_ != Mode::kShort) return;  // probing: given up
    // The end of the timeline with the other half: how many rows fit is found by writing
    // them once and taking them back.
    const std::size_t half = timeline_budget_ / 2;
    const std::size_t mark = out_.size();
    std::size_t last = rows;
    while (last > first && out_.size() - mark < half) timeline_row(--last);
    const bool over = out_.size() - mark > half;
    out_.resize(mark);
    if (over) ++last;  // the row that passed the budget stays out
    if (last > first) {
      fmt::format_to(fmt::appender(out_),
                     "| … | | | | | *{} more events, #{} to #{}, not shown here* |\n", last - first,
                     d_.timeline[first].event.seq, d_.timeline[last - 1].event.seq);
    }
    for (std::size_t i = last; i < rows; ++i) timeline_row(i);
  }

  void timeline_row(std::size_t i) {
    const TimelineRow& row = d_.timeline[i];
    const TimelineEvent& e = row.event;
    fmt::format_to(fmt::appender(out_), FMT_COMPILE("| {} | "), e.seq);
    clock(e.occurred_at);
    fmt::format_to(fmt::appender(out_), FMT_COMPILE(" | {} | "), format_offset(row.offset));
    put_cell(out_, display_name(e.author));
    // Plain notes leave the kind empty so typed events and milestones stand out.
    fmt::format_to(fmt::appender(out_), FMT_COMPILE(" | {} | "),
                   e.kind == EventKind::kNote ? std::string_view{} : to_string(e.kind));
    put_cell(out_, e.text);
    put_links(e.links);
    put(out_, " |\n");
  }

  void put_links(const std::vector<EventLink>& links) { markdown::put_links(out_, links); }

  void causes() {
    heading("##", "Root cause and contributing factors");
    if (d_.sections.cause.empty()) {
      placeholder("incident cause <text>");
    } else {
      bullets(d_.sections.cause);
    }
    heading("###", "Five whys");
    if (d_.sections.why.empty()) return placeholder("incident why <text>");
    int number = 0;
    const std::size_t start = out_.size();
    for (const auto& n : d_.sections.why) {
      if (!room(start, list_budget())) break;
      const std::string item = fmt::format("{}. ", ++number);
      put(out_, item);
      // Notes usually give the answer; the question is implied unless the author wrote it.
      const std::string_view text = n.text;
      const bool asks = text.size() >= 3 && (text[0] == 'W' || text[0] == 'w') &&
                        (text[1] == 'H' || text[1] == 'h') && (text[2] == 'Y' || text[2] == 'y');
      if (!asks) put(out_, "Why? ");
      put_block(out_, text, item.size());
      out_.push_back('\n');
    }
    left_out(static_cast<std::size_t>(number), d_.sections.why.size());
  }

  void note_list(std::string_view title, const std::vector<Note>& notes, std::string_view command) {
    heading("##", title);
    if (notes.empty()) return placeholder(command);
    bullets(notes);
  }

  void note_list_if_any(std::string_view title, const std::vector<Note>& notes) {
    if (notes.empty()) return;
    heading("##", title);
    bullets(notes);
  }

  void actions() {
    heading("##", "Action items");
    if (d_.actions.empty()) {
      fmt::format_to(fmt::appender(out_),
                     "*Missing — add with `{}action <text> @owner due YYYY-MM-DD #prevent`.*\n",
                     prefix_);
    } else {
      table_of_actions();
    }
    // The audit trail stands on its own: an item's history is shown even if the item is not.
    action_history();
  }

  void table_of_actions() {
    put(out_,
        "| # | Action | Owner | Due | Kind | Status |\n"
        "|---:|---|---|---|---|---|\n");
    const std::size_t start = out_.size();
    std::size_t shown = 0;
    for (const ActionItem& a : d_.actions) {
      if (!room(start, max_bytes_ / 4)) break;
      ++shown;
      fmt::format_to(fmt::appender(out_), "| {} | ", a.seq);
      put_cell(out_, a.text);
      put(out_, " | ");
      if (a.owner) {
        put_cell(out_, display_name(*a.owner));
      } else {
        put(out_, "**unassigned**");
      }
      put(out_, " | ");
      if (a.due && !a.due->empty()) {
        put_cell(out_, *a.due);
      } else {
        put(out_, "**no due date**");
      }
      fmt::format_to(fmt::appender(out_), " | {} | ",
                     a.kind == ActionKind::kNone ? std::string_view{"—"} : to_string(a.kind));
      if (a.status == ActionStatus::kDropped) {
        put(out_, "won't do: ");
        put_cell(out_, a.drop_reason.value_or("no reason given"));
      } else {
        put(out_, to_string(a.status));
      }
      if (a.tracker_key) {
        put(out_, " · ");
        put_cell(out_, *a.tracker_key);
        if (!a.tracker_url.empty()) {
          put(out_, " ");
          put_cell(out_, a.tracker_url);
        }
      }
      put(out_, " |\n");
    }
    if (mode_ == Mode::kShort && shown < d_.actions.size()) {
      fmt::format_to(fmt::appender(out_), "| … | *{} more action items not shown here* | | | | |\n",
                     d_.actions.size() - shown);
    }
  }

  // Earlier incidents with the same cause (recurrence.h), and their items still open.
  void related() {
    if (d_.related.empty()) return;
    heading("##", "Related incidents");
    const std::size_t start = out_.size();
    std::size_t shown = 0;
    for (const RelatedIncident& r : d_.related) {
      if (!room(start, list_budget())) break;
      ++shown;
      fmt::format_to(fmt::appender(out_), "- {} ", incident_ref(r.incident.id));
      put_cell(out_, r.incident.title);
      fmt::format_to(fmt::appender(out_), " ({}, {}) — ", to_string(r.incident.severity),
                     format_utc(r.incident.declared_at));
      std::vector<std::string> why = r.shared_tags;
      if (r.similarity) why.push_back(fmt::format("similar cause ({:.0f}%)", *r.similarity * 100));
      put_cell(out_, fmt::format("{}", fmt::join(why, ", ")));
      if (!r.services.empty()) {
        put(out_, "; ");
        put_cell(out_, fmt::format("{}", fmt::join(r.services, ", ")));
      }
      put(out_, "\n");
      for (const ActionItem& a : r.open_actions) {
        fmt::format_to(fmt::appender(out_), "  - still open: #{} ", a.seq);
        put_cell(out_, a.text);
        if (a.owner) {
          put(out_, " (");
          put_cell(out_, display_name(*a.owner));
          put(out_, ")");
        }
        if (a.due && !a.due->empty()) {
          put(out_, ", due ");
          put_cell(out_, *a.due);
        }
        put(out_, "\n");
      }
    }
    left_out(shown, d_.related.size());
    if (d_.related_total > d_.related.size()) {
      fmt::format_to(fmt::appender(out_), "- *…and {} earlier related incidents not listed*\n",
                     d_.related_total - d_.related.size());
    }
  }

  // The audit trail of the items: who changed what, when.
  void action_history() {
    if (d_.action_history.empty()) return;
    put(out_, "\nChanges to action items:\n\n");
    const std::size_t start = out_.size();
    std::size_t shown = 0;
    for (const ActionRevision& r : d_.action_history) {
      if (!room(start, list_budget())) break;
      ++shown;
      fmt::format_to(fmt::appender(out_), "- {} #{} {}: ", format_utc_datetime(r.changed_at), r.seq,
                     r.field);
      put_cell(out_, r.before.empty() ? std::string_view{"(none)"} : std::string_view{r.before});
      put(out_, " → ");
      put_cell(out_, r.after.empty() ? std::string_view{"(none)"} : std::string_view{r.after});
      put(out_, " (");
      put_cell(out_, display_name(r.changed_by));
      put(out_, ")\n");
    }
    left_out(shown, d_.action_history.size());
  }

  const Draft& d_;
  std::string_view prefix_;
  std::size_t max_bytes_ = 0;  // 0: the whole draft
  Mode mode_ = Mode::kWhole;
  bool overflow_ = false;
  std::size_t timeline_budget_ = 0;
  DraftClock clock_;
  Buffer out_;
};

}  // namespace

std::string render_markdown(const Draft& draft, std::string_view command_prefix,
                            std::size_t max_bytes) {
  if (max_bytes == 0) return render_default_markdown(draft, nullptr, command_prefix);
  return MarkdownWriter(draft, command_prefix, max_bytes).render();
}

std::string render_markdown_reference(const Draft& draft, std::string_view command_prefix) {
  return MarkdownWriter(draft, command_prefix, 0).render();
}

}  // namespace scribe
