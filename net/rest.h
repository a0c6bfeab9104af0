// JSON REST calls to third-party services (issue trackers, publishing destinations): one
// classification of answers into ok / passing failure / permanent failure, and a client
// that sends and reads JSON over one reused connection. NOT thread-safe: one per thread
// (the outbox's sender thread).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_client.h"

namespace scribe {

// How a call went.
struct CallResult {
  enum class Outcome { kOk, kRetry, kPermanent } outcome = Outcome::kOk;
  std::string error;
  std::optional<std::chrono::milliseconds> retry_after;  // 429 Retry-After, rate-limit reset
  bool ok() const { return outcome == Outcome::kOk; }
};

// Classifies an HTTP answer: 2xx ok; 429, 408, 5xx, a transport failure and GitHub's
// exhausted rate limit (403 with x-ratelimit-remaining: 0) are passing; the rest permanent.
// The error names the status and the service's own message where it sends one.
CallResult classify(const HttpResult& http, std::chrono::system_clock::time_point now);

// The value of the (lower-case) header `name`, or "".
std::string header_of(const HttpResult& http, std::string_view name);

// RFC 4648 base64 (with padding), for Basic credentials and APIs that carry file content.
std::string base64_encode(std::string_view in);

// `url` without trailing slashes, so paths can be appended.
std::string trim_slash(std::string url);

class JsonRest {
 public:
  // `headers`: sent with every call (authorization, API version).
  explicit JsonRest(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  // Sends `body` as JSON when given; on a 2xx `answer` is the parsed body (discarded when
  // not JSON).
  CallResult call(const std::string& method, const std::string& url, const nlohmann::json* body,
                  nlohmann::json& answer);
  // The last answer's HTTP status (0 when none arrived), for callers that tell 404 apart.
  long last_status() const { return last_status_; }

 private:
  std::vector<std::string> headers_;
  HttpClient http_;
  long last_status_ = 0;
};

}  // namespace scribe
