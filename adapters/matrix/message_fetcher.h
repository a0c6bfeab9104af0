// MessageFetcher: the second half of "a 📌 reaction makes the message a timeline event"
// in Matrix. A reaction names the event it reacts to; the transactions endpoint queues a
// durable fetch job (CommandHandler::defer_marked_message), and this deliverer reads the
// event through the client-server API, names its sender, and records it. Recording is
// idempotent, so a job that runs twice still makes one timeline event.
#pragma once

#include "adapters/matrix/client.h"
#include "commands/handler.h"

namespace scribe::matrix {

class MessageFetcher : public Deliverer {
 public:
  MessageFetcher(ClientApi::Options options, CommandHandler& handler);

  DeliveryResult deliver(const OutboxMessage& job,
                         const std::optional<std::string>& thread_id) override;

 private:
  std::string homeserver_url_;  // for the media links of pinned files; first: read before
                                // the options move into api_
  ClientApi api_;
  CommandHandler& handler_;
};

}  // namespace scribe::matrix
