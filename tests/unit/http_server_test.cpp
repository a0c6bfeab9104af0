// The listener's connection cap derived from the file descriptor limit. Its behaviour under
// load (shedding, back-off, framing) is tested end to end in tests/e2e.
#include "bot/http_server.h"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace scribe {
namespace {

TEST(HttpServerDefaults, MaxConnectionsLeavesHeadroomBelowTheDescriptorLimit) {
  // The common soft limit: 128 descriptors stay for the database, outbound HTTP and logs.
  EXPECT_EQ(HttpServer::default_max_connections(1024), 896u);
  EXPECT_EQ(HttpServer::default_max_connections(4096), 4096u - 512u);
  // Small limits keep at least 64 spare, tiny ones half.
  EXPECT_EQ(HttpServer::default_max_connections(256), 192u);
  EXPECT_EQ(HttpServer::default_max_connections(128), 64u);
  EXPECT_EQ(HttpServer::default_max_connections(100), 50u);
  EXPECT_EQ(HttpServer::default_max_connections(1), 1u);
  EXPECT_EQ(HttpServer::default_max_connections(0), 1u);
  // Large limits are bounded so that idle connections cannot take unbounded memory.
  EXPECT_EQ(HttpServer::default_max_connections(1 << 20), HttpServer::kMaxDefaultConnections);
  EXPECT_EQ(HttpServer::default_max_connections(std::numeric_limits<std::uint64_t>::max()),
            HttpServer::kMaxDefaultConnections);
  for (std::uint64_t limit = 2; limit < 20000; limit += 37) {
    EXPECT_LT(HttpServer::default_max_connections(limit), limit) << limit;
  }
}

}  // namespace
}  // namespace scribe
