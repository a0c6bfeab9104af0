#include "commands/action_items.h"

#include <algorithm>
#include <charconv>
#include <tuple>

#include <fmt/format.h>

namespace scribe::action_items {
namespace {

std::string owner_text(const std::optional<Person>& owner) {
  return owner ? "@" + owner->name : std::string();
}

std::string kind_text(ActionKind kind) {
  return kind == ActionKind::kNone ? std::string() : std::string(to_string(kind));
}

// "2026-12-01" as a local day; nullopt for anything else (a due date written by an older
// version or by hand).
std::optional<date::local_days> parse_day(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  const char* s = text.data();
  if (std::from_chars(s, s + 4, y).ptr != s + 4 || std::from_chars(s + 5, s + 7, m).ptr != s + 7 ||
      std::from_chars(s + 8, s + 10, d).ptr != s + 10) {
    return std::nullopt;
  }
  const date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return date::local_days{ymd};
}

}  // namespace

std::vector<ActionRevision> changes_between(const ActionItem& before, const ActionItem& after,
                                            const Person& by, Timestamp at) {
  std::vector<ActionRevision> out;
  const auto add = [&](std::string field, std::string was, std::string is) {
    if (was == is) return;
    ActionRevision r;
    r.action_id = after.id;
    r.seq = after.seq;
    r.field = std::move(field);
    r.before = std::move(was);
    r.after = std::move(is);
    r.changed_by = by;
    r.changed_at = at;
    out.push_back(std::move(r));
  };
  add("text", before.text, after.text);
  // An owner who is the same person under a new display name is no change.
  const bool same_owner = before.owner && after.owner && !before.owner->id.empty() &&
                          before.owner->id == after.owner->id;
  if (!same_owner) add("owner", owner_text(before.owner), owner_text(after.owner));
  add("due", before.due.value_or(""), after.due.value_or(""));
  add("kind", kind_text(before.kind), kind_text(after.kind));
  add("status", status_text(before), status_text(after));
  return out;
}

std::string describe(const ActionRevision& change) {
  const auto shown = [](const std::string& v) { return v.empty() ? std::string("(none)") : v; };
  if (change.field == "text") {
    return fmt::format("text \"{}\" → \"{}\"", change.before, change.after);
  }
  return fmt::format("{} {} → {}", change.field, shown(change.before), shown(change.after));
}

std::string status_text(const ActionItem& item) {
  if (item.status == ActionStatus::kDropped) {
    return item.drop_reason && !item.drop_reason->empty() ? "dropped: " + *item.drop_reason
                                                          : std::string("dropped");
  }
  return std::string(to_string(item.status));
}

namespace {

// "(@dave, due 2026-12-01, prevent)".
std::string particulars(const ActionItem& item) {
  return fmt::format(
      "({}, {}{})", item.owner ? "@" + item.owner->name : std::string("no owner"),
      item.due ? "due " + *item.due : std::string("no due date"),
      item.kind == ActionKind::kNone ? "" : ", " + std::string(to_string(item.kind)));
}

}  // namespace

std::string summary(const ActionItem& item) {
  return fmt::format("#{} {}", item.seq, particulars(item));
}

std::string tracker_text(const ActionItem& item) {
  if (!item.tracker_key) return "";
  return item.tracker_url.empty() ? *item.tracker_key
                                  : fmt::format("{} {}", *item.tracker_key, item.tracker_url);
}

std::string line(const ActionItem& item) {
  // The status in words as well as the icon: icons alone are easy to misread in a list.
  const std::string head =
      fmt::format("#{} {} {}", item.seq, to_string(item.status), particulars(item));
  const std::string tracked = item.tracker_key ? " · 🎫 " + tracker_text(item) : "";
  switch (item.status) {
    case ActionStatus::kDone:
      return fmt::format("☑️ {}: {}{}", head, item.text, tracked);
    case ActionStatus::kDropped:
      return fmt::format("🚫 {}: {} — won't do: {}{}", head, item.text,
                         item.drop_reason.value_or("no reason given"), tracked);
    case ActionStatus::kOpen:
      break;
  }
  return fmt::format("⬜ {}: {}{}", head, item.text, tracked);
}

std::optional<int> days_overdue(const ActionItem& item, date::local_days today) {
  if (item.status != ActionStatus::kOpen || !item.due) return std::nullopt;
  const auto day = parse_day(*item.due);
  if (!day || *day >= today) return std::nullopt;
  return (today - *day).count();
}

bool overdue(const ActionItem& item, date::local_days today) {
  return days_overdue(item, today).has_value();
}

void sort_for_owner(std::vector<ActionItem>& items, date::local_days today) {
  const auto key = [&](const ActionItem& a) {
    const std::optional<date::local_days> day = a.due ? parse_day(*a.due) : std::nullopt;
    const bool late = day && *day < today;
    // Overdue (0) before due (1) before undated (2); within each, the earliest day first.
    const int group = late ? 0 : day ? 1 : 2;
    const long days = day ? day->time_since_epoch().count() : 0;
    return std::make_tuple(group, days, a.incident_id, a.seq);
  };
  std::stable_sort(items.begin(), items.end(),
                   [&](const ActionItem& a, const ActionItem& b) { return key(a) < key(b); });
}

}  // namespace scribe::action_items
