// The promises of the action-item grammar (commands/grammar.h), checked on what
// grammar::parse made of one `/action` text. Shared by the grammar and action_grammar
// targets.
#pragma once

#include <string_view>

#include "commands/grammar.h"

namespace scribe::fuzz {

// Aborts (see FUZZ_CHECK) when `command`, parsed from `/action <text>` in `context`,
// breaks a promise:
// - a text whose first word is a subcommand that takes a number is that subcommand (or a
//   UsageError), never an item; list, mine and help alone are those subcommands;
// - numbers are 1 or more; an item or an edit says something; a drop has a reason;
// - an owner is "@name": one word (or a mentioned person's name with spaces), not @here,
//   @channel or @everyone, no trailing punctuation;
// - a due date is a calendar date YYYY-MM-DD from kMaxDuePast before today (in the zone)
//   to kMaxDueYearsAhead years after it, with a note exactly when it is already past;
// - a kind is one of the four; an error says what is wrong and how to write it.
void check_action(const grammar::Command& command, std::string_view text,
                  const grammar::ParseContext& context);

// "YYYY-MM-DD" naming a day of the calendar.
bool is_date(std::string_view s);

}  // namespace scribe::fuzz
