// Plain HTTP request/response values passed between the listener and the endpoint
// handlers. Only bot/http_server.cpp knows Beast; everything else sees these.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scribe {

struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string target;  // path and query, as sent
  // Header names are lower-cased by the listener.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header of that (lower-case) name, or empty.
  std::string_view header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return value;
    }
    return {};
  }
  bool has_header(std::string_view lower_name) const {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& h) { return h.first == lower_name; });
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// How an endpoint answers a request: called exactly once, from any thread (the listener
// writes the answer on the connection's own strand).
using Respond = std::function<void(HttpResponse)>;

}  // namespace scribe
