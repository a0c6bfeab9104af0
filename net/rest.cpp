#include "net/rest.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace scribe {

using nlohmann::json;

std::string header_of(const HttpResult& http, std::string_view name) {
  for (const auto& [n, v] : http.headers) {
    if (n == name) return v;
  }
  return "";
}

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

CallResult classify(const HttpResult& http, std::chrono::system_clock::time_point now) {
  CallResult r;
  if (http.transport_failed()) {
    r.outcome = CallResult::Outcome::kRetry;
    r.error = http.transport_error();
    return r;
  }
  if (http.status >= 200 && http.status < 300) return r;
  r.error = fmt::format("HTTP {}", http.status);
  const auto message = json::parse(http.body, nullptr, /*allow_exceptions=*/false);
  if (message.is_object() && message.contains("message") && message["message"].is_string()) {
    r.error += ": " + message["message"].get<std::string>();
  } else if (message.is_object() && message.contains("errorMessages")) {
    r.error += ": " + message["errorMessages"].dump();
  }
  if (auto after = http.retry_after()) r.retry_after = *after;
  // GitHub's primary rate limit: 403 (or 429) with no requests left until a reset time.
  const bool exhausted = header_of(http, "x-ratelimit-remaining") == "0";
  if (exhausted) {
    long long reset = 0;
    const std::string v = header_of(http, "x-ratelimit-reset");
    if (std::from_chars(v.data(), v.data() + v.size(), reset).ec == std::errc()) {
      const auto wait = std::chrono::sys_seconds(std::chrono::seconds(reset)) - now;
      r.retry_after = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(wait),
                               std::chrono::milliseconds(0));
    }
  }
  if (http.status == 429 || http.status >= 500 || http.status == 408 ||
      (http.status == 403 && (exhausted || r.retry_after))) {
    r.outcome = CallResult::Outcome::kRetry;
  } else {
    r.outcome = CallResult::Outcome::kPermanent;
  }
  return r;
}

CallResult JsonRest::call(const std::string& method, const std::string& url, const json* body,
                          json& answer) {
  std::vector<std::string> headers = headers_;
  headers.emplace_back("Accept: application/json");
  std::string payload;
  if (body) {
    headers.emplace_back("Content-Type: application/json");
    payload = body->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  HttpResult http = http_.request(method, url, headers, payload);
  last_status_ = http.status;
  CallResult r = classify(http, std::chrono::system_clock::now());
  if (r.ok()) answer = json::parse(http.body, nullptr, /*allow_exceptions=*/false);
  return r;
}

}  // namespace scribe
