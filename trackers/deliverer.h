// TrackerDeliverer: carries out the issue-tracker jobs the core writes to the outbox
// (commands/tracking.h) against the configured tracker: creates an action item's issue,
// closes or reopens it, and reads it back for the periodic refresh.
//
// Exactly one issue per item. Every issue carries a marker label, "scribe-action-<id>"
// (the item's row id). Before creating, the deliverer looks the marker up in the tracker
// (GitHub and GitLab list issues by label from their database; Jira searches by JQL), and
// an issue found is recorded instead of a new one made. So a crash or a lost answer
// between the tracker's 201 and our commit of the key, which leaves the job pending, is
// resolved on the retry by finding the issue, not by creating another. The key is
// committed (with a "tracker" entry on the item's audit trail) before the job is marked
// sent. Limits: Jira's search index may lag its database by moments, so a retry within
// that lag could miss the issue; and two Scribe deployments sharing one project must not
// share a database id space (the marker is per database).
//
// Threads: the outbox's sender thread only (the client owns one connection).
#pragma once

#include <functional>
#include <memory>

#include "commands/handler.h"
#include "outbox/delivery.h"
#include "trackers/client.h"
#include "trackers/settings.h"

namespace scribe::trackers {

// The label that finds an item's issue again.
std::string marker_label(std::int64_t action_id);

// What the issue for `item` of `incident` says; owners are mapped through settings.users,
// and an owner who is not in the map is named in the body.
IssueDraft issue_draft(const Settings& settings, const Incident& incident, const ActionItem& item);

class TrackerDeliverer final : public Deliverer {
 public:
  using Clock = std::function<Timestamp()>;
  TrackerDeliverer(Store& store, CommandHandler& handler, Settings settings,
                   std::unique_ptr<TrackerClient> client, Clock clock);

  DeliveryResult deliver(const OutboxMessage& message,
                         const std::optional<std::string>& thread_id) override;

 private:
  DeliveryResult create(const TrackerJob& job);
  DeliveryResult set_state(const TrackerJob& job);
  DeliveryResult refresh(const TrackerJob& job);
  // The tracker's person on the audit trail: "Jira".
  Person source(std::string_view detail = {}) const;

  Store& store_;
  CommandHandler& handler_;
  Settings settings_;
  std::unique_ptr<TrackerClient> client_;
  Clock clock_;
};

}  // namespace scribe::trackers
