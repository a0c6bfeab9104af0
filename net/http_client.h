// HttpClient: a small blocking HTTP/1.1 client (http:// and https://) that keeps its last
// connection open and reuses it for the next request to the same scheme, host and port. TLS
// peers are verified against the system trust store (SSL_CERT_FILE / SSL_CERT_DIR override
// it) and must match the URL's host. Proxies come from the environment as curl reads them:
// https_proxy / HTTPS_PROXY (a CONNECT tunnel) for https URLs, http_proxy for http URLs,
// no_proxy / NO_PROXY to bypass them; a proxy URL's user:password is sent as Basic
// credentials. Not thread-safe: one per thread.
#pragma once

#include <atomic>
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

  // Headers are "Name: value" lines, sent as given (Host and Accept are added unless given;
  // Content-Length for any method but GET and HEAD, whose `body` is not sent). Any failure
  // that is not an HTTP response is a transport error in the result, never an exception.
  // A reused connection the server had closed is reconnected and the request sent once
  // more; "Connection: close" (either side) closes it after the response.
  HttpResult request(const std::string& method, const std::string& url,
                     const std::vector<std::string>& headers = {}, const std::string& body = {});

  // While `*flag` is true, a request under way is abandoned within about a second (the
  // flag is looked at every 100 ms, even on an idle connection) and fails with a transport
  // error: for a thread that waits in a long poll and must stop. The flag must outlive this
  // client; nullptr (the default) turns it off.
  void set_cancel_flag(const std::atomic<bool>* flag) { cancel_ = flag; }

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds connect_timeout_;
  const std::atomic<bool>* cancel_ = nullptr;
};

}  // namespace scribe
