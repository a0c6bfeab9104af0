// MessageFetcher: the second half of "a 📌 reaction makes the message a timeline event".
// Slack's reaction_added event names the message but does not carry it, and the event
// must be acknowledged within 3 s, so the events endpoint only writes a fetch job to the
// outbox (CommandHandler::defer_marked_message). The outbox hands the job to this
// deliverer, which reads the message with conversations.history/replies (and the
// author's name with users.info when the message does not carry it) and records it.
// Recording is idempotent, so a job that runs twice still makes one event.
#pragma once

#include <string>

#include "adapters/slack/web_api.h"
#include "commands/handler.h"

namespace scribe::slack {

// The job's content, as written by the events endpoint.
std::string fetch_job(const MarkedMessage& message);

class MessageFetcher : public Deliverer {
 public:
  MessageFetcher(WebApi::Options options, CommandHandler& handler);

  DeliveryResult deliver(const OutboxMessage& job,
                         const std::optional<std::string>& thread_id) override;

 private:
  WebApi api_;
  CommandHandler& handler_;
};

}  // namespace scribe::slack
