// The listener's connection cap derived from the file descriptor limit, and the responder's
// answer-once rule. Its behaviour under load (shedding, back-off, framing) is tested end to
// end in tests/e2e.
#include "bot/http_server.h"

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

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

// The responder answers once: the first call is sent, later ones are ignored, and one that
// is dropped by every holder without a call answers 500 so the connection is not left
// waiting.
TEST(HttpResponder, SendsTheFirstAnswerOnlyAndAnswers500WhenDropped) {
  std::vector<HttpResponse> sent;
  {
    HttpResponder respond([&sent](HttpResponse r) { sent.push_back(std::move(r)); });
    const HttpResponder copy = respond;
    copy(HttpResponse{201, "text/plain", "first", {}});
    respond(HttpResponse{202, "text/plain", "second", {}});
  }
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].status, 201);
  EXPECT_EQ(sent[0].body, "first");

  sent.clear();
  {
    HttpResponder respond([&sent](HttpResponse r) { sent.push_back(std::move(r)); });
    const HttpResponder copy = respond;
  }
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].status, 500);
  EXPECT_EQ(sent[0].body, "internal error\n");
}

}  // namespace
}  // namespace scribe
