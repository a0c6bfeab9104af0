// What every Slack endpoint shares: a plain-text answer, and the refusal of a request
// that Slack did not sign (checked before anything else is read).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_message.h"
#include "storage/model.h"

namespace scribe::slack {

HttpResponse plain(int status, std::string text);

// Replays: a signed request that changes something is recorded under its signature
// (Transaction::first_delivery_until, source kSignedRequests) in the transaction of its
// change, so the same request again changes nothing. Slack accepts a signature five
// minutes either side of now; the key is kept longer than that, so no request outlives it.
inline constexpr std::string_view kSignedRequests = "slack-request";
inline constexpr std::chrono::minutes kReplayWindow{11};

// The 401 for a request whose signature or timestamp does not verify (logged as `what`,
// e.g. "command"), or nullopt when it is Slack's.
std::optional<HttpResponse> refuse_unsigned(const HttpRequest& request,
                                            std::string_view signing_secret, Timestamp now,
                                            std::string_view what);

}  // namespace scribe::slack
