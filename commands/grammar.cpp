#include "commands/grammar.h"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include "commands/suggest.h"
#include "util/strings.h"

namespace scribe::grammar {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Takes the next whitespace-separated word off the front of `rest`; `rest` keeps the
// remainder verbatim (so free text keeps its own spacing).
std::string_view take_word(std::string_view& rest) {
  rest = trim(rest);
  std::size_t end = 0;
  while (end < rest.size() && !is_space(rest[end])) ++end;
  std::string_view word = rest.substr(0, end);
  rest = trim(rest.substr(end));
  return word;
}

std::string_view peek_word(std::string_view rest) { return take_word(rest); }

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  while (!trim(s).empty()) words.push_back(take_word(s));
  return words;
}

std::optional<int> parse_number(std::string_view s) {
  if (!s.empty() && s.front() == '#') s.remove_prefix(1);
  int n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || ptr != s.data() + s.size() || n <= 0) return std::nullopt;
  return n;
}

// "#0", "-1", "007": written as a number, whether or not a valid one.
bool looks_like_number(std::string_view s) {
  if (!s.empty() && (s.front() == '#' || s.front() == '-')) s.remove_prefix(1);
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates,
                         std::string_view prefix_for_suggestion) {
  if (auto match = closest_match(word, candidates)) {
    return fmt::format(" Did you mean `{}{}`?", prefix_for_suggestion, *match);
  }
  return {};
}

// --- /timeline tags -------------------------------------------------------------------

constexpr std::array<std::string_view, 5> kEventTags = {"detected", "alert", "action", "comms",
                                                        "impact"};

struct TagRead {
  std::optional<EventKind> kind;
  std::optional<std::string> error;
};

// A word starting with '#' is a tag when it names one, an error when it is a near miss
// of one ("#detcted"), and ordinary text otherwise ("#4512 ticket opened").
TagRead read_event_tag(std::string_view word) {
  if (word.size() < 2 || word.front() != '#') return {};
  const std::string name = lower(word.substr(1));
  for (auto tag : kEventTags) {
    if (name == tag) return {event_kind_from_string(tag), std::nullopt};
  }
  if (name == "detect" || name == "detection") return {EventKind::kDetected, std::nullopt};
  if (auto match = closest_match(name, kEventTags)) {
    return {std::nullopt, fmt::format("Unknown tag `{}`. Did you mean `#{}`?", word, *match)};
  }
  return {};
}

struct Leading {
  std::optional<EventKind> kind;
  std::optional<TimeOk> when;
  std::string text;
  std::optional<std::string> error;
};

// Reads an optional time and an optional #tag, in either order, off the front of `rest`.
Leading read_time_and_tag(std::string_view rest, const ParseContext& ctx) {
  Leading out;
  for (int i = 0; i < 2; ++i) {
    std::string_view word = peek_word(rest);
    if (word.empty()) break;
    if (!out.kind && word.front() == '#') {
      TagRead tag = read_event_tag(word);
      if (tag.error) {
        out.error = tag.error;
        return out;
      }
      if (tag.kind) {
        out.kind = tag.kind;
        take_word(rest);
        continue;
      }
      break;
    }
    if (!out.when) {
      TimeParse t = parse_event_time(word, ctx.now, *ctx.zone);
      if (auto* err = std::get_if<TimeError>(&t)) {
        out.error = err->message;
        return out;
      }
      if (auto* ok = std::get_if<TimeOk>(&t)) {
        out.when = *ok;
        take_word(rest);
        continue;
      }
    }
    break;
  }
  out.text = std::string(trim(rest));
  return out;
}

// --- usage texts ------------------------------------------------------------------------

std::string incident_usage(std::string_view p) {
  return fmt::format(
      "`{0}incident start [sev1-sev4] <title>` declare an incident in this channel\n"
      "`{0}incident status` severity, roles, durations, last events, open actions\n"
      "`{0}incident sev <sev1-sev4>` · `{0}incident commander @user`\n"
      "`{0}incident summary|impact|cause|why|went-well|went-wrong|lucky|lesson <text>` "
      "postmortem notes\n"
      "`{0}incident mitigated [HH:MM] [text]` · `{0}incident resolved [HH:MM] [text]` "
      "(resolved posts the draft)\n"
      "`{0}incident draft` the postmortem draft so far\n"
      "`{0}incident close` postmortem reviewed · `{0}incident reopen` · `{0}incident help`",
      p);
}

std::string timeline_usage(std::string_view p) {
  return fmt::format(
      "`{0}timeline <text>` an event now\n"
      "`{0}timeline 14:05 <text>` · `{0}timeline -15m <text>` · "
      "`{0}timeline 2026-11-20T14:05Z <text>` an earlier event\n"
      "`{0}timeline #detected|#alert|#action|#comms|#impact <text>` a typed event\n"
      "`{0}timeline list` · `{0}timeline edit N <text>` · `{0}timeline delete N`",
      p);
}

std::string action_usage(std::string_view p) {
  return fmt::format(
      "`{0}action <text> @owner [due YYYY-MM-DD|+3d] [#detect|#mitigate|#prevent|#process]`\n"
      "`{0}action list` · `{0}action done N` · `{0}action reopen N`",
      p);
}

// --- /incident ----------------------------------------------------------------------------

constexpr std::array<std::string_view, 20> kIncidentWords = {
    "start",    "status", "sev",       "severity",   "commander", "summary", "impact",
    "cause",    "why",    "went-well", "went-wrong", "lucky",     "lesson",  "mitigated",
    "resolved", "draft",  "close",     "reopen",     "help",      "lessons"};

// Spellings people use for the same subcommand.
std::string canonical_incident_word(std::string_view word) {
  std::string w = lower(word);
  std::replace(w.begin(), w.end(), '_', '-');
  if (w == "wentwell") return "went-well";
  if (w == "wentwrong") return "went-wrong";
  if (w == "severity") return "sev";
  if (w == "lessons") return "lesson";
  if (w == "mitigate") return "mitigated";
  if (w == "resolve") return "resolved";
  if (w == "root-cause" || w == "rootcause") return "cause";
  if (w == "ic") return "commander";
  if (w == "declare" || w == "new") return "start";
  return w;
}

Command parse_incident(std::string_view rest, const ParseContext& ctx) {
  const std::string usage_text = incident_usage(ctx.prefix);
  std::string_view raw_word = take_word(rest);
  if (raw_word.empty()) return ShowHelp{"incident"};
  const std::string word = canonical_incident_word(raw_word);

  if (word == "help") return ShowHelp{"incident"};
  if (word == "start") {
    StartIncident start;
    // Only "sevN" (any case, "sev-2" too) is a severity here: a title may well begin with a
    // bare number ("2 regions down").
    if (const std::string_view first = peek_word(rest); lower(first).starts_with("sev")) {
      if (auto sev = severity_from_string(first)) {
        start.severity = sev;
        take_word(rest);
      }
    }
    start.title = std::string(rest);
    if (start.title.empty()) {
      return UsageError{"Give the incident a title.",
                        fmt::format("`{}incident start [sev1-sev4] <title>`", ctx.prefix)};
    }
    return start;
  }
  if (word == "status") return ShowStatus{};
  // "/incident sev1" is how people say "/incident sev sev1".
  if (auto sev = severity_from_string(word); sev && word.starts_with("sev") && rest.empty()) {
    return ChangeSeverity{*sev};
  }
  if (word == "sev") {
    std::string_view arg = take_word(rest);
    auto sev = severity_from_string(arg);
    if (!sev || !rest.empty()) {
      return UsageError{arg.empty()
                            ? std::string("Which severity?")
                            : fmt::format("`{}` is not a severity: use sev1 (worst) to sev4.", arg),
                        fmt::format("`{}incident sev <sev1-sev4>`", ctx.prefix)};
    }
    return ChangeSeverity{*sev};
  }
  if (word == "commander") {
    std::string_view who = take_word(rest);
    if (who.size() < 2 || who.front() != '@' || !rest.empty()) {
      return UsageError{"Name the new commander with an @mention.",
                        fmt::format("`{}incident commander @user`", ctx.prefix)};
    }
    return ChangeCommander{std::string(who)};
  }
  if (auto section = note_section_from_string(word)) {
    if (rest.empty()) {
      return UsageError{fmt::format("Add the text of the {} note.", word),
                        fmt::format("`{}incident {} <text>`", ctx.prefix, word)};
    }
    return AddNote{*section, std::string(rest)};
  }
  if (word == "mitigated" || word == "resolved") {
    MarkMilestone m;
    m.kind = word == "mitigated" ? EventKind::kMitigated : EventKind::kResolved;
    std::string_view first = peek_word(rest);
    if (!first.empty()) {
      TimeParse t = parse_event_time(first, ctx.now, *ctx.zone);
      if (auto* err = std::get_if<TimeError>(&t)) {
        return UsageError{err->message,
                          fmt::format("`{}incident {} [HH:MM] [text]`", ctx.prefix, word)};
      }
      if (auto* ok = std::get_if<TimeOk>(&t)) {
        m.when = *ok;
        take_word(rest);
      }
    }
    m.text = std::string(rest);
    return m;
  }
  if (word == "draft") return ShowDraft{};
  if (word == "close") return CloseIncident{};
  if (word == "reopen") return ReopenIncident{};

  return UsageError{fmt::format("I don't know `{}incident {}`.{}", ctx.prefix, raw_word,
                                did_you_mean(lower(raw_word), kIncidentWords,
                                             fmt::format("{}incident ", ctx.prefix))),
                    usage_text};
}

// --- /timeline ----------------------------------------------------------------------------

constexpr std::array<std::string_view, 4> kTimelineWords = {"list", "edit", "delete", "help"};

Command parse_timeline(std::string_view rest, const ParseContext& ctx) {
  std::string_view first = peek_word(rest);
  if (first.empty()) return ShowHelp{"timeline"};
  const std::string word = lower(first);

  // Subcommands only when the word stands alone or has the expected arguments, so that
  // "/timeline list of hosts drained" stays an event.
  if (word == "help" && trim(rest).size() == first.size()) return ShowHelp{"timeline"};
  if (word == "list" && trim(rest).size() == first.size()) return ListEvents{};
  if (word == "edit" || word == "delete" || word == "remove" || word == "del") {
    std::string_view args = rest;
    take_word(args);
    std::string_view number = peek_word(args);
    if (auto seq = parse_number(number)) {
      take_word(args);
      if (word != "edit") {
        if (!args.empty()) {
          return UsageError{"`delete` takes only the event's number.",
                            fmt::format("`{}timeline delete N`", ctx.prefix)};
        }
        return DeleteEvent{*seq};
      }
      Leading lead = read_time_and_tag(args, ctx);
      if (lead.error) {
        return UsageError{*lead.error,
                          fmt::format("`{}timeline edit N [HH:MM] [#tag] <text>`", ctx.prefix)};
      }
      if (lead.text.empty() && !lead.when && !lead.kind) {
        return UsageError{fmt::format("What should event #{} say?", *seq),
                          fmt::format("`{}timeline edit N <text>`", ctx.prefix)};
      }
      return EditEvent{*seq, lead.kind, lead.when, lead.text};
    }
    if (number.empty()) {
      return UsageError{
          fmt::format("Which event? Give its number (see `{}timeline list`).", ctx.prefix),
          fmt::format("`{0}timeline edit N <text>` · `{0}timeline delete N`", ctx.prefix)};
    }
    // "edit 0" or "delete -1" was meant as a command, with a number that can't be one.
    if (looks_like_number(number)) {
      return UsageError{
          fmt::format("There is no event {}: events are numbered from 1 (see "
                      "`{}timeline list`).",
                      number, ctx.prefix),
          fmt::format("`{0}timeline edit N <text>` · `{0}timeline delete N`", ctx.prefix)};
    }
    // "/timeline delete caches on web-3" is an event about deleting, not a command.
  }
  if (trim(rest).size() == first.size() && first.size() >= 3 && first.front() != '#') {
    // A single word that is a near miss of a subcommand ("lsit") is a typo, not an event.
    if (auto match = closest_match(word, kTimelineWords); match && *match != word) {
      return UsageError{fmt::format("Did you mean `{}timeline {}`? To record a one-word "
                                    "event, add a detail.",
                                    ctx.prefix, *match),
                        timeline_usage(ctx.prefix)};
    }
  }

  Leading lead = read_time_and_tag(rest, ctx);
  if (lead.error) return UsageError{*lead.error, timeline_usage(ctx.prefix)};
  if (lead.text.empty()) {
    return UsageError{"What happened? Add the event's text.", timeline_usage(ctx.prefix)};
  }
  return AddEvent{lead.kind.value_or(EventKind::kNote), lead.when, lead.text};
}

// --- /action ------------------------------------------------------------------------------

constexpr std::array<std::string_view, 4> kActionKindTags = {"detect", "mitigate", "prevent",
                                                             "process"};

date::local_days local_today(const ParseContext& ctx) {
  auto local = date::make_zoned(ctx.zone, ctx.now).get_local_time();
  return date::floor<date::days>(local);
}

std::string format_day(date::local_days day) {
  return date::format("%F", date::year_month_day{day});
}

struct DueRead {
  std::optional<std::string> due;
  std::optional<std::string> note;
  std::optional<std::string> error;
};

DueRead read_due(std::string_view word, const ParseContext& ctx) {
  const date::local_days today = local_today(ctx);
  const std::string w = lower(word);
  date::local_days day;
  if (w == "today") {
    day = today;
  } else if (w == "tomorrow") {
    day = today + date::days{1};
  } else if (w.size() >= 3 && w.front() == '+' && (w.back() == 'd' || w.back() == 'w')) {
    auto n = parse_number(std::string_view(w).substr(1, w.size() - 2));
    if (!n || *n > 3650) return {std::nullopt, std::nullopt, "A relative due date is +Nd or +Nw."};
    day = today + date::days{w.back() == 'w' ? *n * 7 : *n};
  } else {
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    char dash1 = 0;
    char dash2 = 0;
    if (w.size() != 10 ||
        std::sscanf(w.c_str(), "%4d%c%2u%c%2u", &y, &dash1, &m, &dash2, &d) != 5 || dash1 != '-' ||
        dash2 != '-') {
      return {std::nullopt, std::nullopt,
              fmt::format("`{}` is not a due date: use YYYY-MM-DD, +3d, +2w or tomorrow.", word)};
    }
    date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
    if (!ymd.ok()) {
      return {std::nullopt, std::nullopt, fmt::format("`{}` is not a calendar date.", word)};
    }
    day = date::local_days{ymd};
  }
  DueRead out;
  out.due = format_day(day);
  if (day < today) out.note = fmt::format("due date {} is already past", *out.due);
  return out;
}

Command parse_action(std::string_view rest, const ParseContext& ctx) {
  const std::string usage_text = action_usage(ctx.prefix);
  std::string_view first = peek_word(rest);
  if (first.empty()) return ShowHelp{"action"};
  const std::string word = lower(first);
  std::string_view args = rest;
  take_word(args);

  if ((word == "list" || word == "help") && args.empty()) {
    if (word == "help") return ShowHelp{"action"};
    return ListActions{};
  }
  if (word == "done" || word == "reopen") {
    if (auto seq = parse_number(peek_word(args)); seq && split_words(args).size() == 1) {
      return SetActionStatus{*seq, word == "done" ? ActionStatus::kDone : ActionStatus::kOpen};
    }
    if (args.empty()) {
      return UsageError{
          fmt::format("Which action item? Give its number (see `{}action list`).", ctx.prefix),
          fmt::format("`{}action {} N`", ctx.prefix, word)};
    }
  }

  std::vector<std::string_view> words = split_words(rest);
  AddAction action;
  // Owner, due date and kind trail the text, in any order.
  while (!words.empty()) {
    std::string_view last = words.back();
    if (last.size() > 1 && last.front() == '#') {
      const std::string tag = lower(last.substr(1));
      if (auto kind = action_kind_from_string(tag); kind && *kind != ActionKind::kNone) {
        if (action.kind != ActionKind::kNone) break;
        action.kind = *kind;
        words.pop_back();
        continue;
      }
      if (auto match = closest_match(tag, kActionKindTags)) {
        return UsageError{fmt::format("Unknown kind `{}`. Did you mean `#{}`?", last, *match),
                          usage_text};
      }
      break;
    }
    if (last.size() > 1 && last.front() == '@' && !action.owner) {
      action.owner = std::string(last);
      words.pop_back();
      continue;
    }
    if (words.size() >= 2 && lower(words[words.size() - 2]) == "due" && !action.due) {
      DueRead due = read_due(last, ctx);
      if (due.error) return UsageError{*due.error, usage_text};
      action.due = due.due;
      action.due_note = due.note;
      words.pop_back();
      words.pop_back();
      continue;
    }
    break;
  }
  // "/action @bob fix the alert": an owner written first.
  if (!action.owner && !words.empty() && words.front().size() > 1 && words.front().front() == '@') {
    action.owner = std::string(words.front());
    words.erase(words.begin());
  }
  if (words.empty()) {
    return UsageError{"Say what should be done.", usage_text};
  }
  // Rebuild the text from the original, keeping its spacing.
  const char* begin = words.front().data();
  const char* end = words.back().data() + words.back().size();
  action.text = std::string(begin, static_cast<std::size_t>(end - begin));
  return action;
}

constexpr std::array<std::string_view, 3> kCommandWords = {"incident", "timeline", "action"};

}  // namespace

std::string usage(std::string_view command, std::string_view prefix) {
  if (command == "timeline") return timeline_usage(prefix);
  if (command == "action") return action_usage(prefix);
  return incident_usage(prefix);
}

Command parse(std::string_view command, std::string_view text, const ParseContext& context) {
  const std::string word = lower(command);
  if (word == "incident") return parse_incident(text, context);
  if (word == "timeline") return parse_timeline(text, context);
  if (word == "action") return parse_action(text, context);
  std::string message = fmt::format("I don't know the command `{}{}`.", context.prefix, command);
  if (auto match = closest_match(word, kCommandWords)) {
    message += fmt::format(" Did you mean `{}{}`?", context.prefix, *match);
  }
  return UsageError{message, fmt::format("Commands: `{0}incident`, `{0}timeline`, `{0}action`; "
                                         "`{0}incident help` lists them all.",
                                         context.prefix)};
}

}  // namespace scribe::grammar
