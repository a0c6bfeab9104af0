// Paging of the API's lists (`GET /api/incidents?limit=&after=`): a page holds at most
// `limit` items (default kDefaultPageLimit, at most kMaxPageLimit); `after` is the cursor
// the previous page returned, the id of its last item. Lists are in a fixed order of ids
// that never change, so a page is the same whenever it is read, and items added meanwhile
// never push one onto the next page twice. A bad value is refused (400), never guessed at.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "util/parsed.h"

namespace scribe {

inline constexpr int kDefaultPageLimit = 50;
inline constexpr int kMaxPageLimit = 500;

struct PageRequest {
  int limit = kDefaultPageLimit;
  std::optional<std::int64_t> after;  // the id of the previous page's last item
};

// Reads `limit` and `after` from a query string (what follows '?'). An unknown parameter,
// a repeated one, a limit outside 1..kMaxPageLimit, an `after` that is not an id (a
// positive whole number, or an incident ref like INC-7) or a malformed query is an error
// that says which and what is allowed.
Parsed<PageRequest> parse_page_request(std::string_view query);

}  // namespace scribe
