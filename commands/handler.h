// CommandHandler: executes one chat command against the store and says what to answer.
// Each accepted change is committed before `handle` returns (before `handle_async`
// completes), so an adapter that acknowledges after it never acknowledges something that
// could be lost.
//
// How a command runs: `prepare` parses it and says what it needs of the store (Access);
// the work is a function of one Transaction, and the handler opens that transaction in
// one place (`transact`: Store::write for kWrite, Store::read for kRead, none for kNone),
// then wakes the outbox if the work enqueued anything. record_marked_message,
// defer_marked_message, press, post and join run through the same place. Commands never
// open transactions themselves, so the synchronous store can be replaced by a writer queue
// (run the work on the writer's thread, complete the caller when its batch is durable)
// without touching the commands or the endpoints that call `handle_async`.
//
// Limits (commands/limits.h): prepare refuses a command whose channel is over its rate or
// whose text is too long; the commands that add events, notes or action items refuse
// when the incident is full, inside their transaction. A refusal changes nothing.
//
// Threads: a CommandHandler is safe to use from any number of threads at once (the
// listener's threads, the outbox's sender thread through the fetchers). Its settings are
// immutable after construction; its only state outside the store is the rate limiter's
// buckets, which lock for themselves (see store.h for the store's rules).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "commands/alerts.h"
#include "commands/invocation.h"
#include "commands/limits.h"
#include "commands/outgoing.h"
#include "commands/platform.h"
#include "commands/publishing.h"
#include "commands/tracking.h"
#include "postmortem/review.h"
#include "postmortem/review_report.h"
#include "storage/store.h"

namespace date {
class time_zone;
}

namespace scribe {

class ChannelZoneCache;

struct HandlerOptions {
  // Platforms whose channels the outbox can post to. Where it can, the draft is posted to
  // the channel in full on resolution; elsewhere the reply carries as much as fits.
  std::set<std::string> posting_platforms;
  // Called after a command committed messages to the outbox, so they go out at once.
  std::function<void()> outbox_wake;
  // What each platform's adapter says about it: the command prefix of help texts, the
  // size of the draft's pieces.
  Platforms platforms;
  // Per-incident caps, command text length, per-channel command rate (commands/limits.h).
  CommandLimits limits;
  // The rate limiter's monotonic clock; injectable so tests move time by hand.
  RateLimiter::Clock rate_clock = &std::chrono::steady_clock::now;
  // The postmortem review (`/incident review`, the drafts' review section) and what
  // `/incident close` requires per severity.
  ReviewSettings review;
  CloseGateSettings close_gate;
  // An organisation's Markdown template for drafts (`draft.template`); empty: Scribe's own.
  std::shared_ptr<const DraftTemplate> draft_template;
  // The issue tracker an extension speaks to, if any (commands/tracking.h).
  TrackingSettings tracking;
  // Where postmortems are published, if anywhere (commands/publishing.h).
  PublishSettings publishing;
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
  // The message's permalink and its files and images, kept with the event (the adapter
  // extracts them; only http(s) URLs).
  std::vector<EventLink> links;
};

enum class MarkOutcome {
  kRecorded,
  kAlreadyRecorded,
  kNoIncident,
  kIncidentFull,  // the incident holds IncidentCaps::events already: not recorded
};

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

// What a piece of work needs of the store.
enum class Access {
  kNone,   // answered without it (help, usage errors)
  kRead,   // reads a consistent snapshot (status, lists, the draft)
  kWrite,  // changes it: committed durably before the answer, or not at all
};

// What a command's work produced inside its transaction.
struct CommandResult {
  Reply reply;
  bool enqueued = false;  // it wrote to the outbox: wake the outbox once committed
};

// One command, parsed and bound to a copy of its invocation, not yet run.
struct PreparedCommand {
  Access access = Access::kNone;
  // kNone: the answer, already known.
  std::optional<Reply> answer;
  // kRead / kWrite: the work, to be called once, inside one transaction of that access, on
  // whichever thread runs the transaction. It touches nothing but the transaction and
  // what it captured (the invocation, the handler's immutable settings); it throws only
  // what the store throws (then nothing of it may be committed).
  std::function<CommandResult(Transaction&)> work;
};

// How a command run through handle_async ended.
struct Completion {
  std::optional<Reply> reply;       // it ran; whatever it changed is durable
  std::optional<StoreError> error;  // the store failed; nothing was committed
};

class CommandHandler {
 public:
  // `zone` reads backdated wall-clock times ("14:05") and shows local dates; never null.
  CommandHandler(Store& store, const date::time_zone* zone, HandlerOptions options = {});

  // Parses `invocation` and binds it: no store access. Its one side effect is the rate
  // limit: it takes a token from the channel's bucket (a command over the rate, or with
  // too long a text, becomes an answer of kind kNone that says so). Never throws for bad
  // user input (that becomes an answer).
  PreparedCommand prepare(const Invocation& invocation) const;

  // prepare, then the work in its transaction, then the outbox woken if it enqueued.
  // Never throws for bad user input: that becomes a helpful ephemeral reply.
  // Throws StoreError when the store itself fails (the adapter answers 5xx).
  Reply handle(const Invocation& invocation);

  // The same, completion style: `done` is called exactly once, with the reply once it is
  // durable or with the store's failure, from the store's writer or reader thread (or on
  // the caller's thread for answers that need no store). It never blocks its caller, so
  // listener threads use it; `done` must not block. Anything but a StoreError out of the
  // work is a programming error: it is logged and `done` is dropped uncalled (an HTTP
  // responder it captured then answers 500).
  void handle_async(Invocation invocation, std::function<void(Completion)> done);

  // handle_async for a command the caller already prepared (prepare() counts against the
  // channel's command rate, so one invocation is prepared exactly once).
  void run_async(PreparedCommand prepared, std::function<void(Completion)> done);

  // One inbound delivery as one write transaction, completion style: the adapter's own
  // dedupe (Transaction::first_delivery) and whatever it runs through the *_in functions
  // below commit together or not at all. `work` returns whether it enqueued to the outbox
  // (then the outbox is woken once committed). `done` as for handle_async, with nullopt
  // once durable.
  void transact_async(std::function<bool(Transaction&)> work,
                      std::function<void(std::optional<StoreError>)> done);

  // The entry points' work inside a transaction the caller opened (transact_async). Each
  // says whether it enqueued to the outbox where that is not evident.
  CommandResult run_in(Transaction& tx, const Invocation& invocation) const;

  // Why the store is known not to record now (Store::trouble), empty when it is not: for
  // the adapters' "nothing was recorded" answers, and to log a failed request only when the
  // store has not already logged its episode.
  std::string store_trouble() const { return store_.trouble(); }
  MarkOutcome record_marked_in(Transaction& tx, const MarkedMessage& message) const;
  MarkOutcome defer_marked_in(Transaction& tx, const MarkedMessage& message,
                              const std::string& content) const;  // enqueued when kRecorded
  PressOutcome press_in(Transaction& tx, const ButtonPress& press) const;  // enqueued when
                                                                           // kDone/kSnoozed
  void post_in(Transaction& tx, const ChannelRef& channel, const OutgoingMessage& message,
               Timestamp at, const std::string& dedupe_key = {}) const;  // always enqueues
  void join_in(Transaction& tx, const ChannelRef& channel, Timestamp at,
               const std::string& dedupe_key = {}) const;  // always enqueues
  // A tracker's report on an issue (trackers/: a webhook, the refresh): the item it tracks
  // is marked done or reopened with the tracker as the source, and when that changed it,
  // its incident's channel is told where the outbox can post there (enqueued then).
  TrackerOutcome tracker_state_in(Transaction& tx, const TrackerReport& report) const;

  // An alert (alerts/: a monitoring webhook) for its channel (commands/alerts.h): on the
  // incident's timeline at the alert's own time, or held for the next incident declared
  // there; an AlertDeclaration declares that incident first, through `/incident start` as
  // the sender, its announcement enqueued where the outbox can post (kDeclared). A repeat
  // of `key` changes nothing.
  AlertOutcome alert_in(Transaction& tx, const AlertReport& alert) const;

  // A publisher (publish/) wrote `publication` (saved here). The first time for its
  // destination, the page's address joins the postmortem's supporting links (so the page
  // itself, republished at once, carries it) and the incident's channel is told where the
  // outbox can post there; `where` is the destination as people read it ("Confluence").
  // Returns whether it enqueued.
  bool published_in(Transaction& tx, const Publication& publication, std::string_view where,
                    Timestamp at) const;

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
  // a reaction without its message): writes a durable fetch job (JobKind::kFetch) for the
  // message's channel to the outbox; the platform's fetcher reads the message and records
  // it with record_marked_message. So the platform's event can be acknowledged at once and
  // nothing is lost. `content` is that fetcher's own description of the job.
  MarkOutcome defer_marked_message(const MarkedMessage& message, const std::string& content);

  // Posts `message` to `channel` through the outbox (JobKind::kUpdate when it `replaces`
  // an earlier one, else kPost): for platforms whose replies cannot travel in the HTTP
  // answer (Matrix). A non-empty `dedupe_key` makes a repeat a no-op. Committed before it
  // returns.
  void post(const ChannelRef& channel, const OutgoingMessage& message, Timestamp at,
            const std::string& dedupe_key = {});

  // Queues a durable job to join `channel` (the bot was invited to it). A non-empty
  // `dedupe_key` makes a repeat a no-op. Committed before it returns.
  void join(const ChannelRef& channel, Timestamp at, const std::string& dedupe_key = {});

  // Commands refused by each limit since start (for /metrics).
  const LimitCounters& refusals() const { return *refused_; }

 private:
  // The one place that opens a transaction: runs `work` in Store::write (kWrite) or
  // Store::read (kRead), returns its result once committed, and wakes the outbox when
  // `enqueued(result)` says the work wrote to it.
  template <typename Result>
  Result transact(Access access, const std::function<Result(Transaction&)>& work,
                  bool (*enqueued)(const Result&));
  void wake_outbox() const;
  // The refusal when `invocation` is over the channel's rate (taking a token when it is
  // not) or its text is too long.
  std::optional<Reply> over_limits(const Invocation& invocation) const;

  Store& store_;
  const date::time_zone* zone_;
  HandlerOptions options_;
  std::unique_ptr<RateLimiter> rate_limiter_;
  std::unique_ptr<LimitCounters> refused_;    // outlives the work closures that count into it
  std::shared_ptr<const Reviewer> reviewer_;  // compiled from options_.review
  // Each channel's zone as last read from the store, so prepare parses with it; the work
  // reads the store's own and parses again (see prepare).
  std::shared_ptr<ChannelZoneCache> zones_;
};

}  // namespace scribe
