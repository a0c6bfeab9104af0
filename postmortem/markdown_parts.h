// The pieces of the Markdown draft that both of its renderers write the same way: the
// default template's view (markdown_view.h) and the budgeted writer behind chat drafts
// (markdown.h). User text goes through display_text (util/text.h), then is escaped
// (util/markdown_escape.h) for the place it is put in. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "postmortem/draft.h"

namespace scribe::markdown {

using Buffer = fmt::memory_buffer;

inline void put(Buffer& out, std::string_view s) { out.append(s.data(), s.data() + s.size()); }

// The name shown for a person: the name, else the id, else "—".
std::string_view display_name(const Person& p);
// "Open", "Mitigated", "Resolved", "Closed".
std::string_view status_title(IncidentStatus s);

// For single-line places (title, facts list): line breaks become spaces. `hashes`: also
// escape '#' (inside a heading).
void put_inline(Buffer& out, std::string_view raw, bool hashes = false);
// For a table cell: '|' escaped, each run of line breaks a visible " ⏎ " (GFM has no line
// break inside a cell short of raw HTML, which Slack shows as junk and safe HTML drops).
void put_cell(Buffer& out, std::string_view raw);
// Multi-line text as a paragraph or list item body: continuation lines are indented by
// `indent` so they stay inside the item.
void put_block(Buffer& out, std::string_view raw, std::size_t indent);
// The message an event came from and its files, as links after its text: " · [message](…)
// · [📎 log.txt](…) · [🖼 graph.png](…)". Names are escaped like any typed text.
void put_links(Buffer& out, const std::vector<EventLink>& links);

// How a draft's tables show a time: "14:05:30", with the UTC date when the times span more
// than one UTC date, and the channel's local time in brackets when it has a zone.
class DraftClock {
 public:
  explicit DraftClock(const Draft& d);
  void put(Buffer& out, Timestamp t) const;

  bool with_dates() const { return with_dates_; }
  Timestamp first_date() const { return first_date_; }  // a time on the first date shown
  Timestamp last_date() const { return last_date_; }

 private:
  const date::time_zone* zone_ = nullptr;
  bool with_dates_ = false;
  bool local_dates_ = false;  // local times show their date (the local dates differ)
  Timestamp first_date_{};
  Timestamp last_date_{};
};

}  // namespace scribe::markdown
