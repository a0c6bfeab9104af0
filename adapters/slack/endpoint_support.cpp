#include "adapters/slack/endpoint_support.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "adapters/slack/signature.h"

namespace scribe::slack {

HttpResponse plain(int status, std::string text) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(text) + "\n", {}};
}

std::optional<HttpResponse> refuse_unsigned(const HttpRequest& request,
                                            std::string_view signing_secret, Timestamp now,
                                            std::string_view what) {
  const VerifyResult verified = verify_request(
      signing_secret, request.header(kTimestampHeader), request.header(kSignatureHeader),
      request.body, std::chrono::system_clock::time_point(now.time_since_epoch()));
  if (verified == VerifyResult::kOk) return std::nullopt;
  spdlog::warn("refused a Slack {}: {}", what, describe(verified));
  return plain(401, std::string(describe(verified)));
}

}  // namespace scribe::slack
