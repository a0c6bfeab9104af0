// EventsEndpoint: `POST /slack/events`, Slack's Events API. Verifies the signature as for
// commands; answers url_verification with its challenge; turns a pinned message
// (pin_added) or one given the pin reaction (reaction_added, 📌 `pushpin` by default)
// into a timeline event with the message's own time and author. A reaction does not
// carry its message: a durable fetch job is queued and acknowledged at once (see
// message_fetcher.h). Slack
// retries an event it thinks was not received (X-Slack-Retry-Num, same event_id); a
// message is recorded once however often it arrives. Everything recorded is committed
// before the 200.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "commands/handler.h"
#include "net/http_message.h"

namespace scribe::slack {

class EventsEndpoint {
 public:
  using Clock = std::function<Timestamp()>;

  // `pin_reaction`: the emoji name that marks a message; empty: reactions are ignored
  // (they can only be followed with a bot token to read the message).
  EventsEndpoint(std::string signing_secret, CommandHandler& handler, Clock clock,
                 std::string pin_reaction);

  // Answers through `respond` once the event is durable (or failed); does not block.
  void handle(const HttpRequest& request, Respond respond);
  // The same for a body that came over a channel already authenticated (Socket Mode): no
  // signature is checked. Redeliveries need no key: a message is recorded once anyway.
  void handle_authenticated(const HttpRequest& request, Respond respond);

 private:
  void run(const HttpRequest& request, Timestamp received_at, Respond respond);

  void on_pin(const nlohmann::json& body, const nlohmann::json& event, Timestamp received_at,
              Respond& respond);
  void on_reaction(const nlohmann::json& body, const nlohmann::json& event, Timestamp received_at,
                   Respond& respond);
  // Records or defers `marked` in one transaction, then answers.
  void mark(MarkedMessage marked, bool defer, Respond& respond);

  std::string signing_secret_;
  CommandHandler& handler_;
  Clock clock_;
  std::string pin_reaction_;
};

// "1700000000.000100" (a Slack message ts) as an instant; nullopt when malformed.
std::optional<Timestamp> parse_message_ts(std::string_view ts);

// What a marked Slack message keeps as links: `permalink` (from the event's payload or
// chat.getPermalink; may be empty) and each of its "files" (the file's Slack page, else its
// private URL; an image when its mimetype says so). Only http(s) URLs.
std::vector<EventLink> message_links(const nlohmann::json& message, const std::string& permalink);

}  // namespace scribe::slack
