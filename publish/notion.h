// Notion as a publishing destination: a page under a configured parent page whose
// blocks are made from the draft (headings, paragraphs, bulleted and numbered lists,
// quotes, dividers, and tables as Notion table blocks), one page per incident. An update
// renames the page and replaces its blocks: the old top-level blocks are deleted and the
// new ones appended, so a retry after any failure converges on the same page.
//
// Notion's limits are kept by construction: a rich-text object holds at most 2,000
// characters (counted in UTF-16 units, never splitting a character), an array at most
// 100 entries, a request at most 100 blocks and well under its 500 KB payload; a table's
// rows beyond the first 100 are appended to the table afterwards. Every call carries
// Notion-Version; 429 with Retry-After goes back to the outbox like any other service.
// The pieces are functions here so they can be tested on their own; the destination
// itself is NOT thread-safe (the outbox's sender thread only).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "publish/destinations.h"
#include "publish/settings.h"

namespace scribe::publish {

inline constexpr char kNotionVersion[] = "2022-06-28";
inline constexpr std::size_t kNotionTextUnits = 2000;        // per rich-text object
inline constexpr std::size_t kNotionArrayItems = 100;        // per array, blocks per request
inline constexpr std::size_t kNotionRequestBytes = 400'000;  // Notion refuses over 500 KB

// The blocks for a Markdown document (GitHub-flavoured, tables included), each table with
// all its rows as children; a text longer than the limits is split into several blocks
// of the same kind.
std::vector<nlohmann::json> notion_blocks(std::string_view markdown);

// The rich-text array for plain `text` (no markup), in objects of at most
// kNotionTextUnits UTF-16 units.
nlohmann::json notion_text(std::string_view text);

// One `PATCH /v1/blocks/{id}/children` request of top-level blocks, and the rows of its
// tables that did not fit: `more_rows[k]` are the row batches (each at most 100) to append
// to the table that is children[`table_index[k]`] once Notion has said its id.
struct NotionAppend {
  using Rows = std::vector<nlohmann::json>;
  nlohmann::json children = nlohmann::json::array();
  std::vector<std::size_t> table_index;
  std::vector<std::vector<Rows>> more_rows;
};
// `blocks` as requests within Notion's limits, in order.
std::vector<NotionAppend> plan_notion_appends(std::vector<nlohmann::json> blocks);

std::unique_ptr<Destination> make_notion(const Settings& settings);

}  // namespace scribe::publish
