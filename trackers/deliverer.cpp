#include "trackers/deliverer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/strings.h"
#include "util/utf8.h"

namespace scribe::trackers {
namespace {

DeliveryResult from(const CallResult& r) {
  DeliveryResult d;
  switch (r.outcome) {
    case CallResult::Outcome::kOk:
      d.outcome = DeliveryResult::Outcome::kSent;
      break;
    case CallResult::Outcome::kRetry:
      d.outcome = DeliveryResult::Outcome::kRetry;
      break;
    case CallResult::Outcome::kPermanent:
      d.outcome = DeliveryResult::Outcome::kPermanent;
      break;
  }
  d.error = r.error;
  d.retry_after = r.retry_after;
  return d;
}

DeliveryResult permanent(std::string why) {
  DeliveryResult d;
  d.outcome = DeliveryResult::Outcome::kPermanent;
  d.error = std::move(why);
  return d;
}

DeliveryResult sent(std::string id) {
  DeliveryResult d;
  d.outcome = DeliveryResult::Outcome::kSent;
  d.delivered_id = std::move(id);
  return d;
}

// Titles are one line and short in every tracker (Jira: 255 characters).
constexpr std::size_t kMaxTitleBytes = 240;

}  // namespace

std::string marker_label(std::int64_t action_id) {
  return fmt::format("scribe-action-{}", action_id);
}

IssueDraft issue_draft(const Settings& settings, const Incident& incident, const ActionItem& item) {
  IssueDraft d;
  std::string title = item.text;
  for (char& c : title) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  d.title =
      title.size() > kMaxTitleBytes ? truncate_utf8(title, kMaxTitleBytes - 3) + "..." : title;
  std::vector<std::string> paragraphs = {item.text};
  if (item.owner) {
    auto it = settings.users.find(item.owner->id);
    if (it == settings.users.end()) it = settings.users.find("@" + item.owner->name);
    if (it != settings.users.end()) {
      d.assignee = it->second;
    } else {
      paragraphs.push_back(
          fmt::format("Owner: @{} (in chat; not in Scribe's tracker user map)",
                      item.owner->name.empty() ? item.owner->id : item.owner->name));
    }
  } else {
    paragraphs.push_back("Owner: none yet");
  }
  if (item.due) {
    d.due = *item.due;
    paragraphs.push_back("Due: " + *item.due);
  }
  if (item.kind != ActionKind::kNone) {
    d.labels.emplace_back(to_string(item.kind));
    paragraphs.push_back(fmt::format("Kind: {}", to_string(item.kind)));
  }
  paragraphs.push_back(fmt::format("Action item #{} of {} \"{}\" ({}), recorded by Scribe.",
                                   item.seq, incident_ref(incident.id), incident.title,
                                   to_string(incident.severity)));
  if (!settings.postmortem_url.empty()) {
    std::string link = settings.postmortem_url;
    const auto at = link.find("{id}");
    if (at != std::string::npos) link.replace(at, 4, std::to_string(incident.id));
    d.link = link;
  } else {
    paragraphs.push_back(fmt::format("Postmortem: `scribe draft {}`", incident_ref(incident.id)));
  }
  d.marker = marker_label(item.id);
  d.labels.push_back(d.marker);
  for (const auto& p : paragraphs) d.body += (d.body.empty() ? "" : "\n\n") + p;
  return d;
}

TrackerDeliverer::TrackerDeliverer(Store& store, CommandHandler& handler, Settings settings,
                                   std::unique_ptr<TrackerClient> client, Clock clock)
    : store_(store),
      handler_(handler),
      settings_(std::move(settings)),
      client_(std::move(client)),
      clock_(std::move(clock)) {}

Person TrackerDeliverer::source(std::string_view detail) const {
  const std::string name = display_name(settings_.active());
  return Person{"tracker:" + lower(name),
                detail.empty() ? name : fmt::format("{} ({})", name, detail)};
}

DeliveryResult TrackerDeliverer::deliver(const OutboxMessage& message,
                                         const std::optional<std::string>&) {
  const auto job = tracker_job_from_json(message.content);
  if (!job) return permanent("not a tracker job: " + message.content);
  switch (message.kind) {
    case JobKind::kTrackCreate:
      return create(*job);
    case JobKind::kTrackState:
      return set_state(*job);
    case JobKind::kTrackRefresh:
      return refresh(*job);
    default:
      return permanent(fmt::format("tracker cannot {}", to_string(message.kind)));
  }
}

DeliveryResult TrackerDeliverer::create(const TrackerJob& job) {
  std::optional<ActionItem> item;
  std::optional<Incident> incident;
  store_.read([&](Transaction& tx) {
    item = tx.find_action_by_id(job.action_id);
    if (item) incident = tx.find_incident(item->incident_id);
  });
  if (!item || !incident) return permanent(fmt::format("no action item {}", job.action_id));
  if (item->tracker_key) return sent(*item->tracker_key);

  const IssueDraft draft = issue_draft(settings_, *incident, *item);
  std::optional<Issue> found;
  CallResult r = client_->find(draft.marker, found);
  if (!r.ok()) return from(r);
  Issue issue;
  if (found) {
    issue = *found;
    spdlog::info("tracker: action {} already has issue {} (an earlier attempt made it)",
                 job.action_id, issue.key);
  } else {
    r = client_->create(draft, issue);
    if (!r.ok()) return from(r);
    spdlog::info("tracker: action {} of {} is now {}", item->seq, incident_ref(incident->id),
                 issue.key);
  }
  const Timestamp now = clock_();
  store_.write([&](Transaction& tx) {
    auto current = tx.find_action_by_id(job.action_id);
    if (!current || current->tracker_key) return;
    current->tracker_key = issue.key;
    current->tracker_url = issue.url;
    ActionRevision change;
    change.action_id = current->id;
    change.seq = current->seq;
    change.field = "tracker";
    change.after = issue.url.empty() ? issue.key : issue.key + " " + issue.url;
    change.changed_by = source();
    change.changed_at = now;
    tx.revise_action(*current, {change});
  });
  return sent(issue.key);
}

DeliveryResult TrackerDeliverer::set_state(const TrackerJob& job) {
  std::optional<ActionItem> item;
  store_.read([&](Transaction& tx) { item = tx.find_action_by_id(job.action_id); });
  if (!item) return permanent(fmt::format("no action item {}", job.action_id));
  // The item's create job ran before this one (same lane): without a key it failed.
  if (!item->tracker_key) return permanent("the item's issue was never created");
  CallResult r = client_->set_closed(*item->tracker_key, job.closed);
  if (!r.ok()) return from(r);
  return sent(*item->tracker_key);
}

DeliveryResult TrackerDeliverer::refresh(const TrackerJob& job) {
  std::optional<ActionItem> item;
  store_.read([&](Transaction& tx) { item = tx.find_action_by_id(job.action_id); });
  // Only the direction a missed webhook leaves behind: an open item whose issue was closed.
  // (An item done in chat whose issue is still open is the state job's business.)
  if (!item || !item->tracker_key || item->status != ActionStatus::kOpen) return sent("");
  Issue issue;
  CallResult r = client_->get(*item->tracker_key, issue);
  if (!r.ok()) return from(r);
  if (!issue.closed) return sent(issue.key);
  TrackerReport report{*item->tracker_key, true, source("refresh"), clock_()};
  store_.write([&](Transaction& tx) { handler_.tracker_state_in(tx, report); });
  return sent(issue.key);
}

}  // namespace scribe::trackers
