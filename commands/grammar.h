// The chat command grammar, shared by every platform: turns "incident start sev2 DB down"
// into a typed command, or into a usage error that says what was meant and how to
// write it. Parsing changes nothing; commands/handler.cpp executes the result.
//
// Rules that keep a mistyped command from being recorded as text:
// - A `/timeline` or `/action` text whose first word is a subcommand that takes a number
//   (timeline: edit, delete; action: done, reopen, edit, assign, due, kind, drop) is that
//   subcommand: a missing or invalid number ("-1", "0", "2.5", "1e3", "x", one too large
//   for an int) is a UsageError, never an event or item. Words without arguments (list,
//   mine, help) are subcommands only when they stand alone ("list of hosts" is text).
// - Text wholly in double quotes ("…" or “…”) is taken as written, without the quotes:
//   the way to start an event or item with a subcommand word (`/action "drop the old
//   index" @bob`), or to end an item's text with an @mention, #tag or `due`.
// - Numbers are "N" or "#N", 1 to INT_MAX. Severities are sev1-sev4 ("sev-2", "SEV2", "2").
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "commands/time_parse.h"
#include "storage/model.h"

namespace scribe::grammar {

struct StartIncident {
  std::optional<Severity> severity;  // absent: the default, and the reply says so
  std::string title;
};
struct ShowStatus {};
struct ChangeSeverity {
  Severity severity;
};
struct ChangeCommander {
  std::string mention;  // "@name", as the adapter wrote it
};
struct AddNote {
  NoteSection section;
  std::string text;
};
// `/incident mitigated|resolved [time] [text]`.
struct MarkMilestone {
  EventKind kind;  // kMitigated or kResolved
  std::optional<TimeOk> when;
  std::string text;
};
struct ShowDraft {};
// `/incident close` and `/incident close anyway <reason>` (over the close gate's objections).
struct CloseIncident {
  bool anyway = false;
  std::string reason;
};
// `/incident review`: the review findings, to the caller only.
struct ShowReview {};
// `/incident trends [span]`: trends across incidents (postmortem/trends.h), to the caller.
// `/incident related`: earlier incidents with the same cause (postmortem/recurrence.h).
struct ShowRelated {};
struct ShowTrends {
  std::chrono::days since{90};
};
// `/incident review request`: the postmortem goes from draft to in review.
struct RequestReview {};
// `/incident approve`: an approval by someone other than the commander and postmortem owner.
struct ApprovePostmortem {};
// `/incident owner @x`: the postmortem owner.
struct SetPostmortemOwner {
  std::string mention;  // "@name"
};
struct ReopenIncident {};
// `/incident tz`: the channel's time zone and who set it.
struct ShowChannelZone {};
// `/incident tz <Area/City>`: the channel's time zone, already checked against the tz
// database (an unknown name is a UsageError).
struct SetChannelZone {
  std::string zone;  // the database's own spelling
};
struct ShowHelp {
  std::string command;  // "incident", "timeline", "action"
};
struct AddEvent {
  EventKind kind = EventKind::kNote;
  std::optional<TimeOk> when;  // absent: the time of the message
  std::string text;
};
struct ListEvents {};
struct EditEvent {
  int seq;
  std::optional<EventKind> kind;  // a new #tag, if given
  std::optional<TimeOk> when;     // a new time, if given
  std::string text;
};
struct DeleteEvent {
  int seq;
};
// What `/action <text> …` and `/action edit N …` say about an item. Owner, due date and
// kind are read from the words after the text, in any order (and an owner also from the
// first word); whatever of them is written but not understood is a UsageError, never text.
struct ActionFields {
  std::string text;                     // empty only in an edit that changes other fields
  std::optional<std::string> owner;     // "@name"
  std::optional<std::string> due;       // YYYY-MM-DD, resolved from "+3d" etc.
  std::optional<std::string> due_note;  // e.g. "due date 2026-11-01 is already past"
  ActionKind kind = ActionKind::kNone;  // one kind per item, after Google's practice
};
struct AddAction : ActionFields {};
struct ListActions {};
// `/action done N` and `/action reopen N` (reopen also revives a dropped item).
struct SetActionStatus {
  int seq;
  ActionStatus status;
};
// `/action edit N <text> [@owner] [due …] [#kind]`: changes what is given.
struct EditAction : ActionFields {
  int seq = 0;
};
struct AssignAction {
  int seq;
  std::string owner;  // "@name"
};
struct SetActionDue {
  int seq;
  std::string due;  // YYYY-MM-DD
  std::optional<std::string> due_note;
};
struct SetActionKind {
  int seq;
  ActionKind kind;
};
// `/action drop N <reason>`: "won't do", with the reason kept.
struct DropAction {
  int seq;
  std::string reason;
};
// `/action track N`: an issue for the item in the configured issue tracker.
struct TrackAction {
  int seq;
};
// `/action mine`: the caller's open items across all incidents.
struct ListMyActions {};
// Input that is not a command: `message` says what is wrong (with a suggestion where
// one is close), `usage` shows the right form.
struct UsageError {
  std::string message;
  std::string usage;
};

using Command =
    std::variant<StartIncident, ShowStatus, ChangeSeverity, ChangeCommander, AddNote, MarkMilestone,
                 ShowDraft, CloseIncident, ShowReview, ShowTrends, ShowRelated, RequestReview,
                 ApprovePostmortem, SetPostmortemOwner, ReopenIncident, ShowChannelZone,
                 SetChannelZone, ShowHelp, AddEvent, ListEvents, EditEvent, DeleteEvent, AddAction,
                 ListActions, SetActionStatus, EditAction, AssignAction, SetActionDue,
                 SetActionKind, DropAction, TrackAction, ListMyActions, UsageError>;

struct ParseContext {
  std::string_view prefix = "/";  // how users write commands here, for usage texts
  Timestamp now{};
  const date::time_zone* zone = nullptr;  // reads "14:05" and "+3d"; never null
  // The people the adapter found mentioned (Invocation::mentions): a name with spaces
  // ("@Dave Smith") is one owner, not an owner and a word of text.
  std::span<const Person> mentions;
};

// Due dates more than this far back are a typo, not a plan; a little back is allowed
// (with a note) for items recorded after the fact.
inline constexpr std::chrono::days kMaxDuePast{30};
// Due dates further ahead than this many years are refused.
inline constexpr int kMaxDueYearsAhead = 5;

Command parse(std::string_view command, std::string_view text, const ParseContext& context);

// The help text for one command word ("incident", "timeline", "action").
std::string usage(std::string_view command, std::string_view prefix);

}  // namespace scribe::grammar
