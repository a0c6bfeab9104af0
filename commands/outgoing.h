// OutgoingMessage: what Scribe posts on its own initiative (the draft after resolution,
// reminders), platform-neutral. It is stored in the outbox as JSON and rendered by the
// platform's adapter only when it is delivered.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/invocation.h"

namespace scribe {

// The actions of the buttons Scribe puts under action-item reminders; their value is the
// action item's global id (ActionItem::id).
inline constexpr std::string_view kActionDone = "action.done";
inline constexpr std::string_view kActionSnooze = "action.snooze";

// A button under a message ("Mark done"); the adapter maps a click back to `action`.
struct Button {
  std::string label;
  std::string action;  // "action.done", "action.snooze"
  std::string value;   // what the action applies to, e.g. an action item's id
  bool operator==(const Button&) const = default;
};

struct OutgoingMessage {
  Reply body;                   // text, details and an optional Markdown document
  std::vector<Button> buttons;  // shown under the message
  std::vector<Person> notify;   // people the message is addressed to (mentioned)
  // The platform's id of an earlier message (Slack ts) that this one replaces in place
  // (Slack: chat.update), e.g. a reminder whose button was clicked. Unset: a new message.
  std::optional<std::string> replaces;
};

std::string to_json(const OutgoingMessage& message);
// Throws std::invalid_argument on content that is not an outgoing message.
OutgoingMessage outgoing_from_json(std::string_view json);

}  // namespace scribe
