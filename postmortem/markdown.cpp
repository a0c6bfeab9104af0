#include "postmortem/markdown.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "postmortem/format.h"

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
void put_inline(Buffer& out, std::string_view s) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\n' && s[i] != '\r') continue;
    put(out, s.substr(start, i - start));
    const bool crlf_tail = s[i] == '\n' && i > 0 && s[i - 1] == '\r';
    if (!crlf_tail) out.push_back(' ');
    start = i + 1;
  }
  put(out, s.substr(start));
}

// For a table cell: a '|' would end the cell and a line break the row. GFM has no line
// break inside a cell short of raw HTML ("<br>"), which Slack shows as junk and the
// safe-mode HTML renderer drops, so each run of line breaks becomes a visible " ⏎ ".
void put_cell(Buffer& out, std::string_view s) {
  // Line breaks at either end carry nothing worth showing.
  const std::size_t first = s.find_first_not_of("\r\n");
  if (first == std::string_view::npos) return;
  s = s.substr(first, s.find_last_not_of("\r\n") - first + 1);
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '|' && c != '\n' && c != '\r') continue;
    put(out, s.substr(start, i - start));
    if (c == '|') {
      put(out, "\\|");
    } else {
      put(out, " ⏎ ");
      while (i + 1 < s.size() && (s[i + 1] == '\n' || s[i + 1] == '\r')) ++i;
    }
    start = i + 1;
  }
  put(out, s.substr(start));
}

// Whether a line, placed at the start of a block, would open a structure of its own
// (heading, quote, list, rule, fence, table) instead of staying text.
bool opens_block(std::string_view line) {
  const char c = line[0];
  const char next = line.size() > 1 ? line[1] : ' ';
  const bool spaced = next == ' ' || next == '\t';
  switch (c) {
    case '#':
    case '>':
    case '|':
    case '=':
      return true;  // escaping these never changes how the text reads
    case '-':
    case '+':
    case '*':
    case '_':
      return spaced || next == c;  // a list marker or a rule; "*word*" stays emphasis
    case '`':
    case '~':
      return line.starts_with(c == '`' ? "```" : "~~~");
    default:
      break;
  }
  // "1. " or "2) ": an ordered list marker.
  const std::size_t digits = line.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos || digits > 9) return false;
  if (line[digits] != '.' && line[digits] != ')') return false;
  return digits + 1 == line.size() || line[digits + 1] == ' ' || line[digits + 1] == '\t';
}

void put_block_line(Buffer& out, std::string_view line) {
  // Leading blanks are dropped: four of them would turn the line into a code block.
  const std::size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos) return;
  line.remove_prefix(first);
  if (opens_block(line)) {
    const std::size_t digits = line.find_first_not_of("0123456789");
    if (digits != 0 && digits != std::string_view::npos) {
      put(out, line.substr(0, digits));  // "1. x" becomes "1\. x"
      line.remove_prefix(digits);
    }
    out.push_back('\\');
  }
  put(out, line);
}

// Multi-line text as a paragraph or list item body: continuation lines are indented by
// `indent` so they stay inside the item.
void put_block(Buffer& out, std::string_view s, std::size_t indent) {
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
    put_block_line(out, line);
    if (nl == std::string_view::npos) break;
    const bool crlf = s[nl] == '\r' && nl + 1 < s.size() && s[nl + 1] == '\n';
    s.remove_prefix(nl + (crlf ? 2 : 1));
    first = false;
  }
}

class MarkdownWriter {
 public:
  MarkdownWriter(const Draft& draft, std::string_view prefix) : d_(draft), prefix_(prefix) {
    out_.reserve(estimated_size());
    find_dates();
  }

  std::string render() {
    facts();
    summary();
    impact();
    key_durations();
    timeline();
    causes();
    note_list("What went well", d_.sections.went_well, "incident went-well <text>");
    note_list("What went wrong", d_.sections.went_wrong, "incident went-wrong <text>");
    note_list("Where we got lucky", d_.sections.lucky, "incident lucky <text>");
    note_list("Lessons learned", d_.sections.lessons, "incident lesson <text>");
    actions();
    fmt::format_to(fmt::appender(out_), "\n---\n\nDrafted by Scribe at {}. Times are UTC.\n",
                   format_utc(d_.generated_at));
    return fmt::to_string(out_);
  }

 private:
  std::size_t estimated_size() const {
    std::size_t n = 4096;
    for (const auto& row : d_.timeline) {
      n += row.event.text.size() + row.event.author.name.size() + 64;
    }
    for (const auto& a : d_.actions) n += a.text.size() + 96;
    const DraftSections& s = d_.sections;
    for (const auto* notes : {&s.summary, &s.impact, &s.cause, &s.why, &s.went_well, &s.went_wrong,
                              &s.lucky, &s.lessons}) {
      for (const auto& note : *notes) n += note.text.size() + 16;
    }
    return n;
  }

  // Whether the times in the tables fall on more than one UTC date; if so they show it.
  void find_dates() {
    // Day numbers in 64 bits (date::days would wrap for absurd times) and a time on each.
    std::optional<std::int64_t> lo, hi;
    Timestamp lo_at{}, hi_at{};
    auto see = [&](Timestamp t) {
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
  }

  void heading(std::string_view level, std::string_view text) {
    fmt::format_to(fmt::appender(out_), "\n{} {}\n\n", level, text);
  }

  // The line an empty section shows: what is missing and which command fills it.
  void placeholder(std::string_view command) {
    fmt::format_to(fmt::appender(out_), "*Missing — add with `{}{}`.*\n", prefix_, command);
  }

  void bullets(const std::vector<Note>& notes) {
    for (const auto& n : notes) {
      put(out_, "- ");
      put_block(out_, n.text, 2);
      out_.push_back('\n');
    }
  }

  void facts() {
    const Incident& inc = d_.incident;
    fmt::format_to(fmt::appender(out_), "# Postmortem: {}", d_.ref);
    if (!inc.title.empty()) {
      put(out_, " — ");
      put_inline(out_, inc.title);
    }
    put(out_, "\n\n");
    auto fact = [&](std::string_view label, std::string_view value) {
      fmt::format_to(fmt::appender(out_), "- **{}:** {}\n", label, value);
    };
    fact("Severity", to_string(inc.severity));
    fact("Status", status_title(inc.status));
    fact("Declared", format_utc(inc.declared_at));
    fact("Mitigated", inc.mitigated_at ? format_utc(*inc.mitigated_at) : "—");
    fact("Resolved", d_.ongoing ? "—" : format_utc(d_.ended_at));
    if (d_.ongoing) {
      fact("Duration so far", fmt::format("{} (first timeline event to this draft; not resolved)",
                                          format_duration(d_.duration)));
    } else {
      fact("Duration",
           fmt::format("{} (first timeline event to resolution)", format_duration(d_.duration)));
    }
    put(out_, "- **Commander:** ");
    put_inline(out_, display_name(inc.commander));
    put(out_, "\n- **Participants:** ");
    for (std::size_t i = 0; i < d_.participants.size(); ++i) {
      if (i > 0) put(out_, ", ");
      put_inline(out_, display_name(d_.participants[i]));
    }
    if (d_.participants.empty()) put(out_, "—");
    out_.push_back('\n');
  }

  void summary() {
    heading("##", "Summary");
    if (d_.sections.summary.empty()) return placeholder("incident summary <text>");
    for (std::size_t i = 0; i < d_.sections.summary.size(); ++i) {
      if (i > 0) out_.push_back('\n');
      put_block(out_, d_.sections.summary[i].text, 0);
      out_.push_back('\n');
    }
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
    for (const std::size_t i : d_.impact_events) {
      const TimelineEvent& e = d_.timeline[i].event;
      put(out_, "- ");
      clock(e.occurred_at);
      put(out_, " — ");
      put_block(out_, e.text, 2);
      out_.push_back('\n');
    }
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
    if (with_dates_) {
      fmt::format_to(fmt::appender(out_), "All times UTC, from {} to {}.\n\n",
                     format_utc_date(first_date_), format_utc_date(last_date_));
    } else {
      fmt::format_to(fmt::appender(out_), "All times UTC on {}.\n\n", format_utc_date(first_date_));
    }
    put(out_,
        "| # | Time (UTC) | Since start | Author | Kind | Event |\n"
        "|---:|---|---|---|---|---|\n");
    for (const TimelineRow& row : d_.timeline) {
      const TimelineEvent& e = row.event;
      fmt::format_to(fmt::appender(out_), FMT_COMPILE("| {} | "), e.seq);
      clock(e.occurred_at);
      fmt::format_to(fmt::appender(out_), FMT_COMPILE(" | {} | "), format_offset(row.offset));
      put_cell(out_, display_name(e.author));
      // Plain notes leave the kind empty so typed events and milestones stand out.
      fmt::format_to(fmt::appender(out_), FMT_COMPILE(" | {} | "),
                     e.kind == EventKind::kNote ? std::string_view{} : to_string(e.kind));
      put_cell(out_, e.text);
      put(out_, " |\n");
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
    for (const auto& n : d_.sections.why) {
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
  }

  void note_list(std::string_view title, const std::vector<Note>& notes, std::string_view command) {
    heading("##", title);
    if (notes.empty()) return placeholder(command);
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
    for (const ActionItem& a : d_.actions) {
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
      put(out_, " |\n");
    }
    action_history();
  }

  // The audit trail of the items: who changed what, when.
  void action_history() {
    if (d_.action_history.empty()) return;
    put(out_, "\nChanges to action items:\n\n");
    for (const ActionRevision& r : d_.action_history) {
      fmt::format_to(fmt::appender(out_), "- {} #{} {}: ", format_utc_datetime(r.changed_at), r.seq,
                     r.field);
      put_cell(out_, r.before.empty() ? std::string_view{"(none)"} : std::string_view{r.before});
      put(out_, " → ");
      put_cell(out_, r.after.empty() ? std::string_view{"(none)"} : std::string_view{r.after});
      put(out_, " (");
      put_cell(out_, display_name(r.changed_by));
      put(out_, ")\n");
    }
  }

  const Draft& d_;
  std::string_view prefix_;
  Buffer out_;
  bool with_dates_ = false;
  Timestamp first_date_{};  // a time on the first date shown
  Timestamp last_date_{};
};

}  // namespace

std::string render_markdown(const Draft& draft, std::string_view command_prefix) {
  return MarkdownWriter(draft, command_prefix).render();
}

}  // namespace scribe
