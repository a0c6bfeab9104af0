// The life of an action item after it is added: what a change to it records in the audit
// trail, how an item and its history read in chat, and which of a person's items need
// attention first. Pure functions over model values; the handler runs them inside its
// transaction, so none of this touches the store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <date/date.h>

#include "storage/model.h"

namespace scribe::action_items {

// The audit-trail entries for the change from `before` to `after`: one per field that
// differs (text, owner, due, kind, status), empty when nothing changed. Snoozing is not a
// change of the item and records nothing.
std::vector<ActionRevision> changes_between(const ActionItem& before, const ActionItem& after,
                                            const Person& by, Timestamp at);

// "due 2026-12-01 → 2026-12-15", "owner (none) → @dave", "status open → dropped (dup of #2)".
std::string describe(const ActionRevision& change);

// "open", "done", "dropped: <reason>".
std::string status_text(const ActionItem& item);

// "#3 (@dave, due 2026-12-01, prevent)".
std::string summary(const ActionItem& item);

// "⬜ #3 open (@dave, due 2026-12-01, prevent): text", "☑️ #3 done (…): text",
// "🚫 #3 dropped (…): text — won't do: <reason>".
std::string line(const ActionItem& item);

// "OPS-12 https://jira.example.com/browse/OPS-12"; "" for an item without an issue.
std::string tracker_text(const ActionItem& item);

// Whether an open item's due date (a local calendar day) is before `today`.
bool overdue(const ActionItem& item, date::local_days today);

// Days from `due` to `today` for an overdue item; nullopt for one that is not.
std::optional<int> days_overdue(const ActionItem& item, date::local_days today);

// Orders a person's open items: overdue first (longest overdue first), then by due date,
// then those without one; ties by incident and number.
void sort_for_owner(std::vector<ActionItem>& items, date::local_days today);

}  // namespace scribe::action_items
