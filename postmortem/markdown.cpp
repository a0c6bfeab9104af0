#include "postmortem/markdown.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <date/tz.h>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "postmortem/format.h"
#include "util/markdown_escape.h"
#include "util/text.h"

namespace scribe {
namespace {

using Buffer = fmt::memory_buffer;

void put(Buffer& out, std::string_view s) { out.append(s.data(), s.data() + s.size()); }

std::string_view display_name(const Person& p) {
  if (!p.name.empty()) return p.name;
  if (!p.id.empty()) return p.id;
  return "—";
}

std::string_view status_title(IncidentStatus s) {
  switch (s) {
    case IncidentStatus::kOpen:
      return "Open";
    case IncidentStatus::kMitigated:
      return "Mitigated";
    case IncidentStatus::kResolved:
      return "Resolved";
    case IncidentStatus::kClosed:
      return "Closed";
  }
  return to_string(s);
}

// For single-line places (title, facts list): line breaks become spaces.
void put_inline(Buffer& out, std::string_view raw, bool hashes = false) {
  with_display_text(raw, [&](std::string_view s) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\n' && s[i] != '\r') continue;
      append_markdown_escaped(out, s.substr(start, i - start), hashes);
      const bool crlf_tail = s[i] == '\n' && i > 0 && s[i - 1] == '\r';
      if (!crlf_tail) out.push_back(' ');
      start = i + 1;
    }
    append_markdown_escaped(out, s.substr(start), hashes);
  });
}

// For a table cell: a '|' would end the cell and a line break the row. GFM has no line
// break inside a cell short of raw HTML ("<br>"), which Slack shows as junk and the
// safe-mode HTML renderer drops, so each run of line breaks becomes a visible " ⏎ ".
void put_cell(Buffer& out, std::string_view raw) {
  with_display_text(raw, [&](std::string_view s) {
    // Line breaks at either end carry nothing worth showing.
    const std::size_t first = s.find_first_not_of("\r\n");
    if (first == std::string_view::npos) return;
    s = s.substr(first, s.find_last_not_of("\r\n") - first + 1);
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (c != '\n' && c != '\r') continue;
      append_markdown_escaped(out, s.substr(start, i - start), false);
      put(out, " ⏎ ");
      while (i + 1 < s.size() && (s[i + 1] == '\n' || s[i + 1] == '\r')) ++i;
      start = i + 1;
    }
    append_markdown_escaped(out, s.substr(start), false);
  });
}

// Multi-line text as a paragraph or list item body: continuation lines are indented by
// `indent` so they stay inside the item.
void put_block(Buffer& out, std::string_view raw, std::size_t indent) {
  with_display_text(raw, [&](std::string_view s) {
    bool first = true;
    for (;;) {
      const std::size_t nl = s.find_first_of("\r\n");
      const std::string_view line = s.substr(0, nl);
      if (!first) {
        out.push_back('\n');
        if (line.find_first_not_of(" \t") != std::string_view::npos) {
          for (std::size_t i = 0; i < indent; ++i) out.push_back(' ');
        }
      }
      append_markdown_line(out, line, /*code_spans=*/false);
      if (nl == std::string_view::npos) break;
      const bool crlf = s[nl] == '\r' && nl + 1 < s.size() && s[nl + 1] == '\n';
      s.remove_prefix(nl + (crlf ? 2 : 1));
      first = false;
    }
  });
}

class MarkdownWriter {
 public:
  MarkdownWriter(const Draft& draft, std::string_view prefix, std::size_t max_bytes)
      : d_(draft), prefix_(prefix), max_bytes_(max_bytes) {
    find_dates();
  }

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

  // Whether the times in the tables fall on more than one UTC date; if so they show it.
  void find_dates() {
    // Day numbers in 64 bits (date::days would wrap for absurd times) and a time on each.
    std::optional<std::int64_t> lo, hi;
    Timestamp lo_at{}, hi_at{};
    std::optional<Timestamp> earliest, latest;  // for the local dates
    auto see = [&](Timestamp t) {
      if (!earliest || t < *earliest) earliest = t;
      if (!latest || t > *latest) latest = t;
      const std::int64_t day = utc_day_number(t);
      if (!lo || day < *lo) lo = day, lo_at = t;
      if (!hi || day > *hi) hi = day, hi_at = t;
    };
    if (!d_.timeline.empty()) {  // sorted: the ends are enough
      see(d_.timeline.front().event.occurred_at);
      see(d_.timeline.back().event.occurred_at);
    }
    for (const auto& k : d_.durations) {
      if (k.from.at) see(*k.from.at);
      if (k.to.at) see(*k.to.at);
    }
    first_date_ = lo ? lo_at : d_.incident.declared_at;
    last_date_ = hi ? hi_at : first_date_;
    with_dates_ = utc_day_number(first_date_) != utc_day_number(last_date_);
    if (d_.zone != nullptr) {
      const std::string a = format_local_datetime(earliest.value_or(first_date_), d_.zone);
      const std::string b = format_local_datetime(latest.value_or(last_date_), d_.zone);
      local_dates_ = with_dates_ || a.substr(0, 10) != b.substr(0, 10);
    }
  }

  void clock(Timestamp t) {
    const UtcFields f = utc_fields(t);
    if (with_dates_ && (f.year < 0 || f.year > 9999)) {
      fmt::format_to(fmt::appender(out_), "{} ", format_utc_date(t));
    } else if (with_dates_) {
      fmt::format_to(fmt::appender(out_), FMT_COMPILE("{:04}-{:02}-{:02} "), f.year, f.month,
                     f.day);
    }
    fmt::format_to(fmt::appender(out_), FMT_COMPILE("{:02}:{:02}:{:02}"), f.hour, f.minute,
                   f.second);
    if (d_.zone != nullptr) {
      // The channel's local time beside it, with its abbreviation (CEST, then CET after the
      // clocks go back), so each row says which offset it had.
      const std::string local = format_local_datetime(t, d_.zone);
      if (!local.empty()) {
        fmt::format_to(fmt::appender(out_), " ({})",
                       local_dates_ ? std::string_view(local) : std::string_view(local).substr(11));
      }
    }
  }

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
    if (with_dates_) {
      fmt::format_to(fmt::appender(out_), "All times UTC, from {} to {}{}.\n\n",
                     format_utc_date(first_date_), format_utc_date(last_date_), local);
    } else {
      fmt::format_to(fmt::appender(out_), "All times UTC on {}{}.\n\n",
                     format_utc_date(first_date_), local);
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

  // The message an event came from and its files, as links after the text: "· [message](…)
  // · [📎 log.txt](…) · [🖼 graph.png](…)". Names are escaped like any typed text.
  void put_links(const std::vector<EventLink>& links) {
    for (const EventLink& l : links) {
      const std::string dest = markdown_link_destination(l.url);
      if (dest.empty()) continue;
      put(out_, " · [");
      switch (l.kind) {
        case EventLink::Kind::kMessage:  // a chat message, or an alert's page (titled)
          if (l.title.empty()) {
            put(out_, "message");
          } else {
            put_cell(out_, l.title);
          }
          break;
        case EventLink::Kind::kFile:
          put(out_, "📎 ");
          put_cell(out_, l.title.empty() ? std::string_view("file") : std::string_view(l.title));
          break;
        case EventLink::Kind::kImage:
          put(out_, "🖼 ");
          put_cell(out_, l.title.empty() ? std::string_view("image") : std::string_view(l.title));
          break;
      }
      fmt::format_to(fmt::appender(out_), "]({})", dest);
    }
  }

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
      return;
    }
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
    action_history();
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
  Buffer out_;
  bool with_dates_ = false;
  bool local_dates_ = false;  // local times show their date (the local dates differ)
  Timestamp first_date_{};    // a time on the first date shown
  Timestamp last_date_{};
};

}  // namespace

std::string render_markdown(const Draft& draft, std::string_view command_prefix,
                            std::size_t max_bytes) {
  return MarkdownWriter(draft, command_prefix, max_bytes).render();
}

}  // namespace scribe
