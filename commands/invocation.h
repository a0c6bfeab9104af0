// The platform-neutral shape of a chat command and of Scribe's answer to it.
// Adapters build an `Invocation` from a platform's command (a slash command, a room
// message) and turn the `Reply` back into their platform's format; nothing here knows any.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/model.h"

namespace scribe {

struct Invocation {
  ChannelRef channel;
  Person user;
  // "incident", "timeline" or "action": the command word without its prefix (the
  // platform's PlatformTraits::prefix).
  std::string command;
  // Everything after the command word. Mentions are already translated by the
  // adapter into "@name" tokens, with the people they name listed in `mentions`.
  std::string text;
  std::vector<Person> mentions;
  // When the platform saw the message (or, for slash commands, when Scribe received it).
  Timestamp received_at{};
  // The author's own time zone (an IANA name) where the platform keeps one per user and
  // the adapter knows it; backdated wall-clock times ("14:05") the author types are read
  // in it rather than in the channel's zone. Empty: read in the channel's zone.
  std::string author_zone;
  // Set when the platform keeps user zones but the adapter could not tell this author's
  // in time (not cached yet): the channel's zone is used, and the reply says so.
  bool author_zone_unknown = false;
};

// "@name": how replies mention a person.
inline std::string mention(const Person& p) { return "@" + p.name; }

// Appends `person` to `mentions` unless someone with the same id is there already, so
// each person named is listed once (Invocation::mentions).
inline void add_mention(std::vector<Person>& mentions, Person person) {
  for (const Person& p : mentions) {
    if (p.id == person.id) return;
  }
  mentions.push_back(std::move(person));
}

struct Reply {
  enum class Visibility { kChannel, kEphemeral };
  Visibility visibility = Visibility::kEphemeral;
  // One-line answer; plain text, `code` spans allowed.
  std::string text;
  // Further lines (lists, details), shown under `text`.
  std::vector<std::string> details;
  // A whole Markdown document (the draft), shown as a document by the adapter.
  std::optional<std::string> document;
  // An id the adapter may mention when it truncates `document` (e.g. "INC-7").
  std::optional<IncidentId> incident;
  // Nothing to send: the command was refused without an answer (a channel over its
  // command rate, after the first refusal of the run, on a platform where every reply
  // is public). Adapters send nothing for it.
  bool silent = false;
};

}  // namespace scribe
