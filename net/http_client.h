// HttpClient: a small blocking HTTP client over one reused libcurl handle (so
// keep-alive connections are reused). Not thread-safe: one per thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace scribe {

struct HttpResult {
  long status = 0;  // 0 when no response arrived
  std::string body;
  std::string error;  // transport error, empty on any HTTP response
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names

  // No HTTP response arrived (connection refused, timeout, …).
  bool transport_failed() const { return !error.empty() || status == 0; }
  // "transport: <why>", for logs and delivery errors.
  std::string transport_error() const;
  // Retry-After as delta-seconds (what Slack and homeservers send); an HTTP date or
  // anything else reads as absent.
  std::optional<std::chrono::seconds> retry_after() const;
};

class HttpClient {
 public:
  // `timeout` bounds a whole request; `connect_timeout` the connection alone, so that an
  // unreachable host is given up quickly.
  explicit HttpClient(std::chrono::milliseconds timeout = std::chrono::seconds(10),
                      std::chrono::milliseconds connect_timeout = std::chrono::seconds(2));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult request(const std::string& method, const std::string& url,
                     const std::vector<std::string>& headers = {}, const std::string& body = {});

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds connect_timeout_;
};

}  // namespace scribe
