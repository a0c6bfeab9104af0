// End-to-end, over raw loopback sockets: request framing the listener refuses
// (Transfer-Encoding it cannot decode, RFC 9112 §6.1/§6.3), HEAD served as GET, requests
// arriving in pieces, 100 Continue, keep-alive, the size limits and the read timeout.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"
#include "support/raw_http.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using testing::kAlice;
using testing::RawConnection;
using testing::SlackClient;

class HttpFramingE2E : public testing::ScribeE2E {
 protected:
  // A complete, correctly signed slash command as it would travel on the wire.
  std::string signed_command_bytes(const std::string& text, const std::string& channel) {
    const std::string body = SlackClient::form_body("/incident", text, channel, kAlice);
    std::string request = "POST /slack/commands HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& h : slack_->signed_headers(body)) request += h + "\r\n";
    request += fmt::format("Content-Length: {}\r\n\r\n", body.size());
    return request + body;
  }
};

TEST_F(HttpFramingE2E, UnsupportedTransferEncodingIsRefusedAndItsBodyIsNeverARequest) {
  // The body of each outer request is a whole signed command: a server that ignored the
  // coding it does not know would run it as the next request on the connection.
  const std::string smuggled = signed_command_bytes("start Smuggled incident", "C0SMUGGLE");
  const std::string length = fmt::format("Content-Length: {}\r\n", smuggled.size());
  const std::vector<std::pair<std::string, std::string>> framings = {
      {"HTTP/1.1", "Transfer-Encoding: xchunked\r\n"},
      {"HTTP/1.1", "Transfer-Encoding: chunked, xchunked\r\n"},  // chunked not last
      {"HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n"},      // a coding not decoded here
      {"HTTP/1.1", "Transfer-Encoding: identity\r\n"},
      {"HTTP/1.1", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"},
      {"HTTP/1.1", "Transfer-Encoding: xchunked\r\n" + length},  // TE with Content-Length
      {"HTTP/1.1", length + "Transfer-Encoding: chunked\r\n"},
      {"HTTP/1.1", "Transfer-Encoding: chunked\r\n" + length},
      {"HTTP/1.0", "Transfer-Encoding: chunked\r\n"},  // no transfer codings in HTTP/1.0
  };
  for (const auto& [version, framing] : framings) {
    SCOPED_TRACE(version + " " + framing);
    RawConnection conn(scribe_->port());
    conn.send("POST /slack/commands " + version + "\r\nHost: 127.0.0.1\r\n" + framing + "\r\n" +
              smuggled);
    const auto response = conn.read_response();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 400);
    EXPECT_EQ(response->header("connection"), "close");
    // Nothing else is answered on this connection: it closes.
    EXPECT_TRUE(conn.closed_by_peer());
    EXPECT_FALSE(conn.read_response(false, std::chrono::milliseconds(0)).has_value());
  }
  EXPECT_EQ(incident_count(), 0u);

  // The smuggled bytes were a valid command: sent as a request of their own, they run.
  RawConnection conn(scribe_->port());
  conn.send(smuggled);
  const auto response = conn.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_THAT(response->body, HasSubstr("INC-1"));
  EXPECT_EQ(incident_count(), 1u);
}

TEST_F(HttpFramingE2E, ChunkedBodiesAreStillRead) {
  const std::string body =
      SlackClient::form_body("/incident", "start Chunked incident", "C0CHUNK", kAlice);
  std::string request = "POST /slack/commands HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& h : slack_->signed_headers(body)) request += h + "\r\n";
  request += "Transfer-Encoding: chunked\r\n\r\n";
  const std::size_t half = body.size() / 2;
  request += fmt::format("{:x}\r\n{}\r\n", half, body.substr(0, half));
  request += fmt::format("{:x}\r\n{}\r\n0\r\n\r\n", body.size() - half, body.substr(half));

  RawConnection conn(scribe_->port());
  conn.send(request + "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto command = conn.read_response();
  ASSERT_TRUE(command.has_value());
  EXPECT_EQ(command->status, 200) << command->body;
  EXPECT_THAT(command->body, HasSubstr("INC-1"));
  // The connection stays at a request boundary: the pipelined request is answered.
  const auto health = conn.read_response();
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
}

TEST_F(HttpFramingE2E, HeadAnswersLikeGetWithoutTheBody) {
  slack_->command("/incident", "start Something to list", "C0HEAD", kAlice);
  const std::string auth = fmt::format("Authorization: Bearer {}\r\n", kToken);
  const std::vector<std::pair<std::string, std::string>> targets = {
      {"/healthz", ""},
      {"/metrics", ""},
      {"/api/incidents", auth},
      {"/api/incidents/1", auth},
      {"/api/incidents/1/postmortem.md", auth},
      {"/api/incidents", ""},  // refused: HEAD is refused the same way
      {"/nowhere", ""},
  };
  for (const auto& [target, extra] : targets) {
    SCOPED_TRACE(target + (extra.empty() ? "" : " (authorised)"));
    RawConnection conn(scribe_->port());
    // Both on one connection: if HEAD's answer carried a body, the GET's answer would not
    // start where it should.
    conn.send("HEAD " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n" + "GET " +
              target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n");
    const auto head = conn.read_response(/*head=*/true);
    const auto get = conn.read_response();
    ASSERT_TRUE(head.has_value());
    ASSERT_TRUE(get.has_value());
    EXPECT_EQ(head->status, get->status);
    EXPECT_EQ(head->header("content-type"), get->header("content-type"));
    if (target != "/metrics") {  // the request counts in /metrics move between the two
      EXPECT_EQ(head->header("content-length"), std::to_string(get->body.size()));
    }
    EXPECT_FALSE(head->header("content-length").empty());
    // Nothing followed the GET's answer either: the connection is quiet and open.
    EXPECT_TRUE(conn.open_and_quiet());
  }
}

TEST_F(HttpFramingE2E, MethodNotAllowedNamesHeadWhereGetIsAllowed) {
  RawConnection conn(scribe_->port());
  conn.send("HEAD /slack/commands HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto head = conn.read_response(/*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 405);
  EXPECT_EQ(head->header("allow"), "POST");

  conn.send("POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
  const auto post = conn.read_response();
  ASSERT_TRUE(post.has_value());
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->header("allow"), "GET, HEAD");
}

// The listener parses what it has buffered and reads only when the parser needs more: a
// request that arrives in pieces (inside the request line, the headers and the body) is
// answered once whole and not before, and the connection stays usable.
TEST_F(HttpFramingE2E, ARequestArrivingInPiecesIsAnsweredOnceWhole) {
  const std::string request = signed_command_bytes("start Piecemeal incident", "C0PIECES");
  const std::size_t header_end = request.find("\r\n\r\n") + 4;
  const std::vector<std::size_t> cuts = {3, 20, header_end - 1, header_end + 5, request.size()};
  RawConnection conn(scribe_->port());
  std::size_t sent = 0;
  for (const std::size_t cut : cuts) {
    conn.send(std::string_view(request).substr(sent, cut - sent));
    sent = cut;
    if (sent < request.size()) {
      EXPECT_TRUE(conn.silent_for(std::chrono::milliseconds(50)));
    }
  }
  const auto response = conn.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_THAT(response->body, HasSubstr("INC-1"));
  EXPECT_EQ(response->header("content-type"), "application/json");
  EXPECT_EQ(response->header("server"), "scribe");
  EXPECT_EQ(response->header("connection"), "");  // HTTP/1.1: keep-alive by default
  EXPECT_TRUE(conn.open_and_quiet());

  conn.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto health = conn.read_response();
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
}

TEST_F(HttpFramingE2E, ExpectContinueGetsAHundredBeforeTheBodyIsSent) {
  const std::string request = signed_command_bytes("start Continued incident", "C0CONT");
  const std::size_t header_end = request.find("\r\n\r\n");
  RawConnection conn(scribe_->port());
  conn.send(request.substr(0, header_end) + "\r\nExpect: 100-continue\r\n\r\n");
  const auto interim = conn.read_response();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  conn.send(request.substr(header_end + 4));
  const auto response = conn.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_THAT(response->body, HasSubstr("INC-1"));
}

TEST_F(HttpFramingE2E, KeepAliveFollowsTheRequestsVersionAndConnectionHeader) {
  {
    RawConnection conn(scribe_->port());
    conn.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const auto response = conn.read_response();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->header("connection"), "keep-alive");
    EXPECT_TRUE(conn.open_and_quiet());
  }
  {
    RawConnection conn(scribe_->port());
    conn.send("GET /healthz HTTP/1.0\r\n\r\n");
    const auto response = conn.read_response();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->header("connection"), "");
    EXPECT_TRUE(conn.closed_by_peer());
  }
  {
    RawConnection conn(scribe_->port());
    conn.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    const auto response = conn.read_response();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->header("connection"), "close");
    EXPECT_TRUE(conn.closed_by_peer());
  }
}

TEST_F(HttpFramingE2E, OversizeAndMalformedRequestsAreRefusedAndTheConnectionCloses) {
  struct Case {
    std::string name;
    std::string bytes;
    int status;
    std::string text;
  };
  const std::vector<Case> cases = {
      {"body over the limit (declared)",
       "POST /slack/commands HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 70000\r\n\r\nx", 413,
       "request body too large\n"},
      {"body over the limit (chunked)",
       // The chunk's declared size is enough: its bytes need not follow.
       "POST /slack/commands HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
           fmt::format("{:x}\r\naaaa", 70000),
       413, "request body too large\n"},
      {"headers over the limit",
       "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(20000, 'p') +
           "\r\n\r\n",
       431, "headers too large\n"},
      {"not HTTP", "GARBAGE\r\n\r\n", 400, "malformed HTTP request\n"},
      {"a bad header line", "GET /healthz HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n", 400,
       "malformed HTTP request\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawConnection conn(scribe_->port());
    conn.send(c.bytes);
    const auto response = conn.read_response();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, c.status);
    EXPECT_EQ(response->body, c.text);
    EXPECT_EQ(response->header("connection"), "close");
    EXPECT_TRUE(conn.closed_by_peer());
  }
  EXPECT_EQ(incident_count(), 0u);
}

TEST_F(HttpFramingE2E, ARequestThatStopsHalfwayIsClosedAfterTheReadTimeout) {
  start({{"SCRIBE_READ_TIMEOUT_SECONDS", "1"}});
  const std::string request = signed_command_bytes("start Never finished", "C0HALF");
  RawConnection conn(scribe_->port());
  const auto sent_at = std::chrono::steady_clock::now();
  conn.send(request.substr(0, request.size() - 5));  // the body's last bytes never come
  EXPECT_TRUE(conn.closed_by_peer(std::chrono::milliseconds(8000)));
  // Not answered (there is nobody left to read it) and not before the timeout.
  EXPECT_GE(std::chrono::steady_clock::now() - sent_at, std::chrono::milliseconds(900));
  EXPECT_FALSE(conn.read_response(false, std::chrono::milliseconds(0)).has_value());
  EXPECT_EQ(incident_count(), 0u);
}

}  // namespace
}  // namespace scribe
