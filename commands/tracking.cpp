#include "commands/tracking.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands/action_items.h"

namespace scribe {

std::string to_json(const TrackerJob& job) {
  return nlohmann::json{{"action_id", job.action_id}, {"closed", job.closed}}.dump();
}

std::optional<TrackerJob> tracker_job_from_json(std::string_view content) {
  const auto j = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("action_id") || !j["action_id"].is_number_integer()) {
    return std::nullopt;
  }
  TrackerJob job;
  job.action_id = j["action_id"].get<std::int64_t>();
  if (j.contains("closed") && j["closed"].is_boolean()) job.closed = j["closed"].get<bool>();
  return job;
}

ChannelRef tracker_lane(std::int64_t action_id) {
  return ChannelRef{std::string(kTrackerPlatform), "", fmt::format("action-{}", action_id)};
}

namespace {

OutboxMessage tracker_job(JobKind kind, const TrackerJob& job, Timestamp at, std::string key) {
  OutboxMessage m;
  m.channel = tracker_lane(job.action_id);
  m.kind = kind;
  m.content = to_json(job);
  m.dedupe_key = std::move(key);
  m.created_at = at;
  m.next_attempt_at = at;
  return m;
}

// The newest create job of the item, following the chain of keys of failed ones.
std::optional<OutboxMessage> latest_create_job(Transaction& tx, std::int64_t id, int* count) {
  std::optional<OutboxMessage> latest;
  *count = 0;
  for (;;) {
    const std::string key =
        *count == 0 ? fmt::format("track:{}", id) : fmt::format("track:{}:{}", id, *count);
    auto job = tx.find_outbox_by_key(key);
    if (!job) return latest;
    latest = std::move(job);
    ++*count;
  }
}

}  // namespace

TrackRequest request_tracking(Transaction& tx, const ActionItem& item, Timestamp at) {
  if (item.tracker_key) return TrackRequest::kAlreadyTracked;
  int count = 0;
  const auto latest = latest_create_job(tx, item.id, &count);
  if (latest && latest->status != OutboxStatus::kFailed) return TrackRequest::kPending;
  const std::string key =
      count == 0 ? fmt::format("track:{}", item.id) : fmt::format("track:{}:{}", item.id, count);
  tx.enqueue(tracker_job(JobKind::kTrackCreate, TrackerJob{item.id, false}, at, key));
  return TrackRequest::kQueued;
}

bool request_state_sync(Transaction& tx, const ActionItem& item, Timestamp at) {
  int count = 0;
  const auto latest = latest_create_job(tx, item.id, &count);
  const bool on_its_way = latest && latest->status == OutboxStatus::kPending;
  if (!item.tracker_key && !on_its_way) return false;
  const bool closed = item.status != ActionStatus::kOpen;
  tx.enqueue(tracker_job(JobKind::kTrackState, TrackerJob{item.id, closed}, at, ""));
  return true;
}

std::string_view to_string(TrackerOutcome outcome) {
  switch (outcome) {
    case TrackerOutcome::kDone:
      return "done";
    case TrackerOutcome::kReopened:
      return "reopened";
    case TrackerOutcome::kUnchanged:
      return "unchanged";
    case TrackerOutcome::kUnknownIssue:
      return "unknown issue";
  }
  return "unknown";
}

TrackerOutcome apply_tracker_state(Transaction& tx, const TrackerReport& report,
                                   ActionItem* item_out) {
  std::optional<ActionItem> item = tx.find_action_by_tracker_key(report.key);
  if (!item) return TrackerOutcome::kUnknownIssue;
  const ActionItem before = *item;
  TrackerOutcome outcome = TrackerOutcome::kUnchanged;
  if (report.closed && item->status == ActionStatus::kOpen) {
    item->status = ActionStatus::kDone;
    item->done_at = report.at;
    item->done_by = report.by;
    outcome = TrackerOutcome::kDone;
  } else if (!report.closed && item->status == ActionStatus::kDone) {
    item->status = ActionStatus::kOpen;
    item->done_at.reset();
    item->done_by.reset();
    outcome = TrackerOutcome::kReopened;
  }
  if (outcome != TrackerOutcome::kUnchanged) {
    tx.revise_action(*item, action_items::changes_between(before, *item, report.by, report.at));
  }
  if (item_out) *item_out = *item;
  return outcome;
}

}  // namespace scribe
