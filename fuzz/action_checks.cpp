#include "fuzz/action_checks.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <type_traits>
#include <variant>

#include <date/date.h>
#include <date/tz.h>

#include "fuzz/fuzz_support.h"

namespace scribe::fuzz {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The first word as the grammar splits words: leading white space of any kind, then up to
// a space, tab or line break.
std::string_view first_word(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  const auto end = s.find_first_of(" \t\r\n");
  return s.substr(0, end);
}

bool only_word(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s.find_first_of(" \t\r\n") == std::string_view::npos;
}

std::string day_text(date::local_days d) { return date::format("%F", date::year_month_day{d}); }

void check_owner(const std::string& owner, const grammar::ParseContext& context,
                 std::string_view text) {
  FUZZ_CHECK(owner.size() > 1 && owner.front() == '@', text);
  const std::string name = lower(std::string_view(owner).substr(1));
  FUZZ_CHECK(name != "here" && name != "channel" && name != "everyone", text);
  FUZZ_CHECK(std::string_view(".,;:!?").find(owner.back()) == std::string_view::npos, text);
  if (owner.find_first_of(" \t\r\n") != std::string::npos) {
    // Only a mentioned person's name may hold spaces.
    FUZZ_CHECK(std::any_of(context.mentions.begin(), context.mentions.end(),
                           [&](const Person& p) { return owner == "@" + p.name; }),
               text);
  }
}

void check_due(const std::string& due, const std::optional<std::string>& note,
               const grammar::ParseContext& context, std::string_view text) {
  FUZZ_CHECK(is_date(due), text);
  const date::local_days today =
      date::floor<date::days>(date::make_zoned(context.zone, context.now).get_local_time());
  const std::string earliest = day_text(today - date::days{grammar::kMaxDuePast.count()});
  // Four-digit years compare as text.
  FUZZ_CHECK(due >= earliest, text);
  const date::year_month_day ymd{today};
  const date::year_month_day exact_limit = ymd + date::years{grammar::kMaxDueYearsAhead};
  const date::local_days limit =
      exact_limit.ok() ? date::local_days{exact_limit}
                       : date::local_days{exact_limit.year() / exact_limit.month() / date::last};
  FUZZ_CHECK(due <= day_text(limit), text);
  FUZZ_CHECK(note.has_value() == (due < day_text(today)), text);
}

}  // namespace

bool is_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  const auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const date::year_month_day ymd{date::year{num(0, 4)},
                                 date::month{static_cast<unsigned>(num(5, 2))},
                                 date::day{static_cast<unsigned>(num(8, 2))}};
  return ymd.ok();
}

void check_action(const grammar::Command& command, std::string_view text,
                  const grammar::ParseContext& context) {
  static constexpr std::array<std::string_view, 7> kNumbered = {"done", "reopen", "edit", "assign",
                                                                "due",  "kind",   "drop"};
  const std::string word = lower(first_word(text));
  const bool numbered = std::find(kNumbered.begin(), kNumbered.end(), word) != kNumbered.end();
  if (numbered) {
    FUZZ_CHECK(!std::holds_alternative<grammar::AddAction>(command), text);
  }
  if (only_word(text)) {
    if (word == "list") FUZZ_CHECK(std::holds_alternative<grammar::ListActions>(command), text);
    if (word == "mine") FUZZ_CHECK(std::holds_alternative<grammar::ListMyActions>(command), text);
    if (word == "help" || word.empty()) {
      FUZZ_CHECK(std::holds_alternative<grammar::ShowHelp>(command), text);
    }
  }
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, grammar::UsageError>) {
          FUZZ_CHECK(!c.message.empty() && !c.usage.empty(), text);
        } else if constexpr (std::is_same_v<T, grammar::ShowHelp>) {
          FUZZ_CHECK(c.command == "action", text);
        } else if constexpr (std::is_same_v<T, grammar::ListActions> ||
                             std::is_same_v<T, grammar::ListMyActions>) {
          FUZZ_CHECK(only_word(text), text);
        } else if constexpr (std::is_same_v<T, grammar::AddAction> ||
                             std::is_same_v<T, grammar::EditAction>) {
          if constexpr (std::is_same_v<T, grammar::AddAction>) {
            FUZZ_CHECK(!c.text.empty(), text);
          } else {
            FUZZ_CHECK(word == "edit" && c.seq >= 1, text);
            FUZZ_CHECK(!c.text.empty() || c.owner || c.due || c.kind != ActionKind::kNone, text);
          }
          if (c.owner) check_owner(*c.owner, context, text);
          if (c.due) {
            check_due(*c.due, c.due_note, context, text);
          } else {
            FUZZ_CHECK(!c.due_note, text);
          }
        } else if constexpr (std::is_same_v<T, grammar::SetActionStatus>) {
          FUZZ_CHECK(c.seq >= 1, text);
          FUZZ_CHECK((word == "done" && c.status == ActionStatus::kDone) ||
                         (word == "reopen" && c.status == ActionStatus::kOpen),
                     text);
        } else if constexpr (std::is_same_v<T, grammar::AssignAction>) {
          FUZZ_CHECK(word == "assign" && c.seq >= 1, text);
          check_owner(c.owner, context, text);
        } else if constexpr (std::is_same_v<T, grammar::SetActionDue>) {
          FUZZ_CHECK(word == "due" && c.seq >= 1, text);
          check_due(c.due, c.due_note, context, text);
        } else if constexpr (std::is_same_v<T, grammar::SetActionKind>) {
          FUZZ_CHECK(word == "kind" && c.seq >= 1 && c.kind != ActionKind::kNone, text);
        } else if constexpr (std::is_same_v<T, grammar::DropAction>) {
          FUZZ_CHECK(word == "drop" && c.seq >= 1 && !c.reason.empty(), text);
        } else {
          invariant_failed("/action parses to an action command", text);
        }
      },
      command);
}

}  // namespace scribe::fuzz
