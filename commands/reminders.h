// ReminderPlanner: decides which reminders are due and writes them to the outbox.
//
// Scribe keeps after an incident once it is over:
//   - an open action item with a due date is reminded to its owner, "due tomorrow" the
//     day before, "due today" on the day, and "overdue" the day after and then every
//     `overdue_interval`, until it is done or dropped, whether or not its incident is
//     closed: closing ends the postmortem, not the follow-up. Each reminder has "Mark
//     done" and "Snooze 1 day" buttons and goes where `delivery` says: the incident's
//     channel, the owner directly (a job of JobKind::kDirect), or both; an owner who
//     cannot be reached directly (no platform id, or a platform without direct delivery)
//     is reminded in the channel. A snoozed item gets nothing before `snoozed_until`;
//   - an item overdue by more than `escalate_after` is escalated once (per due date) to
//     the incident's postmortem owner (postmortem_owner_of: the one named, else the commander), in
//     the channel (and directly, when delivery is direct);
//   - every week on `digest_day`, at `time_of_day`, each owner with open items gets one
//     digest of them across incidents, overdue first: directly when their platform can
//     deliver directly, else in the channel of their newest incident with an open item;
//   - a resolved incident that is not closed gets "hold the postmortem meeting"
//     `meeting_after` after resolution, then every `meeting_interval` until closed;
//   - `followup_after` after resolution (resolved or closed), one follow-up review message
//     lists every action item with its owner, due date and status.
// Times of day are local to `zone`; a reminder that falls in quiet hours waits for their end.
//
// Nothing here keeps state in memory: every reminder has a slot (an instant computed from
// the store) and a dedupe key in the outbox, so `enqueue_due` can be run at any time, any
// number of times, by a restarted process, and each slot is enqueued exactly once. After
// downtime only the latest slot whose time has come is enqueued, not a backlog. A due date
// is part of its reminders' keys, so a new due date brings fresh reminders; a resolution
// time is part of the incident's keys, so a reopened and re-resolved incident starts over.
//
// Platform-neutral: no threads and no clock; bot/scheduler.h calls it.
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "commands/platform.h"
#include "storage/store.h"

namespace date {
class time_zone;
}

namespace scribe {

// Local quiet hours [start, end); start > end wraps midnight ("20:00-08:00").
struct QuietHours {
  std::chrono::minutes start{20 * 60};
  std::chrono::minutes end{8 * 60};
  // Whether a local time of day (0 ≤ t < 24 h) lies within them.
  bool contains(std::chrono::minutes time_of_day) const;
  bool operator==(const QuietHours&) const = default;
};

// Where reminders to an action item's owner go.
enum class ReminderDelivery { kChannel, kDirect, kBoth };
std::optional<ReminderDelivery> reminder_delivery_from_string(std::string_view text);
std::string_view to_string(ReminderDelivery delivery);

struct ReminderSettings {
  // Reads due dates and times of day; nullptr means UTC.
  const date::time_zone* zone = nullptr;
  // Local time at which the action item reminders of a day go out.
  std::chrono::minutes time_of_day{9 * 60};
  // After the first overdue nudge (the day after the due date), one every interval. A
  // whole number of days steps in calendar days, so the nudge stays at `time_of_day`
  // across daylight-saving changes.
  std::chrono::hours overdue_interval{24};
  // "Hold the postmortem meeting": first this long after resolution, then every interval.
  std::chrono::hours meeting_after{24};
  std::chrono::hours meeting_interval{24};
  // The follow-up review of the action items, this long after resolution.
  std::chrono::days followup_after{14};
  // A follow-up review that could not be sent within this long after its time (Scribe was
  // down, or had no reminders when the incident was resolved) is dropped, so that a first
  // start does not flood every old incident channel.
  std::chrono::days followup_window{30};
  // Channel, owner directly, or both.
  ReminderDelivery delivery = ReminderDelivery::kChannel;
  // The platforms that can deliver JobKind::kDirect jobs. nullopt: every platform.
  std::optional<std::set<std::string>> direct_platforms;
  // An item overdue by more than this many days is escalated to the postmortem owner. nullopt:
  // never (the configuration's default is 7 days, bot/config.h).
  std::optional<std::chrono::days> escalate_after;
  // The weekday (0 = Sunday … 6 = Saturday) of the owners' digest. nullopt: no digest (the
  // configuration's default is Monday).
  std::optional<unsigned> digest_day;
  // nullopt: no quiet hours.
  std::optional<QuietHours> quiet_hours = QuietHours{};
  // The platforms Scribe can post to; incidents elsewhere get no reminders (they could
  // not be delivered). nullopt: every platform.
  std::optional<std::set<std::string>> platforms;
  // What each platform's adapter says about it (the command prefix of the hints).
  Platforms platform_traits;
};

class ReminderPlanner {
 public:
  ReminderPlanner(Store& store, ReminderSettings settings);

  // In one write transaction, enqueues every reminder whose time has come (by `now`) and
  // that was not enqueued before; returns how many were newly enqueued. Throws StoreError
  // when the store fails (then nothing of this run is kept).
  int enqueue_due(Timestamp now);

  const ReminderSettings& settings() const { return settings_; }

 private:
  Store& store_;
  ReminderSettings settings_;
};

// "HH:MM" (00:00–23:59) as minutes after midnight.
std::optional<std::chrono::minutes> parse_time_of_day(std::string_view text);
// "HH:MM-HH:MM" with two different times.
std::optional<QuietHours> parse_quiet_hours(std::string_view text);
std::string format_time_of_day(std::chrono::minutes time_of_day);  // "09:00"
std::string to_string(const QuietHours& quiet);                    // "20:00-08:00"

}  // namespace scribe
