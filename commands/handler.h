// CommandHandler: executes one chat command against the store and says what to answer.
// Each accepted change is committed before `handle` returns, so an adapter that
// acknowledges after `handle` never acknowledges something that could be lost.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "commands/invocation.h"
#include "storage/store.h"

namespace date {
class time_zone;
}

namespace scribe {

struct HandlerOptions {
  // Platforms whose channels the outbox can post to. Where it can, the draft is posted to
  // the channel in full on resolution; elsewhere the reply carries as much as fits.
  std::set<std::string> posting_platforms;
  // Called after a command committed messages to the outbox, so they go out at once.
  std::function<void()> outbox_wake;
};

// A chat message someone marked for the timeline (Slack: pinned it, or reacted with 📌).
struct MarkedMessage {
  ChannelRef channel;
  Person author;           // who wrote the message
  Person marked_by;        // who pinned it or reacted
  Timestamp written_at;    // the message's own time: the event's time
  std::string message_id;  // the platform's id of the message (Slack ts)
  std::string text;
  Timestamp received_at;
};

enum class MarkOutcome { kRecorded, kAlreadyRecorded, kNoIncident };

// A click on one of the buttons under Scribe's messages (see commands/outgoing.h), as the
// adapter saw it.
struct ButtonPress {
  ChannelRef channel;      // where the message with the button is
  Person user;             // who clicked
  std::string action;      // Button::action: kActionDone, kActionSnooze
  std::string value;       // Button::value: the action item's global id (ActionItem::id)
  std::string message_id;  // the platform's id of the message the button is on (Slack ts)
  Timestamp received_at{};
};

enum class PressOutcome {
  kDone,           // the item is now done
  kSnoozed,        // the item is snoozed for kSnoozeFor
  kAlreadyDone,    // nothing to do: the item was done before
  kDropped,        // "Snooze" on an item dropped since: nothing to snooze (Mark done still works)
  kUnknownAction,  // not a button of Scribe's: ignored
  kNoSuchItem,     // the value names no action item
  kOtherChannel,   // the item belongs to an incident of another channel: refused
};
std::string_view to_string(PressOutcome outcome);

// How long "Snooze 1 day" holds an action item's reminders back.
inline constexpr std::chrono::hours kSnoozeFor{24};

class CommandHandler {
 public:
  // `zone` reads backdated wall-clock times ("14:05") and shows local dates; never null.
  CommandHandler(Store& store, const date::time_zone* zone, HandlerOptions options = {});

  // Never throws for bad user input: that becomes a helpful ephemeral reply.
  // Throws StoreError when the store itself fails (the adapter answers 5xx).
  Reply handle(const Invocation& invocation);

  // Adds a marked message to the channel's incident as a timeline event with the
  // message's own time and author. The same message marked again (pinned twice, pinned
  // and reacted to) is one event. Committed before it returns.
  MarkOutcome record_marked_message(const MarkedMessage& message);

  // Carries out a button click on an action item's reminder. "Mark done" marks the item
  // done by the clicking user; "Snooze 1 day" sets its snoozed_until to received_at +
  // kSnoozeFor. Either way the message the button is on is replaced (OutgoingMessage::
  // replaces = message_id) by one saying what happened, enqueued to the outbox in the same
  // transaction, and the outbox is woken. Only an item of an incident in the press's own
  // channel can be changed; a refusal, an item already done or an unknown action changes
  // nothing. Committed before it returns; throws StoreError when the store fails.
  PressOutcome press(const ButtonPress& press);

  // For a marked message whose text must first be fetched from the platform (Slack sends
  // a reaction without its message): writes a durable fetch job to the outbox, for the
  // deliverer of `fetch_platform`, which fetches the message and records it with
  // record_marked_message. So the platform's event can be acknowledged at once and
  // nothing is lost. `content` is that deliverer's own description of the job.
  // Posts `message` to `channel` through the outbox: for platforms whose replies cannot
  // travel in the HTTP answer (Matrix), and for platform chores (joining a room). A
  // non-empty `dedupe_key` makes a repeat a no-op. Committed before it returns.
  void post(const ChannelRef& channel, const std::string& content, Timestamp at,
            const std::string& dedupe_key = {});

  MarkOutcome defer_marked_message(const MarkedMessage& message, const std::string& fetch_platform,
                                   const std::string& content);

 private:
  Store& store_;
  const date::time_zone* zone_;
  HandlerOptions options_;
};

}  // namespace scribe
