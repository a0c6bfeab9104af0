// Issue tracking of action items, as the core sees it. An extension (trackers/) speaks to
// the team's issue tracker; the core knows only that one may be configured, under a name
// people read ("Jira"), and writes durable outbox jobs for it in the same transaction as
// the change that calls for them: creating an item's issue (`/action track N`, or every
// new item when auto_track is on), closing it (`/action done`, `drop`), reopening it
// (`/action reopen`). What the tracker reports back (a webhook, the periodic refresh)
// comes in through apply_tracker_state. Pure functions over a Transaction: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace scribe {

// The outbox routes tracker jobs by this platform name; each item's jobs share one lane
// (ChannelRef::channel "action-<id>"), so its issue is created before it is closed.
inline constexpr std::string_view kTrackerPlatform = "tracker";

struct TrackingSettings {
  bool enabled = false;
  std::string name;         // what people read: "Jira", "GitHub", "GitLab"
  bool auto_track = false;  // create an issue for every new action item
};

// What a tracker job's `content` says, as written by the core and read by the extension.
struct TrackerJob {
  std::int64_t action_id = 0;
  bool closed = false;  // kTrackState: the state to set (true: closed, false: open)
};
std::string to_json(const TrackerJob& job);
std::optional<TrackerJob> tracker_job_from_json(std::string_view content);

// The lane of an item's tracker jobs.
ChannelRef tracker_lane(std::int64_t action_id);

enum class TrackRequest {
  kQueued,          // a create job was written
  kAlreadyTracked,  // the item has an issue
  kPending,         // a create job is already waiting
};
// Writes the job that creates `item`'s issue, once: an item has at most one create job
// pending or done (dedupe key "track:<id>[:<n>]"); only one that failed for good is
// followed by another.
TrackRequest request_tracking(Transaction& tx, const ActionItem& item, Timestamp at);

// After `item`'s status changed by a person in chat: when the item is tracked (or its
// issue is on its way), writes the job that closes (done, dropped) or reopens its issue.
// Returns whether it wrote one.
bool request_state_sync(Transaction& tx, const ActionItem& item, Timestamp at);

// A tracker's report that the issue `key` is now closed or open.
struct TrackerReport {
  std::string key;
  bool closed = false;
  Person by;  // who did it, as the tracker names them; kept on the audit trail
  Timestamp at{};
};
enum class TrackerOutcome {
  kDone,         // the item is now done (the tracker is the source, on its audit trail)
  kReopened,     // the item is open again
  kUnchanged,    // it was so already (or dropped: a closed issue does not undo a drop)
  kUnknownIssue  // no item is tracked by that issue
};
std::string_view to_string(TrackerOutcome outcome);
// Applies `report` to the item its issue tracks, with the change on the item's audit trail
// under `report.by`. Writes no tracker job (the tracker already knows). `item_out`: the
// item afterwards, when one was found.
TrackerOutcome apply_tracker_state(Transaction& tx, const TrackerReport& report,
                                   ActionItem* item_out = nullptr);

}  // namespace scribe
