#include "postmortem/markdown_parts.h"

#include <optional>
#include <string>

#include <date/tz.h>
#include <fmt/compile.h>

#include "postmortem/format.h"
#include "util/markdown_escape.h"
#include "util/text.h"

namespace scribe::markdown {

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

void put_inline(Buffer& out, std::string_view raw, bool hashes) {
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

void put_links(Buffer& out, const std::vector<EventLink>& links) {
  for (const EventLink& l : links) {
    const std::string dest = markdown_link_destination(l.url);
    if (dest.empty()) continue;
    put(out, " · [");
    switch (l.kind) {
      case EventLink::Kind::kMessage:  // a chat message, or an alert's page (titled)
        if (l.title.empty()) {
          put(out, "message");
        } else {
          put_cell(out, l.title);
        }
        break;
      case EventLink::Kind::kFile:
        put(out, "📎 ");
        put_cell(out, l.title.empty() ? std::string_view("file") : std::string_view(l.title));
        break;
      case EventLink::Kind::kImage:
        put(out, "🖼 ");
        put_cell(out, l.title.empty() ? std::string_view("image") : std::string_view(l.title));
        break;
    }
    fmt::format_to(fmt::appender(out), "]({})", dest);
  }
}

DraftClock::DraftClock(const Draft& d) : zone_(d.zone) {
  // Whether the times in the tables fall on more than one UTC date; if so they show it.
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
  if (!d.timeline.empty()) {  // sorted: the ends are enough
    see(d.timeline.front().event.occurred_at);
    see(d.timeline.back().event.occurred_at);
  }
  for (const auto& k : d.durations) {
    if (k.from.at) see(*k.from.at);
    if (k.to.at) see(*k.to.at);
  }
  first_date_ = lo ? lo_at : d.incident.declared_at;
  last_date_ = hi ? hi_at : first_date_;
  with_dates_ = utc_day_number(first_date_) != utc_day_number(last_date_);
  if (zone_ != nullptr) {
    const std::string a = format_local_datetime(earliest.value_or(first_date_), zone_);
    const std::string b = format_local_datetime(latest.value_or(last_date_), zone_);
    local_dates_ = with_dates_ || a.substr(0, 10) != b.substr(0, 10);
  }
}

void DraftClock::put(Buffer& out, Timestamp t) const {
  const UtcFields f = utc_fields(t);
  if (with_dates_ && (f.year < 0 || f.year > 9999)) {
    fmt::format_to(fmt::appender(out), "{} ", format_utc_date(t));
  } else if (with_dates_) {
    fmt::format_to(fmt::appender(out), FMT_COMPILE("{:04}-{:02}-{:02} "), f.year, f.month, f.day);
  }
  fmt::format_to(fmt::appender(out), FMT_COMPILE("{:02}:{:02}:{:02}"), f.hour, f.minute, f.second);
  if (zone_ != nullptr) {
    // The channel's local time beside it, with its abbreviation (CEST, then CET after the
    // clocks go back), so each row says which offset it had.
    const std::string local = format_local_datetime(t, zone_);
    if (!local.empty()) {
      fmt::format_to(fmt::appender(out), " ({})",
                     local_dates_ ? std::string_view(local) : std::string_view(local).substr(11));
    }
  }
}

}  // namespace scribe::markdown
