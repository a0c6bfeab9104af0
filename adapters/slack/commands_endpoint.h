// SlackCommandsEndpoint: `POST /slack/commands`. Verifies Slack's signature over the raw
// body, translates the form into a platform-neutral Invocation, runs it, and answers
// with Slack's response JSON. The answer is sent only once the handler has committed the
// change, so a 200 is only ever sent for something that is on disk.
#pragma once

#include <functional>
#include <string>

#include "commands/handler.h"
#include "net/http_message.h"

namespace scribe::slack {

class CommandsEndpoint {
 public:
  using Clock = std::function<Timestamp()>;

  CommandsEndpoint(std::string signing_secret, CommandHandler& handler, Clock clock);

  // Answers through `respond` once the command's change is durable (or failed); does not
  // block.
  void handle(const HttpRequest& request, Respond respond);

 private:
  std::string signing_secret_;
  CommandHandler& handler_;
  Clock clock_;
};

}  // namespace scribe::slack
