#include "commands/reminders.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands/outgoing.h"

namespace scribe {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using LocalMs = date::local_time<milliseconds>;

constexpr int kMaxSlot = 1'000'000;  // bounds slot arithmetic for absurd dates

std::string plural(long long n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// "2 days", "30 hours": how long ago something was, as people say it.
std::string ago(milliseconds d) {
  const auto h = std::chrono::duration_cast<hours>(d).count();
  if (h < 48) return plural(h, "hour");
  return plural(h / 24, "day");
}

// A UTC instant in a key: "20261121T100000Z".
std::string key_time(Timestamp t) {
  return date::format("%Y%m%dT%H%M%SZ", date::floor<std::chrono::seconds>(t));
}

// "YYYY-MM-DD" exactly, as stored by /action.
std::optional<date::local_days> parse_day(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) {
    return std::nullopt;
  }
  const date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return date::local_days{ymd};
}

// The largest k ≥ 1 with when(k) ≤ now, or 0 when even the first slot is still to come.
// `when` is non-decreasing; `base` and `step` estimate where to start looking.
int latest_slot(Timestamp now, Timestamp base, milliseconds step,
                const std::function<Timestamp(int)>& when) {
  if (when(1) > now) return 0;
  const long long estimate = 1 + (now - base) / step;
  int k = static_cast<int>(std::clamp<long long>(estimate, 1, kMaxSlot));
  while (k < kMaxSlot && when(k + 1) <= now) ++k;
  while (k > 1 && when(k) > now) --k;
  return k;
}

// One run of enqueue_due: the transaction, the time and what was enqueued so far.
class Run {
 public:
  Run(const ReminderSettings& settings, const date::time_zone& zone, Transaction& tx, Timestamp now)
      : s_(settings), zone_(zone), tx_(tx), now_(now) {}

  int enqueued() const { return enqueued_; }

  void action_reminders() {
    // Closed incidents included: an item is followed up until it is done or dropped.
    for (const ActionItem& item : tx_.open_actions_with_due_date()) {
      const std::optional<Incident> incident = incident_of(item.incident_id);
      if (!incident) continue;
      const auto day = parse_day(*item.due);
      if (!day) {
        spdlog::debug("reminders: action {} has an unreadable due date '{}'", item.id, *item.due);
        continue;
      }
      action_reminder(*incident, item, *day);
      if (s_.escalate_after) escalation(*incident, item, *day);
    }
  }

  // One digest per owner (with a platform id) of their open items across incidents.
  void digests() {
    if (!s_.digest_day) return;
    const date::local_days today = local_day(now_);
    const date::weekday wanted{*s_.digest_day};
    const date::local_days day = today - (date::weekday{today} - wanted);
    Timestamp slot = at(day, s_.time_of_day);
    if (quiet_adjusted(slot) > now_) slot = at(day - date::days{7}, s_.time_of_day);
    // A digest that could not go out within a day of its time waits for next week's.
    if (quiet_adjusted(slot) > now_ || now_ - slot >= hours{24}) return;
    const std::string slot_day = date::format("%F", local_day(slot));
    struct Owed {
      Person owner;
      std::vector<std::pair<Incident, ActionItem>> items;
    };
    std::map<std::tuple<std::string, std::string, std::string>, Owed> by_owner;
    for (const ActionItem& item : tx_.open_actions()) {
      if (!item.owner || item.owner->id.empty()) continue;
      const std::optional<Incident> incident = incident_of(item.incident_id);
      if (!incident) continue;
      Owed& owed =
          by_owner[{incident->channel.platform, incident->channel.workspace, item.owner->id}];
      owed.owner = *item.owner;
      owed.items.emplace_back(*incident, item);
    }
    for (auto& [who, owed] : by_owner) {
      const auto& [platform, workspace, owner_id] = who;
      const std::string key =
          fmt::format("reminder:digest:{}:{}:{}:{}", platform, workspace, owner_id, slot_day);
      if (already(key)) continue;
      enqueue_digest(owed.owner, owed.items, key);
    }
  }

  void meeting_reminders() {
    for (const Incident& incident : tx_.incidents_with_status(IncidentStatus::kResolved)) {
      if (!incident.resolved_at) continue;
      const Timestamp resolved = *incident.resolved_at;
      auto raw = [&](int k) { return resolved + s_.meeting_after + (k - 1) * s_.meeting_interval; };
      const int k = latest_slot(now_, raw(1), s_.meeting_interval,
                                [&](int i) { return quiet_adjusted(raw(i)); });
      if (k == 0) continue;
      const std::string key =
          fmt::format("reminder:incident:{}:meeting:{}:{}", incident.id, key_time(resolved), k);
      if (already(key)) continue;
      const std::string_view p = s_.platform_traits.of(incident.channel.platform).prefix;
      OutgoingMessage m;
      m.body.text =
          fmt::format("🗓️ {} \"{}\" was resolved {} ago: time to hold the postmortem meeting.",
                      incident_ref(incident.id), incident.title, ago(now_ - resolved));
      m.body.details = {
          fmt::format("{}, please get the responders together to review the draft (`{}incident "
                      "draft`).",
                      mention(incident.commander), p),
          fmt::format("`{}incident close` once the postmortem is reviewed stops these reminders.",
                      p)};
      m.notify = {incident.commander};
      enqueue(incident, std::move(m), key);
    }
  }

  void followups() {
    const Timestamp latest = now_ - s_.followup_after;
    for (const Incident& incident :
         tx_.incidents_resolved_between(latest - s_.followup_window, latest)) {
      if (!incident.resolved_at) continue;
      const Timestamp resolved = *incident.resolved_at;
      if (quiet_adjusted(resolved + s_.followup_after) > now_) continue;
      const std::string key =
          fmt::format("reminder:incident:{}:followup:{}", incident.id, key_time(resolved));
      if (already(key)) continue;
      enqueue(incident, followup_message(incident), key);
    }
  }

 private:
  Timestamp at(date::local_days day, minutes time_of_day) const {
    // A time skipped by a daylight-saving change means the instant of the change.
    return date::floor<milliseconds>(
        zone_.to_sys(LocalMs{day} + time_of_day, date::choose::earliest));
  }

  date::local_days local_day(Timestamp t) const {
    return date::floor<date::days>(zone_.to_local(t));
  }

  // A time in quiet hours moves to their end.
  Timestamp quiet_adjusted(Timestamp t) const {
    if (!s_.quiet_hours) return t;
    const QuietHours& q = *s_.quiet_hours;
    const LocalMs local = zone_.to_local(t);
    const date::local_days day = date::floor<date::days>(local);
    const minutes time_of_day = date::floor<minutes>(local - day);
    if (!q.contains(time_of_day)) return t;
    const bool ends_tomorrow = q.start > q.end && time_of_day >= q.start;
    return std::max(t, at(ends_tomorrow ? day + date::days{1} : day, q.end));
  }

  // Overdue nudge k (k ≥ 1) of an item due on `due`, before quiet hours.
  Timestamp overdue_raw(date::local_days due, int k) const {
    const date::local_days first = due + date::days{1};
    if (s_.overdue_interval % hours{24} == hours{0}) {
      const auto step = date::days{s_.overdue_interval / hours{24}};
      return at(first + (k - 1) * step, s_.time_of_day);
    }
    return at(first, s_.time_of_day) + (k - 1) * s_.overdue_interval;
  }

  void action_reminder(const Incident& incident, const ActionItem& item, date::local_days due) {
    enum class Kind { kDueSoon, kDue, kOverdue };
    Kind kind{};
    Timestamp slot{};
    int k = latest_slot(now_, overdue_raw(due, 1), s_.overdue_interval,
                        [&](int i) { return quiet_adjusted(overdue_raw(due, i)); });
    if (k > 0) {
      kind = Kind::kOverdue;
      slot = overdue_raw(due, k);
    } else if (const Timestamp t = at(due, s_.time_of_day); quiet_adjusted(t) <= now_) {
      kind = Kind::kDue;
      slot = t;
    } else if (const Timestamp y = at(due - date::days{1}, s_.time_of_day);
               quiet_adjusted(y) <= now_) {
      kind = Kind::kDueSoon;
      slot = y;
    } else {
      return;
    }
    // A slot from before the item existed is not worth a message (one just created "due
    // today" is not reminded at once); the next slot will come.
    if (slot < item.created_at) return;
    if (item.snoozed_until) {
      if (quiet_adjusted(std::max(quiet_adjusted(slot), *item.snoozed_until)) > now_) return;
    }
    std::string key;
    switch (kind) {
      case Kind::kDueSoon:
        key = fmt::format("reminder:action:{}:due-soon:{}", item.id, *item.due);
        break;
      case Kind::kDue:
        key = fmt::format("reminder:action:{}:due:{}", item.id, *item.due);
        break;
      case Kind::kOverdue:
        key = fmt::format("reminder:action:{}:overdue:{}:{}", item.id, *item.due, k);
        break;
    }
    // Worded by the day it goes out: quiet hours may have moved it to the next day.
    const auto days_left = (due - local_day(now_)).count();
    std::string when;
    const char* icon = "⏰";
    if (days_left > 1) {
      when = fmt::format("is due in {} ({})", plural(days_left, "day"), *item.due);
    } else if (days_left == 1) {
      when = fmt::format("is due tomorrow ({})", *item.due);
    } else if (days_left == 0) {
      when = fmt::format("is due today ({})", *item.due);
    } else {
      when =
          fmt::format("is overdue: it was due {} ({} ago)", *item.due, plural(-days_left, "day"));
      icon = "⚠️";
    }
    const std::string_view p = s_.platform_traits.of(incident.channel.platform).prefix;
    OutgoingMessage m;
    const std::string who = item.owner ? mention(*item.owner) + ", action" : "Action";
    m.body.text = fmt::format("{} {} #{} of {} {}: {}", icon, who, item.seq,
                              incident_ref(incident.id), when, item.text);
    m.body.details.push_back(fmt::format("{} \"{}\"", incident_ref(incident.id), incident.title));
    if (!item.owner) {
      m.body.details.push_back("⚠️ It has no owner: an action item needs one.");
    }
    m.body.details.push_back(
        fmt::format("Done? Click \"Mark done\" or type `{}action done {}`.", p, item.seq));
    if (item.owner) m.notify = {*item.owner};
    const std::string id = std::to_string(item.id);
    m.buttons = {{"Mark done", "action.done", id}, {"Snooze 1 day", "action.snooze", id}};
    to_owner(incident, item.owner, std::move(m), key);
  }

  // Overdue by more than `escalate_after`: once per due date, to the postmortem
  // owner (who answers for the follow-up), else the commander.
  void escalation(const Incident& incident, const ActionItem& item, date::local_days due) {
    const Timestamp slot = at(due + date::days{1} + *s_.escalate_after, s_.time_of_day);
    if (quiet_adjusted(slot) > now_ || slot < item.created_at) return;
    if (item.snoozed_until && quiet_adjusted(*item.snoozed_until) > now_) return;
    const std::string key = fmt::format("reminder:action:{}:escalate:{}", item.id, *item.due);
    if (already(key)) return;
    const auto late = (local_day(now_) - due).count();
    const Person& accountable = postmortem_owner_of(incident);
    const std::string_view p = s_.platform_traits.of(incident.channel.platform).prefix;
    OutgoingMessage m;
    m.body.text = fmt::format("🚨 {}, action #{} of {} is {} overdue (due {}), owned by {}: {}",
                              mention(accountable), item.seq, incident_ref(incident.id),
                              plural(late, "day"), *item.due,
                              item.owner ? mention(*item.owner) : std::string("no one"), item.text);
    m.body.details = {
        fmt::format("{} \"{}\"", incident_ref(incident.id), incident.title),
        fmt::format(
            "Please agree a new date (`{0}action due {1} <date>`), a new owner (`{0}action "
            "assign {1} @owner`), or drop it with a reason (`{0}action drop {1} <reason>`).",
            p, item.seq)};
    m.notify = {accountable};
    if (item.owner && !(*item.owner == accountable)) m.notify.push_back(*item.owner);
    const std::string id = std::to_string(item.id);
    m.buttons = {{"Mark done", "action.done", id}};
    to_owner(incident, accountable, std::move(m), key);
  }

  void enqueue_digest(const Person& owner, std::vector<std::pair<Incident, ActionItem>>& items,
                      const std::string& key) {
    const date::local_days today = local_day(now_);
    auto due_day = [&](const ActionItem& item) -> std::optional<date::local_days> {
      return item.due ? parse_day(*item.due) : std::nullopt;
    };
    // Overdue first, then by due date (undated last), then by incident and number.
    std::sort(items.begin(), items.end(), [&](const auto& a, const auto& b) {
      const auto da = due_day(a.second), db = due_day(b.second);
      const bool oa = da && *da < today, ob = db && *db < today;
      if (oa != ob) return oa;
      if (da.has_value() != db.has_value()) return da.has_value();
      if (da && db && *da != *db) return *da < *db;
      return std::pair(a.second.incident_id, a.second.seq) <
             std::pair(b.second.incident_id, b.second.seq);
    });
    int overdue = 0;
    OutgoingMessage m;
    for (const auto& [incident, item] : items) {
      const auto day = due_day(item);
      const bool late = day && *day < today;
      if (late) ++overdue;
      m.body.details.push_back(fmt::format("{} {} #{} · {}: {}", late ? "⚠️" : "⬜",
                                           incident_ref(incident.id), item.seq,
                                           !item.due ? std::string("no due date")
                                           : late    ? fmt::format("overdue since {}", *item.due)
                                                     : "due " + *item.due,
                                           item.text));
    }
    const Incident& newest =
        std::max_element(items.begin(), items.end(), [](const auto& a, const auto& b) {
          return a.first.id < b.first.id;
        })->first;
    const std::string_view p = s_.platform_traits.of(newest.channel.platform).prefix;
    m.body.text = fmt::format("📋 Weekly digest for {}: {} open{}.", mention(owner),
                              plural(std::ssize(items), "action item"),
                              overdue > 0 ? fmt::format(", {} overdue", overdue) : "");
    m.body.details.push_back(
        fmt::format("`{0}action mine` lists them; `{0}action done N` in the incident's channel "
                    "closes one.",
                    p));
    m.notify = {owner};
    if (s_.delivery != ReminderDelivery::kChannel && can_direct(newest, owner)) {
      enqueue_direct(newest, owner, std::move(m), key);
    } else {
      enqueue(newest, std::move(m), key);
    }
  }

  bool can_direct(const Incident& incident, const Person& person) const {
    if (person.id.empty()) return false;
    return !s_.direct_platforms || s_.direct_platforms->count(incident.channel.platform) > 0;
  }

  // A message about `incident` for `person`, where the delivery setting says: the channel
  // (under `key`), the person directly (under key + ":direct"), or both. A person who
  // cannot be reached directly is told in the channel.
  void to_owner(const Incident& incident, const std::optional<Person>& person,
                OutgoingMessage message, const std::string& key) {
    const bool direct =
        s_.delivery != ReminderDelivery::kChannel && person && can_direct(incident, *person);
    const bool channel = !direct || s_.delivery == ReminderDelivery::kBoth;
    if (direct) {
      const std::string direct_key = key + ":direct";
      if (!already(direct_key)) enqueue_direct(incident, *person, message, direct_key);
    }
    if (channel && !already(key)) enqueue(incident, std::move(message), key);
  }

  OutgoingMessage followup_message(const Incident& incident) {
    const std::vector<ActionItem> items = tx_.actions(incident.id);
    const date::local_days today = local_day(now_);
    OutgoingMessage m;
    m.notify.push_back(incident.commander);
    int done = 0;
    int dropped = 0;
    for (const ActionItem& item : items) {
      const bool is_done = item.status == ActionStatus::kDone;
      const bool is_dropped = item.status == ActionStatus::kDropped;
      if (is_done) ++done;
      if (is_dropped) ++dropped;
      std::string status = is_done ? "done" : "open";
      if (is_dropped) status = "won't do: " + item.drop_reason.value_or("no reason given");
      if (item.status == ActionStatus::kOpen && item.due) {
        if (auto day = parse_day(*item.due); day && *day < today) status = "open, overdue";
      }
      m.body.details.push_back(fmt::format(
          "{} #{} {} · {} · {}: {}",
          is_done      ? "☑️"
          : is_dropped ? "🚫"
                       : "⬜",
          item.seq, item.owner ? mention(*item.owner) : std::string("no owner"),
          item.due ? "due " + *item.due : std::string("no due date"), status, item.text));
      if (item.status == ActionStatus::kOpen && item.owner &&
          std::none_of(m.notify.begin(), m.notify.end(),
                       [&](const Person& p) { return p == *item.owner; })) {
        m.notify.push_back(*item.owner);
      }
    }
    const std::string_view p = s_.platform_traits.of(incident.channel.platform).prefix;
    const std::string since = ago(now_ - *incident.resolved_at);
    if (items.empty()) {
      m.body.text =
          fmt::format("🔁 Follow-up review of {} \"{}\", resolved {} ago: it has no action items.",
                      incident_ref(incident.id), incident.title, since);
      m.body.details.push_back(fmt::format(
          "If the postmortem found something to fix, record it with `{}action <text> @owner due "
          "+7d #prevent`.",
          p));
    } else {
      m.body.text =
          fmt::format("🔁 Follow-up review of {} \"{}\", resolved {} ago: {} of {} done{}.",
                      incident_ref(incident.id), incident.title, since, done,
                      plural(std::ssize(items), "action item"),
                      dropped > 0 ? fmt::format(", {} dropped", dropped) : "");
      if (done + dropped < std::ssize(items)) {
        m.body.details.push_back(fmt::format(
            "Owners of open items: close them with `{}action done N`, or give them a new due "
            "date.",
            p));
      }
    }
    return m;
  }

  std::optional<Incident> incident_of(IncidentId id) {
    auto it = incidents_.find(id);
    if (it == incidents_.end()) it = incidents_.emplace(id, tx_.find_incident(id)).first;
    return it->second;
  }

  bool already(const std::string& key) { return tx_.find_outbox_by_key(key).has_value(); }

  void enqueue(const Incident& incident, OutgoingMessage message, const std::string& key) {
    enqueue_job(incident, incident.channel, JobKind::kPost, std::move(message), key);
  }

  void enqueue_direct(const Incident& incident, const Person& person, OutgoingMessage message,
                      const std::string& key) {
    ChannelRef to = incident.channel;
    to.channel = person.id;
    enqueue_job(incident, to, JobKind::kDirect, std::move(message), key);
  }

  void enqueue_job(const Incident& incident, const ChannelRef& to, JobKind kind,
                   OutgoingMessage message, const std::string& key) {
    if (s_.platforms && !s_.platforms->count(incident.channel.platform)) return;
    message.body.visibility = Reply::Visibility::kChannel;
    message.body.incident = incident.id;
    OutboxMessage out;
    out.channel = to;
    out.kind = kind;
    out.content = to_json(message);
    out.dedupe_key = key;
    out.created_at = now_;
    out.next_attempt_at = now_;
    tx_.enqueue(std::move(out));
    ++enqueued_;
    spdlog::debug("reminders: enqueued {}", key);
  }

  const ReminderSettings& s_;
  const date::time_zone& zone_;
  Transaction& tx_;
  const Timestamp now_;
  std::map<IncidentId, std::optional<Incident>> incidents_;
  int enqueued_ = 0;
};

}  // namespace

std::optional<ReminderDelivery> reminder_delivery_from_string(std::string_view text) {
  if (text == "channel") return ReminderDelivery::kChannel;
  if (text == "direct") return ReminderDelivery::kDirect;
  if (text == "both") return ReminderDelivery::kBoth;
  return std::nullopt;
}

std::string_view to_string(ReminderDelivery delivery) {
  switch (delivery) {
    case ReminderDelivery::kChannel:
      return "channel";
    case ReminderDelivery::kDirect:
      return "direct";
    case ReminderDelivery::kBoth:
      return "both";
  }
  return "channel";
}

bool QuietHours::contains(minutes time_of_day) const {
  if (start == end) return false;
  if (start < end) return time_of_day >= start && time_of_day < end;
  return time_of_day >= start || time_of_day < end;
}

ReminderPlanner::ReminderPlanner(Store& store, ReminderSettings settings)
    : store_(store), settings_(std::move(settings)) {
  if (settings_.zone == nullptr) settings_.zone = date::locate_zone("UTC");
  const auto day = minutes{24 * 60};
  if (settings_.time_of_day < minutes{0} || settings_.time_of_day >= day) {
    throw std::invalid_argument("reminder time of day must be within 00:00-23:59");
  }
  if (settings_.overdue_interval <= hours{0} || settings_.meeting_interval <= hours{0}) {
    throw std::invalid_argument("reminder intervals must be positive");
  }
  if (settings_.meeting_after < hours{0} || settings_.followup_after < std::chrono::days{0} ||
      settings_.followup_window < std::chrono::days{0}) {
    throw std::invalid_argument("reminder delays must not be negative");
  }
  if (settings_.digest_day && *settings_.digest_day > 6) {
    throw std::invalid_argument("the digest day must be 0 (Sunday) to 6 (Saturday)");
  }
  if (settings_.escalate_after && *settings_.escalate_after < std::chrono::days{0}) {
    throw std::invalid_argument("the escalation delay must not be negative");
  }
}

int ReminderPlanner::enqueue_due(Timestamp now) {
  int enqueued = 0;
  store_.write([&](Transaction& tx) {
    Run run(settings_, *settings_.zone, tx, now);
    run.action_reminders();
    run.meeting_reminders();
    run.followups();
    run.digests();
    enqueued = run.enqueued();
  });
  return enqueued;
}

std::optional<minutes> parse_time_of_day(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  auto digit = [&](std::size_t i) -> int {
    return text[i] >= '0' && text[i] <= '9' ? text[i] - '0' : -1;
  };
  const int h1 = digit(0), h2 = digit(1), m1 = digit(3), m2 = digit(4);
  if (h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0) return std::nullopt;
  const int h = h1 * 10 + h2, m = m1 * 10 + m2;
  if (h > 23 || m > 59) return std::nullopt;
  return minutes{h * 60 + m};
}

std::optional<QuietHours> parse_quiet_hours(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto start = parse_time_of_day(text.substr(0, dash));
  const auto end = parse_time_of_day(text.substr(dash + 1));
  if (!start || !end || *start == *end) return std::nullopt;
  return QuietHours{*start, *end};
}

std::string format_time_of_day(minutes time_of_day) {
  return fmt::format("{:02}:{:02}", time_of_day.count() / 60, time_of_day.count() % 60);
}

std::string to_string(const QuietHours& quiet) {
  return format_time_of_day(quiet.start) + "-" + format_time_of_day(quiet.end);
}

}  // namespace scribe
