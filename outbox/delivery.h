// Deliverer: what a platform adapter implements so that the outbox can hand it one
// stored job at a time, for the (platform, JobKind) pairs it was registered for. It
// performs the call the job stands for (post, update, fetch, join) and says how that
// went; the outbox records the outcome. Called on the outbox's sender thread only.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "storage/model.h"

namespace scribe {

struct DeliveryResult {
  enum class Outcome {
    kSent,       // posted; `delivered_id` names the message (Slack ts)
    kRetry,      // a passing failure (timeout, 5xx, rate limit): try again later
    kPermanent,  // will never succeed (channel gone, bad token): give up, log `error`
  };
  Outcome outcome = Outcome::kRetry;
  std::string delivered_id;
  // From the platform (Slack's Retry-After, Matrix's retry_after_ms): wait at least this.
  std::optional<std::chrono::milliseconds> retry_after;
  std::string error;
  // kRetry only: no answer arrived, so the platform may have acted on the call all the same.
  bool maybe_delivered = false;
};

class Deliverer {
 public:
  virtual ~Deliverer() = default;
  // `thread_id`: the delivered_id of the message this one replies under, if any.
  virtual DeliveryResult deliver(const OutboxMessage& message,
                                 const std::optional<std::string>& thread_id) = 0;
};

}  // namespace scribe
