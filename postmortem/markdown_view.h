// The data the Markdown draft's template is rendered over: `md`, built straight from the
// Draft (no JSON on the way), every value already formatted and Markdown-escaped exactly
// as the draft shows it (times in UTC and the channel's zone, durations, "before
// declaration" milestones, event links, action items with their tracker keys, related
// incidents, the review). The default template (postmortem/templates/default.md.mustache)
// uses only these names, with triple braces, since they are Markdown already; custom
// templates (`draft.template`) get them too, beside the JSON draft's names (template.h).
// README, "Draft templates", lists them.
//
// Every list item has `first` (true for the first item), so a template can put line breaks
// between items: the template library keeps a line that holds only a section tag unless
// the section was entered, so the default template never ends a line with one.
//
// Pure functions of their arguments, callable from any thread.
#pragma once

#include <optional>
#include <string_view>

#include <fmt/format.h>
#include <kainjow/mustache.hpp>

#include "postmortem/draft.h"
#include "postmortem/markdown_parts.h"

namespace scribe {

struct PostmortemReview;

// The timeline rows' names, made one at a time: `md.timeline`'s items hold `first` and these.
// Not thread-safe (one per render).
class TimelineRows {
 public:
  static constexpr std::string_view kFields[] = {"seq", "time", "since", "author", "kind", "text"};

  explicit TimelineRows(const Draft& d);  // `d` outlives this

  // Row `row`'s `name` (one of kFields), valid until the next call; nullopt for other names.
  std::optional<std::string_view> field(std::size_t row, std::string_view name);

 private:
  const Draft& d_;
  markdown::DraftClock clock_;
  fmt::memory_buffer out_;
};

// `command_prefix` as in render_markdown; `review` may be null (no review section).
// `lazy_timeline`: `timeline` holds one stand-in (`true`) per row instead of the rows'
// names, for a renderer that asks TimelineRows for them (the default template: a 10,000-row
// timeline is most of a draft, and its 60,000 values would be made only to be copied into
// the output and freed).
kainjow::mustache::data markdown_view(const Draft& draft, const PostmortemReview* review,
                                      std::string_view command_prefix, bool lazy_timeline = false);

// The review's part of the view (`md.review`); defined with the review (review_report.cpp).
kainjow::mustache::data review_markdown_view(const PostmortemReview& review);

namespace view {
// Building blocks for the view: kainjow's set() and push_back() copy the value they are
// given, subtree and all; these place a cheap stand-in and move the value into it.
void add(kainjow::mustache::data& object, const std::string& key, kainjow::mustache::data&& v);
void add(kainjow::mustache::data& object, const std::string& key, std::string_view text);
void add(kainjow::mustache::data& object, const std::string& key, const std::string& text);
void add(kainjow::mustache::data& object, const std::string& key, const char* text);
void add(kainjow::mustache::data& object, const std::string& key, bool flag);
// A list of `n` items made by `make(i)`.
template <typename Make>
kainjow::mustache::data list(std::size_t n, Make&& make);
kainjow::mustache::data& slot(const kainjow::mustache::data* placed);
}  // namespace view

template <typename Make>
kainjow::mustache::data view::list(std::size_t n, Make&& make) {
  kainjow::mustache::data out{kainjow::mustache::data::type::list};
  // Sized once: the library's push_back copies, and a growing list would copy every item
  // (its move is not noexcept). The list is the data's own, handed out only as const.
  auto& items = const_cast<kainjow::mustache::list&>(out.list_value());
  items.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    kainjow::mustache::data item = make(i);
    add(item, "first", i == 0);
    items.push_back(std::move(item));
  }
  return out;
}

}  // namespace scribe
