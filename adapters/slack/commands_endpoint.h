// SlackCommandsEndpoint: `POST /slack/commands`. Verifies Slack's signature over the raw
// body, translates the form into a platform-neutral Invocation, runs it, and answers
// with Slack's response JSON. The answer is sent only once the handler has committed the
// change, so a 200 is only ever sent for something that is on disk.
#pragma once

#include <functional>
#include <string>

#include "adapters/slack/user_zones.h"
#include "commands/handler.h"
#include "net/http_message.h"

namespace scribe::slack {

class CommandsEndpoint {
 public:
  using Clock = std::function<Timestamp()>;

  // With `user_zones` (needs a bot token: users.info), each user's own zone goes into the
  // invocation (Invocation::author_zone), read from its cache without waiting.
  CommandsEndpoint(std::string signing_secret, CommandHandler& handler, Clock clock,
                   UserZones* user_zones = nullptr);

  // Answers through `respond` once the command's change is durable (or failed); does not
  // block.
  void handle(const HttpRequest& request, Respond respond);
  // The same for a request that came over a channel already authenticated (Socket Mode):
  // no signature is checked, and `replay_key` (unique per delivery, the same on a
  // redelivery) takes the signature's place as the key under which replays are recorded.
  void handle_authenticated(const HttpRequest& request, std::string replay_key, Respond respond);

 private:
  // `replay_key` is copied only when the request has no trigger_id to be recorded under.
  void run(const HttpRequest& request, std::string_view replay_key, Timestamp received_at,
           Respond respond);

  std::string signing_secret_;
  CommandHandler& handler_;
  Clock clock_;
  UserZones* user_zones_;
};

}  // namespace scribe::slack
