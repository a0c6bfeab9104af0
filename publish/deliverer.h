// PublishDeliverer: carries out the publishing jobs the core writes to the outbox
// (commands/publishing.h): renders the incident's reviewed draft as it is now (the
// organisation's draft.template included) and writes it to the job's destination, one
// page per incident, updated in place. An unchanged draft (same SHA-256 as last written)
// is not written again. What was written is recorded (CommandHandler::published_in), and
// the first time the channel is told the page's address.
//
// Exactly once: Confluence titles are unique in a space and a git file's path is fixed
// by the incident, so a crash between the destination's answer and our commit is
// resolved on the retry by finding the page or file, not by making another.
//
// Threads: the outbox's sender thread only.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "commands/handler.h"
#include "outbox/delivery.h"
#include "postmortem/review.h"
#include "postmortem/template.h"
#include "publish/destinations.h"

namespace scribe::publish {

class PublishDeliverer final : public Deliverer {
 public:
  using Clock = std::function<Timestamp()>;
  PublishDeliverer(Store& store, CommandHandler& handler,
                   std::vector<std::unique_ptr<Destination>> destinations,
                   std::shared_ptr<const Reviewer> reviewer,
                   std::shared_ptr<const DraftTemplate> draft_template, std::string default_zone,
                   Clock clock);

  DeliveryResult deliver(const OutboxMessage& message,
                         const std::optional<std::string>& thread_id) override;

 private:
  Store& store_;
  CommandHandler& handler_;
  std::vector<std::unique_ptr<Destination>> destinations_;
  std::shared_ptr<const Reviewer> reviewer_;
  std::shared_ptr<const DraftTemplate> draft_template_;
  std::string default_zone_;
  Clock clock_;
};

}  // namespace scribe::publish
