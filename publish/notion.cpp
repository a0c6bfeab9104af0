#include "publish/notion.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>

#include <fmt/format.h>

#include "net/rest.h"
#include "util/json_fields.h"
#include "util/percent.h"

namespace scribe::publish {
namespace {

using nlohmann::json;

// Blocks whose text is over this many bytes are split, so that a request of a few of them
// stays far below Notion's payload limit.
constexpr std::size_t kBlockTextBytes = 60'000;
// Notion takes at most 1,000 block elements (top-level blocks and their rows) a request.
constexpr std::size_t kRequestElements = 1000;

CallResult unexpected(std::string_view what) {
  return {CallResult::Outcome::kRetry, fmt::format("unexpected answer from Notion: {}", what),
          std::nullopt};
}

// The length of the UTF-8 sequence that starts with `lead` (1 for a stray byte).
std::size_t sequence_length(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF7) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

struct Span {
  Span() = default;
  explicit Span(std::string t) : text(std::move(t)) {}
  std::string text;
  bool bold = false, italic = false, code = false;
  std::string link;
  bool same_style(const Span& o) const {
    return bold == o.bold && italic == o.italic && code == o.code && link == o.link;
  }
};

// Rich-text objects for `spans`, each at most kNotionTextUnits UTF-16 units.
std::vector<json> rich_text(const std::vector<Span>& spans) {
  std::vector<json> out;
  for (const Span& span : spans) {
    std::string_view rest(span.text);
    while (!rest.empty()) {
      std::size_t bytes = 0, units = 0;
      while (bytes < rest.size()) {
        const std::size_t n =
            std::min(sequence_length(static_cast<unsigned char>(rest[bytes])), rest.size() - bytes);
        const std::size_t u = n == 4 ? 2 : 1;  // beyond the BMP: a surrogate pair
        if (units + u > kNotionTextUnits) break;
        bytes += n;
        units += u;
      }
      json text = {{"content", std::string(rest.substr(0, bytes))}};
      if (!span.link.empty()) text["link"] = {{"url", span.link}};
      json object = {{"type", "text"}, {"text", std::move(text)}};
      if (span.bold || span.italic || span.code) {
        object["annotations"] = {{"bold", span.bold}, {"italic", span.italic}, {"code", span.code}};
      }
      out.push_back(std::move(object));
      rest.remove_prefix(bytes);
    }
  }
  return out;
}

json text_block(const std::string& type, json rich) {
  json content = {{"rich_text", std::move(rich)}};
  if (type == "code") content["language"] = "plain text";
  return {{"object", "block"}, {"type", type}, {type, std::move(content)}};
}

class Builder {
 public:
  std::vector<json> blocks;

  void document(cmark_node* root) {
    for (cmark_node* n = cmark_node_first_child(root); n; n = cmark_node_next(n)) block(n, 0);
  }

 private:
  void block(cmark_node* n, int depth) {
    const std::string kind = cmark_node_get_type_string(n);
    switch (cmark_node_get_type(n)) {
      case CMARK_NODE_HEADING: {
        const int level = std::clamp(cmark_node_get_heading_level(n), 1, 3);
        emit(fmt::format("heading_{}", level), inlines(n));
        return;
      }
      case CMARK_NODE_PARAGRAPH:
        emit("paragraph", inlines(n));
        return;
      case CMARK_NODE_BLOCK_QUOTE:
        emit("quote", text_of_blocks(n));
        return;
      case CMARK_NODE_CODE_BLOCK:
      case CMARK_NODE_HTML_BLOCK: {
        const char* literal = cmark_node_get_literal(n);
        std::string text = literal ? literal : "";
        while (!text.empty() && text.back() == '\n') text.pop_back();
        emit(cmark_node_get_type(n) == CMARK_NODE_CODE_BLOCK ? "code" : "paragraph", {Span{text}});
        return;
      }
      case CMARK_NODE_THEMATIC_BREAK:
        blocks.push_back({{"object", "block"}, {"type", "divider"}, {"divider", json::object()}});
        return;
      case CMARK_NODE_LIST:
        list(n, depth);
        return;
      default:
        break;
    }
    if (kind == "table") {
      table(n);
    } else {
      emit("paragraph", text_of_blocks(n));  // anything else, as its text
    }
  }

  // List items become list blocks in order. A nested list follows its item as items of
  // its own, marked by depth, since a request may nest blocks only two levels deep.
  void list(cmark_node* n, int depth) {
    const bool ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
    const std::string type = ordered ? "numbered_list_item" : "bulleted_list_item";
    for (cmark_node* item = cmark_node_first_child(n); item; item = cmark_node_next(item)) {
      std::vector<Span> spans;
      if (depth > 0)
        spans.push_back(Span{std::string(static_cast<std::size_t>(depth) * 2, ' ') + "◦ "});
      std::vector<cmark_node*> nested;
      for (cmark_node* c = cmark_node_first_child(item); c; c = cmark_node_next(c)) {
        if (cmark_node_get_type(c) == CMARK_NODE_LIST) {
          nested.push_back(c);
          continue;
        }
        if (spans.size() > (depth > 0 ? 1u : 0u)) spans.push_back(Span{"\n"});
        const auto more =
            cmark_node_get_type(c) == CMARK_NODE_PARAGRAPH ? inlines(c) : text_of_blocks(c);
        spans.insert(spans.end(), more.begin(), more.end());
      }
      emit(type, merge(std::move(spans)));
      for (cmark_node* sub : nested) list(sub, depth + 1);
    }
  }

  void table(cmark_node* n) {
    std::vector<json> rows;
    std::size_t width = 0;
    for (cmark_node* row = cmark_node_first_child(n); row; row = cmark_node_next(row)) {
      json cells = json::array();
      for (cmark_node* cell = cmark_node_first_child(row); cell; cell = cmark_node_next(cell)) {
        std::vector<json> rich = rich_text(inlines(cell));
        // A cell is one rich-text array: past 100 objects the rest is cut, and says so.
        if (rich.size() > kNotionArrayItems) {
          rich.resize(kNotionArrayItems - 1);
          rich.push_back(rich_text({Span{" …"}})[0]);
        }
        cells.push_back(std::move(rich));
      }
      if (rows.empty()) width = cells.size();
      rows.push_back(std::move(cells));
    }
    if (width == 0) return;
    json children = json::array();
    for (json& cells : rows) {
      while (cells.size() < width) cells.push_back(json::array());
      while (cells.size() > width) cells.erase(cells.end() - 1);
      children.push_back({{"object", "block"},
                          {"type", "table_row"},
                          {"table_row", {{"cells", std::move(cells)}}}});
    }
    blocks.push_back({{"object", "block"},
                      {"type", "table"},
                      {"table",
                       {{"table_width", width},
                        {"has_column_header", true},
                        {"has_row_header", false},
                        {"children", std::move(children)}}}});
  }

  // Blocks of `type` holding `spans`: several when they need more than 100 rich-text
  // objects or more than kBlockTextBytes.
  void emit(const std::string& type, const std::vector<Span>& spans) {
    const std::vector<json> rich = rich_text(spans);
    json current = json::array();
    std::size_t bytes = 0;
    for (const json& object : rich) {
      const std::size_t size = object["text"]["content"].get_ref<const std::string&>().size();
      if (!current.empty() &&
          (current.size() == kNotionArrayItems || bytes + size > kBlockTextBytes)) {
        blocks.push_back(text_block(type, std::move(current)));
        current = json::array();
        bytes = 0;
      }
      current.push_back(object);
      bytes += size;
    }
    blocks.push_back(text_block(type, std::move(current)));
  }

  static std::vector<Span> merge(std::vector<Span> spans) {
    std::vector<Span> out;
    for (Span& s : spans) {
      if (s.text.empty()) continue;
      if (!out.empty() && out.back().same_style(s)) {
        out.back().text += s.text;
      } else {
        out.push_back(std::move(s));
      }
    }
    return out;
  }

  static std::vector<Span> inlines(cmark_node* n) {
    std::vector<Span> spans;
    walk(n, Span{}, spans);
    return merge(std::move(spans));
  }

  static void walk(cmark_node* n, const Span& style, std::vector<Span>& out) {
    for (cmark_node* c = cmark_node_first_child(n); c; c = cmark_node_next(c)) {
      Span s = style;
      switch (cmark_node_get_type(c)) {
        case CMARK_NODE_TEXT:
        case CMARK_NODE_HTML_INLINE:
          s.text = cmark_node_get_literal(c) ? cmark_node_get_literal(c) : "";
          out.push_back(std::move(s));
          break;
        case CMARK_NODE_CODE:
          s.code = true;
          s.text = cmark_node_get_literal(c) ? cmark_node_get_literal(c) : "";
          out.push_back(std::move(s));
          break;
        case CMARK_NODE_SOFTBREAK:
          s.text = " ";
          out.push_back(std::move(s));
          break;
        case CMARK_NODE_LINEBREAK:
          s.text = "\n";
          out.push_back(std::move(s));
          break;
        case CMARK_NODE_EMPH:
          s.italic = true;
          walk(c, s, out);
          break;
        case CMARK_NODE_STRONG:
          s.bold = true;
          walk(c, s, out);
          break;
        case CMARK_NODE_LINK: {
          // Only web links: Notion refuses other schemes.
          const std::string url = cmark_node_get_url(c) ? cmark_node_get_url(c) : "";
          if (url.starts_with("https://") || url.starts_with("http://")) s.link = url;
          walk(c, s, out);
          break;
        }
        default:
          walk(c, s, out);
      }
    }
  }

  // The text of a container's blocks, paragraphs on their own lines.
  static std::vector<Span> text_of_blocks(cmark_node* n) {
    std::vector<Span> spans;
    for (cmark_node* c = cmark_node_first_child(n); c; c = cmark_node_next(c)) {
      if (!spans.empty()) spans.push_back(Span{"\n"});
      if (cmark_node_first_child(c) && cmark_node_get_type(c) != CMARK_NODE_CODE_BLOCK) {
        const auto more = cmark_node_get_type(c) == CMARK_NODE_PARAGRAPH ||
                                  cmark_node_get_type(c) == CMARK_NODE_HEADING
                              ? inlines(c)
                              : text_of_blocks(c);
        spans.insert(spans.end(), more.begin(), more.end());
      } else if (const char* literal = cmark_node_get_literal(c)) {
        spans.push_back(Span{literal});
      }
    }
    return merge(std::move(spans));
  }
};

std::size_t rows_of(const json& block) {
  if (block.value("type", "") != "table") return 0;
  return block["table"]["children"].size();
}

class Notion final : public Destination {
 public:
  explicit Notion(const Settings& s)
      : api_(trim_slash(s.notion_api_url) + "/v1"),
        parent_(s.notion_parent),
        rest_({"Authorization: Bearer " + s.notion_token,
               std::string("Notion-Version: ") + kNotionVersion}) {}

  std::string name() const override { return kNotion; }
  std::string display() const override { return "Notion"; }

  CallResult write(const Page& page, const std::optional<Publication>& previous,
                   Written& out) override {
    std::string id = previous ? previous->remote_id : std::string();
    CallResult r;
    if (id.empty()) {
      r = find_child_page(page.title, id);
      if (!r.ok()) return r;
    }
    const json title = {{"title", {{"title", notion_text(page.title)}}}};
    json answer;
    if (id.empty()) {
      const json body = {{"parent", {{"page_id", parent_}}}, {"properties", title}};
      r = rest_.call("POST", api_ + "/pages", &body, answer);
      if (!r.ok()) return r;
      id = string_at(answer, "id");
      if (id.empty()) return unexpected("a page without id");
    } else {
      // Renamed with the incident, and back from the trash if someone put it there.
      const json body = {{"properties", title}, {"archived", false}};
      r = rest_.call("PATCH", fmt::format("{}/pages/{}", api_, percent_encode(id)), &body, answer);
      if (!r.ok()) return r;
      r = clear(id);
      if (!r.ok()) return r;
    }
    out.remote_id = id;
    out.url = string_at(answer, "url");
    if (out.url.empty()) return unexpected("a page without url");
    for (NotionAppend& batch : plan_notion_appends(notion_blocks(page.markdown))) {
      json appended;
      r = append(id, std::move(batch.children), appended);
      if (!r.ok()) return r;
      const json* results = field_at(appended, "results");
      for (std::size_t k = 0; k < batch.table_index.size(); ++k) {
        if (!results || !results->is_array() || batch.table_index[k] >= results->size()) {
          return unexpected("an append without its blocks' ids");
        }
        const std::string table = string_at((*results)[batch.table_index[k]], "id");
        if (table.empty()) return unexpected("a table without id");
        for (std::vector<json>& rows : batch.more_rows[k]) {
          json ignored;
          r = append(table, json(std::move(rows)), ignored);
          if (!r.ok()) return r;
        }
      }
    }
    out.version = (previous ? previous->version : 0) + 1;
    return r;
  }

 private:
  CallResult append(const std::string& block, json children, json& answer) {
    const json body = {{"children", std::move(children)}};
    return rest_.call("PATCH", fmt::format("{}/blocks/{}/children", api_, percent_encode(block)),
                      &body, answer);
  }

  // Every child block of `block`, through Notion's pages of 100.
  CallResult children(const std::string& block, std::vector<json>& out) {
    std::string cursor;
    for (;;) {
      json answer;
      const CallResult r = rest_.call(
          "GET",
          fmt::format("{}/blocks/{}/children?page_size=100{}", api_, percent_encode(block),
                      cursor.empty() ? "" : "&start_cursor=" + percent_encode(cursor)),
          nullptr, answer);
      if (!r.ok()) return r;
      const json* results = field_at(answer, "results");
      if (!results || !results->is_array()) return unexpected("a list without results");
      for (const json& b : *results) out.push_back(b);
      const json* more = field_at(answer, "has_more");
      cursor = string_at(answer, "next_cursor");
      if (!more || !more->is_boolean() || !more->get<bool>() || cursor.empty()) return r;
    }
  }

  // A page of ours made before a crash lost our record: a child page of the parent with
  // this title.
  CallResult find_child_page(const std::string& title, std::string& id) {
    std::vector<json> blocks;
    const CallResult r = children(parent_, blocks);
    if (!r.ok()) return r;
    for (const json& b : blocks) {
      if (string_at(b, "type") == "child_page" && string_at(b, "child_page", "title") == title) {
        id = string_at(b, "id");
        return r;
      }
    }
    return r;
  }

  // Deletes (archives) the page's blocks; a retry after a failure here lists only those
  // still left.
  CallResult clear(const std::string& page) {
    std::vector<json> blocks;
    CallResult r = children(page, blocks);
    if (!r.ok()) return r;
    for (const json& b : blocks) {
      const std::string id = string_at(b, "id");
      if (id.empty()) return unexpected("a block without id");
      json ignored;
      r = rest_.call("DELETE", fmt::format("{}/blocks/{}", api_, percent_encode(id)), nullptr,
                     ignored);
      if (!r.ok() && rest_.last_status() != 404) return r;
      r = {};
    }
    return r;
  }

  std::string api_, parent_;
  JsonRest rest_;
};

}  // namespace

std::vector<json> notion_blocks(std::string_view markdown) {
  cmark_gfm_core_extensions_ensure_registered();
  std::unique_ptr<cmark_parser, decltype(&cmark_parser_free)> parser(
      cmark_parser_new(CMARK_OPT_DEFAULT), &cmark_parser_free);
  if (cmark_syntax_extension* ext = cmark_find_syntax_extension("table")) {
    cmark_parser_attach_syntax_extension(parser.get(), ext);
  }
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  std::unique_ptr<cmark_node, decltype(&cmark_node_free)> root(cmark_parser_finish(parser.get()),
                                                               &cmark_node_free);
  Builder builder;
  if (root) {
    cmark_consolidate_text_nodes(root.get());
    builder.document(root.get());
  }
  return std::move(builder.blocks);
}

json notion_text(std::string_view text) { return rich_text({Span{std::string(text)}}); }

std::vector<NotionAppend> plan_notion_appends(std::vector<json> blocks) {
  std::vector<NotionAppend> out(1);
  std::size_t bytes = 0, elements = 0;
  for (json& block : blocks) {
    std::vector<std::vector<json>> more;
    if (rows_of(block) > 0) {
      // The first rows go with the table; the rest in batches of at most 100 and of
      // a bounded size.
      json& rows = block["table"]["children"];
      std::vector<std::vector<json>> batches(1);
      std::size_t batch_bytes = 0;
      for (json& row : rows) {
        const std::size_t size = row.dump().size();
        // The batch that goes with the table leaves room for the blocks around it.
        const std::size_t limit =
            batches.size() == 1 ? kNotionRequestBytes / 2 : kNotionRequestBytes;
        if (!batches.back().empty() &&
            (batches.back().size() == kNotionArrayItems || batch_bytes + size > limit)) {
          batches.emplace_back();
          batch_bytes = 0;
        }
        batches.back().push_back(std::move(row));
        batch_bytes += size;
      }
      rows = json(std::move(batches.front()));
      more.assign(std::make_move_iterator(batches.begin() + 1),
                  std::make_move_iterator(batches.end()));
    }
    const std::size_t size = block.dump().size();
    const std::size_t count = 1 + rows_of(block);
    NotionAppend* batch = &out.back();
    if (!batch->children.empty() &&
        (batch->children.size() == kNotionArrayItems || bytes + size > kNotionRequestBytes ||
         elements + count > kRequestElements)) {
      out.emplace_back();
      batch = &out.back();
      bytes = elements = 0;
    }
    if (!more.empty()) {
      batch->table_index.push_back(batch->children.size());
      batch->more_rows.push_back(std::move(more));
    }
    batch->children.push_back(std::move(block));
    bytes += size;
    elements += count;
  }
  if (out.back().children.empty()) out.pop_back();
  return out;
}

std::unique_ptr<Destination> make_notion(const Settings& settings) {
  return std::make_unique<Notion>(settings);
}

}  // namespace scribe::publish
