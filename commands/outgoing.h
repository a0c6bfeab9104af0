// OutgoingMessage: what Scribe posts on its own initiative (the draft after resolution,
// reminders), platform-neutral. It is stored in the outbox as JSON and rendered by the
// platform's adapter only when it is delivered.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/invocation.h"
#include "util/parsed.h"

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
  // Text, details and an optional Markdown document. Posted to the channel unless the
  // visibility says ephemeral: then platforms without private messages (Matrix) post it as
  // a quieter notice.
  Reply body = to_channel();
  std::vector<Button> buttons;  // shown under the message
  std::vector<Person> notify;   // people the message is addressed to (mentioned)
  // The platform's id of an earlier message (Slack ts) that this one replaces in place
  // (Slack: chat.update), e.g. a reminder whose button was clicked. Unset: a new message.
  std::optional<std::string> replaces;

 private:
  static Reply to_channel() {
    Reply r;
    r.visibility = Reply::Visibility::kChannel;
    return r;
  }
};

// What a thread reply whose first message could not be posted (given up for good) says
// first: it is posted to the channel on its own, and must not read as if it were a
// message of its own. Deliverers call mark_thread_parent_lost for such a reply.
inline constexpr std::string_view kThreadParentLostMarker =
    "(reply to a message that could not be posted)";
void mark_thread_parent_lost(OutgoingMessage& message);

// Everything a deliverer needs, as JSON: {"text", "details", "document", "incident",
// "visibility": "channel"|"ephemeral", "buttons", "notify", "replaces"?}.
std::string to_json(const OutgoingMessage& message);
// The message back; an error for content that is not an outgoing message. A missing
// "visibility" (rows written before it was stored) reads as the channel.
Parsed<OutgoingMessage> outgoing_from_json(std::string_view json);

}  // namespace scribe
