// InteractivityEndpoint: `POST /slack/interactivity`, where Slack reports clicks on the
// buttons under Scribe's messages ("Mark done", "Snooze 1 day" on action-item reminders).
// Verifies the signature as for commands; the body is a form with one field, `payload`,
// holding JSON. A block_actions payload becomes one ButtonPress per button of Scribe's,
// carried out by the command core, which also enqueues the update of the message; the
// change is committed before the 200 (empty, as Slack wants it within 3 s). Other
// payload types and other buttons are acknowledged and ignored.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/handler.h"
#include "net/http_message.h"

namespace scribe::slack {

// What a payload asks of Scribe.
struct InteractivityResult {
  bool ok = false;    // false: malformed (error says why)
  std::string error;  // short, safe to echo
  std::string type;   // Slack's payload type: "block_actions", "view_submission", ...
  // The clicks on Scribe's own buttons (kActionDone, kActionSnooze), in payload order;
  // other actions are left out.
  std::vector<ButtonPress> presses;

  explicit operator bool() const { return ok; }
};

// Reads the JSON of the `payload` field. Malformed: not a JSON object, no type; a
// block_actions payload without an "actions" array; one of Scribe's buttons without a
// user, a channel (channel.id or container.channel_id), the message's ts
// (container.message_ts or message.ts) or a string value. Never throws.
InteractivityResult parse_interactivity_payload(std::string_view payload_json,
                                                Timestamp received_at);

class InteractivityEndpoint {
 public:
  using Clock = std::function<Timestamp()>;

  InteractivityEndpoint(std::string signing_secret, CommandHandler& handler, Clock clock);

  // Answers through `respond` once the presses are durable (or failed); does not block.
  void handle(const HttpRequest& request, Respond respond);
  // The same for a request that came over a channel already authenticated (Socket Mode):
  // no signature is checked; `replay_key` takes the signature's place as the replay key.
  void handle_authenticated(const HttpRequest& request, std::string replay_key, Respond respond);

 private:
  void run(const HttpRequest& request, std::string replay_key, Timestamp received_at,
           Respond respond);

  std::string signing_secret_;
  CommandHandler& handler_;
  Clock clock_;
};

}  // namespace scribe::slack
