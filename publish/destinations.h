// The places a postmortem is published, each one page per incident updated in place:
// Confluence (a page in a space, storage-format XHTML; Cloud REST v2 or Data Center REST),
// a git repository (a Markdown file committed through GitHub's contents API or GitLab's
// repository files API), Notion (publish/notion.h) and Google Docs (publish/google.h).
// Blocking calls over HttpClient; each destination owns one connection, so it is NOT
// thread-safe: the outbox's sender thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/rest.h"
#include "publish/settings.h"
#include "storage/model.h"

namespace scribe::publish {

// One incident's postmortem, ready to write.
struct Page {
  std::string key;        // "INC-7": the incident, as destinations that can tag pages keep it
  std::string title;      // "INC-7: Checkout errors — postmortem"
  std::string markdown;   // the reviewed draft
  std::string html;       // the same as an HTML fragment (well-formed: Confluence storage)
  std::string file_name;  // "2026-11-28-INC-7-checkout-errors.md" (git)
};

// Where a write left the page.
struct Written {
  std::string remote_id;  // Confluence or Notion page id, Google file id; the file's path
  std::string url;
  std::int64_t version = 0;
};

class Destination {
 public:
  virtual ~Destination() = default;
  virtual std::string name() const = 0;     // "confluence", "git", "notion", "gdocs"
  virtual std::string display() const = 0;  // "Confluence", "GitHub", "Notion", …
  // Creates the page, or updates `previous` in place. A page this destination made
  // earlier whose record was lost (a crash after the write) is found and updated, not
  // made again.
  virtual CallResult write(const Page& page, const std::optional<Publication>& previous,
                           Written& out) = 0;
};

// The configured destinations.
std::vector<std::unique_ptr<Destination>> make_destinations(const Settings& settings);

// "checkout-errors" from "Checkout errors!": lower-case ASCII letters and digits joined by
// '-', at most 60 bytes; "incident" when nothing is left.
std::string slug(std::string_view title);

// Confluence Data Center's content body (storage format) that creates the page (`version`
// 0, under `parent` when given) or updates it to `version`.
nlohmann::json datacenter_page_body(const Page& page, const std::string& space_key,
                                    const std::string& parent, std::int64_t version);

// `path` with each segment percent-encoded and the '/' between them kept.
std::string encode_path(std::string_view path);

}  // namespace scribe::publish
