// HttpClient against small servers on 127.0.0.1 written here with plain sockets (and
// OpenSSL for TLS), so that what goes over the wire is seen exactly: connections accepted,
// request lines and headers received, responses cut short or never sent.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "net/http_client.h"
#include "net/rest.h"
#include "support/test_ca.h"
#include "util/strings.h"

namespace scribe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// One request as the server read it.
struct Seen {
  std::string line;                            // "GET /x HTTP/1.1"
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One accepted connection, served on a thread of its own. Reads give up when the server
// stops, so that no test can hang on a client that never sends.
class Conn {
 public:
  Conn(int fd, SSL* ssl, const std::atomic<bool>& stopping)
      : fd_(fd), ssl_(ssl), stopping_(stopping) {}
  ~Conn() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ::close(fd_);
  }

  // The next request, or nullopt when the peer closed (or the server stops).
  std::optional<Seen> read_request() {
    std::size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return std::nullopt;
    Seen seen;
    const std::string head = pending_.substr(0, end);
    pending_.erase(0, end + 4);
    std::size_t at = head.find("\r\n");
    seen.line = head.substr(0, at);
    while (at != std::string::npos) {
      const std::size_t next = head.find("\r\n", at + 2);
      const std::string field =
          head.substr(at + 2, next == std::string::npos ? next : next - at - 2);
      const auto colon = field.find(':');
      if (colon != std::string::npos) {
        std::string value = field.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        seen.headers[lower(field.substr(0, colon))] = value;
      }
      at = next;
    }
    const std::size_t length =
        seen.headers.count("content-length") != 0U ? std::stoul(seen.headers["content-length"]) : 0;
    while (pending_.size() < length)
      if (!fill()) return std::nullopt;
    seen.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return seen;
  }

  void write(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const int n = ssl_ != nullptr ? SSL_write(ssl_, bytes.data() + done,
                                                static_cast<int>(bytes.size() - done))
                                    : static_cast<int>(::send(fd_, bytes.data() + done,
                                                              bytes.size() - done, MSG_NOSIGNAL));
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }

  // Blocks until the peer closes or the server stops (a server that never answers).
  void hold() {
    while (fill()) {
    }
  }

  // Raw bytes in both directions between this connection and `other` until either closes
  // (a CONNECT tunnel). Plain sockets only.
  void relay(int other) {
    if (!pending_.empty()) ::send(other, pending_.data(), pending_.size(), MSG_NOSIGNAL);
    char buffer[16384];
    while (!stopping_) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {other, POLLIN, 0}};
      if (::poll(fds, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const ssize_t n = ::recv(fds[i].fd, buffer, sizeof buffer, 0);
        if (n <= 0) return;
        ::send(fds[1 - i].fd, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL);
      }
    }
  }

  // Closes the connection now (the peer reads the end of the stream).
  void close() { ::shutdown(fd_, SHUT_RDWR); }

  bool handshake() { return ssl_ == nullptr || SSL_accept(ssl_) == 1; }
  int fd() const { return fd_; }

 private:
  bool fill() {
    char buffer[16384];
    for (;;) {
      if (stopping_) return false;
      if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
      }
      const int n = ssl_ != nullptr ? SSL_read(ssl_, buffer, sizeof buffer)
                                    : static_cast<int>(::recv(fd_, buffer, sizeof buffer, 0));
      if (n <= 0) return false;
      pending_.append(buffer, static_cast<std::size_t>(n));
      return true;
    }
  }

  int fd_;
  SSL* ssl_;
  const std::atomic<bool>& stopping_;
  std::string pending_;
};

// A server on 127.0.0.1 and an ephemeral port; each connection runs `serve` on its own
// thread, given the server (to note what it saw). With a TLS context, connections are TLS
// (the handshake happens before `serve`).
class LocalServer {
 public:
  using Serve = std::function<void(LocalServer& self, Conn&, int number)>;

  explicit LocalServer(Serve serve, SSL_CTX* tls = nullptr) : serve_(std::move(serve)), tls_(tls) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0)
      throw std::runtime_error("cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~LocalServer() {
    stopping_ = true;
    acceptor_.join();
    for (auto& t : workers_) t.join();
    ::close(listen_fd_);
  }

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path, const char* scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  int accepted() const { return accepted_; }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  void note(const Seen& s) {
    std::lock_guard lock(mu_);
    seen_.push_back(s);
    changed_.notify_all();
  }
  // Waits until `n` requests were noted; false after 10 s.
  bool wait_seen(std::size_t n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 10s, [&] { return seen_.size() >= n; });
  }
  void mark_closed() {
    std::lock_guard lock(mu_);
    ++closed_;
    changed_.notify_all();
  }
  bool wait_closed(int n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 10s, [&] { return closed_ >= n; });
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      const int number = ++accepted_;
      workers_.emplace_back([this, fd, number] {
        SSL* ssl = nullptr;
        if (tls_ != nullptr) {
          ssl = SSL_new(tls_);
          SSL_set_fd(ssl, fd);
        }
        Conn conn(fd, ssl, stopping_);
        if (conn.handshake()) serve_(*this, conn, number);
      });
    }
  }

  Serve serve_;
  SSL_CTX* tls_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Seen> seen_;
  int closed_ = 0;
};

std::string ok(const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
         "\r\n" + body;
}

// Serves every request on the connection with 200 and "<n>:<target>" until the peer closes.
LocalServer::Serve echo() {
  return [](LocalServer& self, Conn& c, int number) {
    while (auto r = c.read_request()) {
      self.note(*r);
      const std::string target = r->line.substr(r->line.find(' ') + 1);
      c.write(ok(std::to_string(number) + ":" + target.substr(0, target.find(' ')),
                 "X-Served-By: Local\r\n"));
    }
  };
}

// Sets (or unsets, with nullptr) environment variables for one test, restored after.
class EnvGuard {
 public:
  void set(const char* name, const char* value) {
    if (saved_.count(name) == 0) {
      const char* old = std::getenv(name);
      saved_[name] = old != nullptr ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~EnvGuard() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

// No proxy from the machine's environment reaches these tests unless one sets it.
class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"})
      env.set(name, nullptr);
  }
  EnvGuard env;
};

std::string header(const HttpResult& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return {};
}

TEST_F(HttpClientTest, KeepAliveReusesOneConnectionAndSendsHeadersAsGiven) {
  LocalServer server(echo());
  HttpClient http;
  const HttpResult first =
      http.request("POST", server.url("/a?x=1&y=%20"),
                   {"Content-Type: application/json", "X-Token: abc"}, R"({"k":1})");
  const HttpResult second = http.request("GET", server.url("/b"));
  ASSERT_TRUE(first.error.empty()) << first.error;
  ASSERT_TRUE(second.error.empty()) << second.error;
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "1:/a?x=1&y=%20");
  EXPECT_EQ(second.body, "1:/b");  // the same connection
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(header(first, "x-served-by"), "Local");  // names lower-cased, values as sent

  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].line, "POST /a?x=1&y=%20 HTTP/1.1");
  EXPECT_EQ(seen[0].headers.at("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen[0].headers.at("content-type"), "application/json");
  EXPECT_EQ(seen[0].headers.at("x-token"), "abc");
  EXPECT_EQ(seen[0].headers.at("content-length"), "7");
  EXPECT_EQ(seen[0].body, R"({"k":1})");
  EXPECT_EQ(seen[1].line, "GET /b HTTP/1.1");
  EXPECT_EQ(seen[1].headers.count("content-length"), 0U);
}

TEST_F(HttpClientTest, ConnectionCloseIsHonouredEitherWay) {
  LocalServer server([&](LocalServer&, Conn& c, int number) {
    while (auto r = c.read_request()) {
      // The first connection's answer says close; later ones keep it open.
      c.write(ok("n" + std::to_string(number), number == 1 ? "Connection: close\r\n" : ""));
      if (number == 1) return;
    }
  });
  HttpClient http;
  EXPECT_EQ(http.request("GET", server.url("/1")).body, "n1");
  EXPECT_EQ(http.request("GET", server.url("/2")).body, "n2");  // a new connection
  // The caller's own Connection: close ends the connection after the response.
  EXPECT_EQ(http.request("GET", server.url("/3"), {"Connection: close"}).body, "n2");
  EXPECT_EQ(http.request("GET", server.url("/4")).body, "n3");
  EXPECT_EQ(server.accepted(), 3);
}

TEST_F(HttpClientTest, KeepAliveConnectionClosedByTheServerIsRetriedOnce) {
  LocalServer server([&](LocalServer& self, Conn& c, int number) {
    if (auto r = c.read_request()) {
      self.note(*r);
      c.write(ok("from " + std::to_string(number)));
    }
    c.close();
    self.mark_closed();  // keep-alive promised, then closed while idle
  });
  HttpClient http;
  EXPECT_EQ(http.request("GET", server.url("/1")).body, "from 1");
  ASSERT_TRUE(server.wait_closed(1));
  const HttpResult again = http.request("POST", server.url("/2"), {}, "payload");
  ASSERT_TRUE(again.error.empty()) << again.error;
  EXPECT_EQ(again.body, "from 2");
  EXPECT_EQ(server.accepted(), 2);
  ASSERT_TRUE(server.wait_seen(2));
  EXPECT_EQ(server.seen().size(), 2U);  // each request arrived once
}

TEST_F(HttpClientTest, RetryIsOnlyOnceAndOnlyOnAReusedConnection) {
  LocalServer server([&](LocalServer& self, Conn& c, int number) {
    if (number == 1) {
      if (auto r = c.read_request()) c.write(ok("first"));
    } else {
      c.read_request();  // then closes without answering
    }
    c.close();
    self.mark_closed();
  });
  HttpClient http;
  EXPECT_EQ(http.request("GET", server.url("/1")).body, "first");
  ASSERT_TRUE(server.wait_closed(1));
  const HttpResult failed = http.request("GET", server.url("/2"));
  EXPECT_TRUE(failed.transport_failed());
  EXPECT_FALSE(failed.error.empty());
  EXPECT_EQ(server.accepted(), 2);  // the reconnection, and no third attempt

  // A fresh connection closed before a response is not retried.
  const HttpResult fresh = http.request("GET", server.url("/3"));
  EXPECT_TRUE(fresh.transport_failed());
  EXPECT_EQ(server.accepted(), 3);
}

TEST_F(HttpClientTest, ChunkedBodyIsAssembled) {
  LocalServer server([](LocalServer&, Conn& c, int) {
    while (c.read_request())
      c.write(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nRetry-After: 7\r\n\r\n"
          "5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\n\r\n");
  });
  HttpClient http;
  const HttpResult r = http.request("GET", server.url("/c"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.body, "hello, world");
  EXPECT_EQ(r.retry_after().value_or(0s), 7s);
  EXPECT_EQ(http.request("GET", server.url("/c")).body, "hello, world");  // still in step
  EXPECT_EQ(server.accepted(), 1);
}

TEST_F(HttpClientTest, LargeBodyArrivesWhole) {
  // 24 MiB: three times Beast's default body limit.
  std::string big(24u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7919) % 26);
  LocalServer server([&](LocalServer&, Conn& c, int) {
    while (c.read_request()) c.write(ok(big));
  });
  HttpClient http(30s);
  const HttpResult r = http.request("GET", server.url("/big"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.body.size(), big.size());
  EXPECT_TRUE(r.body == big);
}

TEST_F(HttpClientTest, ServerThatNeverAnswersFailsWithinTheTimeout) {
  LocalServer server([&](LocalServer& self, Conn& c, int) {
    if (auto r = c.read_request()) self.note(*r);
    c.hold();
  });
  HttpClient http(700ms);
  const auto start = Clock::now();
  const HttpResult r = http.request("GET", server.url("/silent"));
  const auto took = Clock::now() - start;
  EXPECT_TRUE(r.transport_failed());
  EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;
  EXPECT_GE(took, 700ms);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(server.seen().size(), 1U);
}

TEST_F(HttpClientTest, ConnectTimeoutCoversTheTlsHandshake) {
  // TCP is accepted but no TLS byte ever comes back: the connection is not made.
  LocalServer server([](LocalServer&, Conn& c, int) { c.hold(); });
  HttpClient http(30s, 500ms);
  const auto start = Clock::now();
  const HttpResult r = http.request("GET", server.url("/", "https"));
  const auto took = Clock::now() - start;
  EXPECT_TRUE(r.transport_failed());
  EXPECT_NE(r.error.find("TLS handshake"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("timed out after 500 ms"), std::string::npos) << r.error;
  EXPECT_LT(took, 5s);
}

TEST_F(HttpClientTest, CancelFlagAbandonsALongPoll) {
  LocalServer server([&](LocalServer& self, Conn& c, int) {
    if (auto r = c.read_request()) self.note(*r);
    c.hold();
  });
  std::atomic<bool> cancel{false};
  HttpClient http(60s);
  http.set_cancel_flag(&cancel);
  Clock::time_point raised;
  std::thread stopper([&] {
    server.wait_seen(1);  // the request is under way
    raised = Clock::now();
    cancel = true;
  });
  const HttpResult r = http.request("GET", server.url("/sync?timeout=30000"));
  const auto returned = Clock::now();
  stopper.join();
  EXPECT_TRUE(r.transport_failed());
  EXPECT_NE(r.error.find("cancelled"), std::string::npos) << r.error;
  EXPECT_LT(returned - raised, 2s);
  // While the flag stays up, nothing is sent at all.
  EXPECT_TRUE(http.request("GET", server.url("/again")).transport_failed());
  EXPECT_EQ(server.seen().size(), 1U);
}

TEST_F(HttpClientTest, TransportFailuresAreErrorsNotExceptions) {
  HttpClient http(2s, 1s);
  int closed_port = 0;
  {
    LocalServer gone([](LocalServer&, Conn&, int) {});
    closed_port = gone.port();
  }
  const HttpResult refused =
      http.request("GET", "http://127.0.0.1:" + std::to_string(closed_port) + "/");
  EXPECT_EQ(refused.status, 0);
  EXPECT_NE(refused.error.find("could not connect"), std::string::npos) << refused.error;
  EXPECT_FALSE(http.request("GET", "not a url").error.empty());
  EXPECT_FALSE(http.request("GET", "ftp://127.0.0.1/").error.empty());
}

// A TLS server whose certificate is issued by `ca` for 127.0.0.1.
struct TlsServer {
  explicit TlsServer(const testing::ThrowawayCa& ca, LocalServer::Serve serve)
      : context(SSL_CTX_new(TLS_server_method())) {
    ca.serve_with(context);
    server.emplace(std::move(serve), context);
  }
  ~TlsServer() {
    server.reset();
    SSL_CTX_free(context);
  }
  SSL_CTX* context;
  std::optional<LocalServer> server;
};

TEST_F(HttpClientTest, TlsPeerVerifiedAgainstTheTrustStore) {
  testing::ThrowawayCa ca;
  TlsServer tls(ca, echo());
  env.set("SSL_CERT_FILE", ca.ca_file().c_str());
  HttpClient http;
  const HttpResult r = http.request("GET", tls.server->url("/secure", "https"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.body, "1:/secure");
  EXPECT_EQ(http.request("GET", tls.server->url("/again", "https")).body, "1:/again");
  EXPECT_EQ(tls.server->accepted(), 1);
}

TEST_F(HttpClientTest, TlsRefusesAWrongHostName) {
  testing::ThrowawayCa ca;
  TlsServer tls(ca, echo());
  env.set("SSL_CERT_FILE", ca.ca_file().c_str());
  HttpClient http;
  // The certificate names 127.0.0.1 only; "localhost" reaches the same server.
  const HttpResult r =
      http.request("GET", "https://localhost:" + std::to_string(tls.server->port()) + "/");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("TLS handshake with localhost failed"), std::string::npos) << r.error;
  EXPECT_NE(lower(r.error).find("hostname mismatch"), std::string::npos) << r.error;
  EXPECT_TRUE(tls.server->seen().empty());
}

TEST_F(HttpClientTest, TlsRefusesAnUntrustedCa) {
  testing::ThrowawayCa ca;
  testing::ThrowawayCa other;
  TlsServer tls(ca, echo());
  env.set("SSL_CERT_FILE", other.ca_file().c_str());
  HttpClient http;
  const HttpResult r = http.request("GET", tls.server->url("/", "https"));
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("TLS handshake with 127.0.0.1 failed"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("unable to get local issuer certificate"), std::string::npos) << r.error;
  EXPECT_TRUE(tls.server->seen().empty());
}

// A CONNECT proxy: notes the CONNECT request, opens the tunnel to 127.0.0.1 and relays.
LocalServer::Serve connect_proxy() {
  return [](LocalServer& self, Conn& c, int) {
    auto r = c.read_request();
    if (!r) return;
    self.note(*r);
    const std::string authority = r->line.substr(8, r->line.rfind(' ') - 8);
    const int port = std::stoi(authority.substr(authority.rfind(':') + 1));
    const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      c.write("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
      ::close(up);
      return;
    }
    c.write("HTTP/1.1 200 Connection established\r\n\r\n");
    c.relay(up);
    ::close(up);
  };
}

TEST_F(HttpClientTest, HttpsGoesThroughAConnectProxyWithCredentials) {
  testing::ThrowawayCa ca;
  TlsServer target(ca, echo());
  LocalServer proxy(connect_proxy());
  env.set("SSL_CERT_FILE", ca.ca_file().c_str());
  const std::string proxy_url = "http://ops:s%3Acret@127.0.0.1:" + std::to_string(proxy.port());
  env.set("HTTPS_PROXY", proxy_url.c_str());
  HttpClient http;
  const HttpResult r = http.request("GET", target.server->url("/tunnelled", "https"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.body, "1:/tunnelled");
  EXPECT_EQ(http.request("GET", target.server->url("/again", "https")).body, "1:/again");
  ASSERT_EQ(proxy.seen().size(), 1U);  // one tunnel, kept alive
  const std::string authority = "127.0.0.1:" + std::to_string(target.server->port());
  EXPECT_EQ(proxy.seen()[0].line, "CONNECT " + authority + " HTTP/1.1");
  EXPECT_EQ(proxy.seen()[0].headers.at("proxy-authorization"),
            "Basic " + base64_encode("ops:s:cret"));
  // The target sees origin-form requests and no proxy credentials.
  ASSERT_FALSE(target.server->seen().empty());
  EXPECT_EQ(target.server->seen()[0].line, "GET /tunnelled HTTP/1.1");
  EXPECT_EQ(target.server->seen()[0].headers.count("proxy-authorization"), 0U);
}

TEST_F(HttpClientTest, ProxyRefusingConnectIsATransportError) {
  LocalServer proxy([](LocalServer&, Conn& c, int) {
    if (c.read_request())
      c.write("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
  });
  env.set("https_proxy", ("127.0.0.1:" + std::to_string(proxy.port())).c_str());
  HttpClient http;
  const HttpResult r = http.request("GET", "https://api.example.invalid/x");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("407"), std::string::npos) << r.error;
}

TEST_F(HttpClientTest, HttpGoesToTheProxyInAbsoluteForm) {
  LocalServer proxy(echo());
  const std::string proxy_url = "http://u:p@127.0.0.1:" + std::to_string(proxy.port());
  env.set("http_proxy", proxy_url.c_str());
  HttpClient http;
  // The host does not resolve: only the proxy is asked for it.
  const HttpResult r = http.request("GET", "http://hooks.example.invalid:8081/in?a=b");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.body, "1:http://hooks.example.invalid:8081/in?a=b");
  ASSERT_EQ(proxy.seen().size(), 1U);
  EXPECT_EQ(proxy.seen()[0].headers.at("host"), "hooks.example.invalid:8081");
  EXPECT_EQ(proxy.seen()[0].headers.at("proxy-authorization"), "Basic " + base64_encode("u:p"));
}

TEST_F(HttpClientTest, NoProxyListBypassesTheProxy) {
  LocalServer proxy(echo());
  LocalServer direct(echo());
  env.set("http_proxy", ("http://127.0.0.1:" + std::to_string(proxy.port())).c_str());
  // Upper-case HTTP_PROXY is not read (curl ignores it too).
  env.set("HTTP_PROXY", "http://127.0.0.1:1");

  env.set("no_proxy", "example.org, .127.0.0.1");
  EXPECT_EQ(HttpClient().request("GET", direct.url("/d1")).body, "1:/d1");
  env.set("no_proxy", nullptr);
  env.set("NO_PROXY", "*");
  EXPECT_EQ(HttpClient().request("GET", direct.url("/d2")).body, "2:/d2");
  env.set("NO_PROXY", "internal.example");
  // A suffix matches whole labels only: other-internal.example still goes to the proxy.
  EXPECT_EQ(HttpClient().request("GET", "http://other-internal.example/p").body,
            "1:http://other-internal.example/p");
  EXPECT_EQ(HttpClient().request("GET", "http://a.internal.example/p").status, 0);  // direct
  EXPECT_EQ(direct.accepted(), 2);
  EXPECT_EQ(proxy.accepted(), 1);
}

}  // namespace
}  // namespace scribe
