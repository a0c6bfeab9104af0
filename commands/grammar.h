// The chat command grammar, shared by every platform: turns "incident start sev2 DB down"
// into a typed command, or into a usage error that says what was meant and how to
// write it. Parsing changes nothing; commands/handler.cpp executes the result.
#pragma once

#include <functional>
#include <optional>
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
struct CloseIncident {};
struct ReopenIncident {};
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
struct AddAction {
  std::string text;
  std::optional<std::string> owner;     // "@name"
  std::optional<std::string> due;       // YYYY-MM-DD, resolved from "+3d" etc.
  std::optional<std::string> due_note;  // e.g. "is in the past"
  ActionKind kind = ActionKind::kNone;
};
struct ListActions {};
struct SetActionStatus {
  int seq;
  ActionStatus status;
};
// Input that is not a command: `message` says what is wrong (with a suggestion where
// one is close), `usage` shows the right form.
struct UsageError {
  std::string message;
  std::string usage;
};

using Command =
    std::variant<StartIncident, ShowStatus, ChangeSeverity, ChangeCommander, AddNote, MarkMilestone,
                 ShowDraft, CloseIncident, ReopenIncident, ShowHelp, AddEvent, ListEvents,
                 EditEvent, DeleteEvent, AddAction, ListActions, SetActionStatus, UsageError>;

struct ParseContext {
  std::string_view prefix = "/";  // how users write commands here, for usage texts
  Timestamp now{};
  const date::time_zone* zone = nullptr;  // reads "14:05" and "+3d"; never null
};

Command parse(std::string_view command, std::string_view text, const ParseContext& context);

// The help text for one command word ("incident", "timeline", "action").
std::string usage(std::string_view command, std::string_view prefix);

}  // namespace scribe::grammar
