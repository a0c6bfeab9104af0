// EventsEndpoint: `POST /slack/events`, Slack's Events API. Verifies the signature as for
// commands; answers url_verification with its challenge; turns a pinned message
// (pin_added) into a timeline event with the message's own time and author. Slack
// retries an event it thinks was not received (X-Slack-Retry-Num, same event_id); a
// message is recorded once however often it arrives. Everything recorded is committed
// before the 200.
#pragma once

#include <functional>
#include <string>

#include "bot/http_message.h"
#include "commands/handler.h"

namespace scribe::slack {

class EventsEndpoint {
 public:
  using Clock = std::function<Timestamp()>;

  EventsEndpoint(std::string signing_secret, CommandHandler& handler, Clock clock);

  HttpResponse handle(const HttpRequest& request);

 private:
  std::string signing_secret_;
  CommandHandler& handler_;
  Clock clock_;
};

// "1700000000.000100" (a Slack message ts) as an instant; nullopt when malformed.
std::optional<Timestamp> parse_message_ts(std::string_view ts);

}  // namespace scribe::slack
