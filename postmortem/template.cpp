#include "postmortem/template.h"

#include <array>
#include <charconv>
#include <cstddef>
#include <fstream>
#include <functional>
#include <sstream>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <kainjow/mustache.hpp>

#include "postmortem/markdown_view.h"
#include "util/markdown_escape.h"
#include "util/text.h"

namespace scribe {
namespace {

namespace mus = kainjow::mustache;
using Json = nlohmann::ordered_json;

// kainjow reports "… at <byte offset>"; people look for a line and a column.
std::string with_line(const std::string& text, const std::string& message) {
  const std::size_t at = message.rfind(" at ");
  if (at == std::string::npos) return message;
  std::size_t offset = 0;
  const char* first = message.data() + at + 4;
  const char* last = message.data() + message.size();
  const auto [end, ec] = std::from_chars(first, last, offset);
  if (ec != std::errc() || end != last || offset > text.size()) return message;
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("line {}, column {}: {}", line, column, message.substr(0, at));
}

using view::slot;

mus::data to_data(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      mus::data out{mus::data::type::object};
      for (const auto& [key, value] : j.items()) {
        out.set(key, mus::data{false});
        slot(out.get(key)) = to_data(value);
      }
      return out;
    }
    case Json::value_t::array: {
      mus::data out{mus::data::type::list};
      for (std::size_t i = 0; i < j.size(); ++i) out.push_back(mus::data{false});
      std::size_t i = 0;
      for (const auto& value : j) slot(&out.list_value()[i++]) = to_data(value);
      return out;
    }
    case Json::value_t::string:
      return mus::data{j.get_ref<const std::string&>()};
    case Json::value_t::boolean:
      return mus::data{j.get<bool>()};
    case Json::value_t::null:
    case Json::value_t::discarded:
      return mus::data{false};
    default:  // numbers
      return mus::data{j.dump()};
  }
}

std::string render_text(const std::string& text, const mus::data& data) {
  mus::mustache tmpl{text};
  if (!tmpl.is_valid()) throw TemplateError(with_line(text, tmpl.error_message()));
  tmpl.set_custom_escape([](const std::string& s) { return escape_template_value(s); });
  std::string out = tmpl.render(data);
  if (!tmpl.is_valid()) throw TemplateError(with_line(text, tmpl.error_message()));
  return out;
}

// A draft with every list non-empty, so each section of the template is rendered once
// at start-up.
Json sample_draft() {
  const Json person = {{"id", "U1"}, {"name", "Sample"}};
  const Json note = {
      {"text", "text"}, {"author", person}, {"created_at", "2026-01-01T00:00:00.000Z"}};
  const Json moment = {{"name", "impact began"},
                       {"at", "2026-01-01T00:00:00.000Z"},
                       {"fallback", nullptr},
                       {"missing", nullptr}};
  Json sections = Json::object();
  for (const char* s : {"summary", "impact", "cause", "why", "went_well", "went_wrong", "lucky",
                        "lessons", "trigger", "detection", "resolution", "links"}) {
    sections[s] = Json::array({note});
  }
  return Json{
      {"incident",
       {{"id", 1},
        {"ref", "INC-1"},
        {"title", "t"},
        {"severity", "sev2"},
        {"status", "resolved"},
        {"commander", person}}},
      {"participants", Json::array({person})},
      {"customer_impact", {{"from", moment}, {"to", moment}, {"seconds", 1}, {"display", "1s"}}},
      {"sections", sections},
      {"durations", Json::array({{{"id", "time_to_detect"}, {"from", moment}, {"to", moment}}})},
      {"timeline",
       Json::array({{{"seq", 1}, {"author", person}, {"kind", "note"}, {"text", "t"}}})},
      {"actions", Json::array({{{"seq", 1}, {"text", "t"}, {"owner", person}}})},
      {"review",
       {{"status", "draft"},
        {"owner", person},
        {"approvals", Json::array({{{"by", person}}})},
        {"findings", Json::array({{{"rule", "vague"}, {"message", "m"}}})}}},
  };
}

}  // namespace

std::string escape_template_value(std::string_view text) {
  fmt::memory_buffer out;
  with_display_text(text, [&](std::string_view s) {
    bool first = true;
    for (;;) {
      const std::size_t nl = s.find_first_of("\r\n");
      const std::string_view line = s.substr(0, nl);
      if (!line.empty() && line.find_first_not_of(" \t") != std::string_view::npos) {
        if (!first) {
          static constexpr std::string_view kBreak = " ⏎ ";
          out.append(kBreak.data(), kBreak.data() + kBreak.size());
        }
        // Each line as a line of its own: a "# " or "- " or "1. " at its start is escaped
        // too, since the template may have put the value at the start of a line.
        append_markdown_line(out, line, /*code_spans=*/false);
        first = false;
      }
      if (nl == std::string_view::npos) break;
      s.remove_prefix(nl + 1);
    }
  });
  return fmt::to_string(out);
}

DraftTemplate::DraftTemplate(std::string text) : text_(std::move(text)) {
  // Both the syntax and a rendering: a partial or a lambda-only construct fails only then.
  Json sample = sample_draft();
  sample["command_prefix"] = "/";
  (void)render_text(text_, to_data(sample));
}

std::string DraftTemplate::render(const Json& draft, std::string_view command_prefix,
                                  const Draft* source, const PostmortemReview* review) const {
  try {
    mus::data data = to_data(draft);
    data.set("command_prefix", mus::data{std::string(command_prefix)});
    // Only for a template that can name them: building them is most of a render's cost.
    if (source != nullptr && text_.find("md") != std::string::npos) {
      view::add(data, "md", markdown_view(*source, review, command_prefix));
    }
    return render_text(text_, data);
  } catch (const TemplateError&) {
    throw;
  } catch (const std::exception& e) {
    // Rendering runs inside request handlers: whatever the library or the allocator
    // throws becomes the one error callers handle (they fall back to the built-in draft).
    throw TemplateError(fmt::format("rendering failed: {}", e.what()));
  }
}

namespace {

// About the size of the draft's Markdown, so the output grows without copies.
std::size_t expected_markdown_size(const Draft& d) {
  std::size_t n = 8192;
  for (const auto& row : d.timeline) {
    n += row.event.text.size() + row.event.author.name.size() + 64;
  }
  for (const auto& a : d.actions) n += a.text.size() + 96;
  for (const auto& r : d.action_history) n += r.before.size() + r.after.size() + 96;
  return n;
}

// What the default template's names resolve to: the view, as the library's own context
// does (innermost section first, dotted names walked from each), except that the timeline's
// stand-in rows answer from TimelineRows. A value made for a row lives in one of a few
// scratch slots until they come round again: the library copies a variable's text at once,
// and the default template opens no section on a row's text.
class DraftContext : public mus::basic_context<std::string> {
 public:
  DraftContext(const mus::data* root, const mus::data* rows, TimelineRows& lazy) : lazy_(lazy) {
    if (rows != nullptr && rows->is_non_empty_list()) {
      rows_begin_ = rows->list_value().data();
      rows_end_ = rows_begin_ + rows->list_value().size();
    }
    items_.push_back(root);
  }

  void push(const mus::data* data) override { items_.push_back(data); }
  void pop() override { items_.pop_back(); }

  const mus::data* get(const std::string& name) const override {
    if (name == ".") return items_.back();
    for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
      if (const mus::data* found = lookup(*it, name)) return found;
    }
    return nullptr;
  }

  const mus::data* get_partial(const std::string& name) const override {
    for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
      if (const mus::data* found = (*it)->get(name)) return found;
    }
    return nullptr;
  }

 private:
  const mus::data* lookup(const mus::data* item, const std::string& name) const {
    // std::less: a total order over pointers into different objects as well.
    const std::less<const mus::data*> before;
    if (!before(item, rows_begin_) && before(item, rows_end_)) {
      const auto row = static_cast<std::size_t>(item - rows_begin_);
      if (name == "first") return row == 0 ? &true_ : &false_;
      const std::optional<std::string_view> text = lazy_.field(row, name);
      if (!text) return nullptr;
      mus::data& slot = scratch_[next_++ % scratch_.size()];
      const_cast<std::string&>(slot.string_value()).assign(text->data(), text->size());
      return &slot;
    }
    if (name.find('.') == std::string::npos) return item->get(name);
    const mus::data* at = item;
    std::size_t start = 0;
    for (;;) {
      const std::size_t dot = name.find('.', start);
      at = lookup(at, name.substr(start, dot - start));
      if (at == nullptr || dot == std::string::npos) return at;
      start = dot + 1;
    }
  }

  TimelineRows& lazy_;
  const mus::data* rows_begin_ = nullptr;
  const mus::data* rows_end_ = nullptr;
  std::vector<const mus::data*> items_;  // innermost last
  const mus::data true_{true};
  const mus::data false_{false};
  mutable std::array<mus::data, 8> scratch_{
      mus::data{mus::data::type::string}, mus::data{mus::data::type::string},
      mus::data{mus::data::type::string}, mus::data{mus::data::type::string},
      mus::data{mus::data::type::string}, mus::data{mus::data::type::string},
      mus::data{mus::data::type::string}, mus::data{mus::data::type::string}};
  mutable std::size_t next_ = 0;
};

// Appends what the library renders; it writes to a stream with <<.
struct Appender {
  std::string& out;
  Appender& operator<<(const std::string& s) {
    out += s;
    return *this;
  }
};

// The default template, parsed once. Rendering it from several threads at once is safe:
// kainjow's render writes into the parsed form only for partials and lambdas (an error
// message, a parsed partial), and this template has neither.
class DefaultTemplate {
 public:
  DefaultTemplate() : tmpl_(std::string(default_draft_template_text())) {
    if (!tmpl_.is_valid()) {
      // The build's tests render it; a broken one never ships.
      throw std::logic_error(fmt::format(
          "default draft template: {}",
          with_line(std::string(default_draft_template_text()), tmpl_.error_message())));
    }
    // Its values are Markdown already (triple braces); a `{{name}}` added later is escaped
    // as in a user's template, never as HTML.
    tmpl_.set_custom_escape([](const std::string& s) { return escape_template_value(s); });
  }

  std::string render(const Draft& draft, const PostmortemReview* review,
                     std::string_view command_prefix) const {
    mus::data data;
    view::add(data, "md", markdown_view(draft, review, command_prefix, /*lazy_timeline=*/true));
    TimelineRows rows(draft);
    DraftContext ctx(&data, data.get("md")->get("timeline"), rows);
    std::string out;
    out.reserve(expected_markdown_size(draft));
    Appender sink{out};
    tmpl_.render(ctx, sink);
    if (!tmpl_.is_valid()) {
      throw std::logic_error("default draft template: " + tmpl_.error_message());
    }
    return out;
  }

 private:
  mutable mus::mustache tmpl_;  // see the class comment: render does not write into it
};

}  // namespace

std::string render_default_markdown(const Draft& draft, const PostmortemReview* review,
                                    std::string_view command_prefix) {
  static const DefaultTemplate tmpl;
  return tmpl.render(draft, review, command_prefix);
}

std::shared_ptr<const DraftTemplate> load_draft_template(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TemplateError(fmt::format("{}: cannot be read", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw TemplateError(fmt::format("{}: cannot be read", path));
  if (text.str().find_first_not_of(" \t\r\n") == std::string::npos) {
    throw TemplateError(fmt::format("{}: the template is empty", path));
  }
  try {
    return std::make_shared<const DraftTemplate>(text.str());
  } catch (const TemplateError& e) {
    throw TemplateError(fmt::format("{}: {}", path, e.what()));
  }
}

}  // namespace scribe
