// The URL of another database on the same PostgreSQL server, for tests and benchmarks that
// make a fresh database per run.
#pragma once

#include <string>

namespace scribe::test {

// `url` with its database name replaced by `database` (query options kept).
inline std::string with_database(const std::string& url, const std::string& database) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const auto query = url.find('?');
  const std::string head = url.substr(0, slash == std::string::npos ? query : slash);
  const std::string tail = query == std::string::npos ? "" : url.substr(query);
  return head + "/" + database + tail;
}

}  // namespace scribe::test
