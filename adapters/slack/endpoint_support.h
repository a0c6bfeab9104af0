// What every Slack endpoint shares: a plain-text answer, and the refusal of a request
// that Slack did not sign (checked before anything else is read).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "net/http_message.h"
#include "storage/model.h"

namespace scribe::slack {

HttpResponse plain(int status, std::string text);

// The 401 for a request whose signature or timestamp does not verify (logged as `what`,
// e.g. "command"), or nullopt when it is Slack's.
std::optional<HttpResponse> refuse_unsigned(const HttpRequest& request,
                                            std::string_view signing_secret, Timestamp now,
                                            std::string_view what);

}  // namespace scribe::slack
