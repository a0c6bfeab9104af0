// HttpClient: a small blocking HTTP client over one reused libcurl handle (so
// keep-alive connections are reused). Not thread-safe: one per thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace scribe {

struct HttpResult {
  long status = 0;  // 0 when no response arrived
  std::string body;
  std::string error;  // transport error, empty on any HTTP response
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
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
