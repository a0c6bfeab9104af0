#include "bot/paging.h"

#include <charconv>
#include <string>

#include <fmt/format.h>
#include <boost/url/parse_query.hpp>

#include "storage/model.h"

namespace scribe {

Parsed<PageRequest> parse_page_request(std::string_view query) {
  using Result = Parsed<PageRequest>;
  PageRequest page;
  if (query.empty()) return Result::ok(page);
  auto params = boost::urls::parse_query(query);
  if (!params) return Result::failed("the query string is malformed");
  bool seen_limit = false;
  bool seen_after = false;
  for (const auto& p : *params) {
    if (p.key == "limit") {
      if (seen_limit) return Result::failed("'limit' is given twice");
      seen_limit = true;
      int v = 0;
      const auto [end, ec] = std::from_chars(p.value.data(), p.value.data() + p.value.size(), v);
      if (p.value.empty() || ec != std::errc() || end != p.value.data() + p.value.size() || v < 1 ||
          v > kMaxPageLimit) {
        return Result::failed(
            fmt::format("'limit' must be a whole number from 1 to {} (default {}), not '{}'",
                        kMaxPageLimit, kDefaultPageLimit, p.value));
      }
      page.limit = v;
    } else if (p.key == "after") {
      if (seen_after) return Result::failed("'after' is given twice");
      seen_after = true;
      const auto id = parse_incident_ref(p.value);
      if (!id) {
        return Result::failed(fmt::format(
            "'after' must be the cursor a previous page gave (an incident id such as 42), "
            "not '{}'",
            p.value));
      }
      page.after = *id;
    } else {
      return Result::failed(
          fmt::format("unknown parameter '{}': this list takes 'limit' and 'after'", p.key));
    }
  }
  return Result::ok(page);
}

}  // namespace scribe
