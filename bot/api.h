// The read-only JSON/Markdown API: `GET /api/incidents`, `/api/incidents/{id}` and
// `/api/incidents/{id}/postmortem.{md,html,json}`, behind a bearer token compared in
// constant time. With no token configured the API refuses every request.
#pragma once

#include <functional>
#include <string>

#include "net/http_message.h"
#include "storage/store.h"

namespace scribe {

class Api {
 public:
  Api(Store& store, std::string token, std::function<Timestamp()> clock);

  // `path` is the target without its query string; `query` what followed '?'.
  HttpResponse handle(const HttpRequest& request, std::string_view path, std::string_view query);

 private:
  Store& store_;
  std::string token_;
  std::function<Timestamp()> clock_;
};

}  // namespace scribe
