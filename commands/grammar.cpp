#include "commands/grammar.h"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "commands/suggest.h"
#include "postmortem/trends.h"
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

// A subcommand's number argument ("3", "#3") as it was read.
struct NumberRead {
  enum class Problem { kNone, kMissing, kInvalid, kNotANumber };
  int value = 0;
  Problem problem = Problem::kNone;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Only a plain positive decimal that fits an int is a number. Anything written as a number
// but not such a one ("0", "-1", "+3", "2.5", "1e3", "99999999999999999999") is kInvalid,
// so that it is refused rather than read as text.
NumberRead read_number(std::string_view word) {
  using Problem = NumberRead::Problem;
  if (word.empty()) return {0, Problem::kMissing};
  std::string_view s = word;
  if (s.front() == '#') s.remove_prefix(1);
  if (!s.empty() && std::all_of(s.begin(), s.end(), is_digit)) {
    std::int64_t n = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || ptr != s.data() + s.size() || n <= 0 ||
        n > std::numeric_limits<int>::max()) {
      return {0, Problem::kInvalid};
    }
    return {static_cast<int>(n), Problem::kNone};
  }
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  const bool numeric =
      !s.empty() && (is_digit(s.front()) || (s.size() > 1 && s.front() == '.' && is_digit(s[1])));
  return {0, numeric ? Problem::kInvalid : Problem::kNotANumber};
}

// A positive count for "+3d": digits only, at most `max`.
std::optional<int> parse_count(std::string_view s, int max) {
  const NumberRead n = read_number(s);
  if (n.problem != NumberRead::Problem::kNone || s.front() == '#' || n.value > max) {
    return std::nullopt;
  }
  return n.value;
}

// Double quotes people type, straight or curly (“…”, which phones and macOS substitute).
constexpr std::string_view kOpenQuotes[] = {"\"", "\u201c"};
constexpr std::string_view kCloseQuotes[] = {"\"", "\u201d"};

std::size_t quote_at_start(std::string_view s) {
  for (auto q : kOpenQuotes) {
    if (s.starts_with(q)) return q.size();
  }
  return 0;
}

std::size_t quote_at_end(std::string_view s) {
  for (auto q : kCloseQuotes) {
    if (s.ends_with(q)) return q.size();
  }
  return 0;
}

// Text wholly in double quotes, without them; nullopt when it is not quoted so.
std::optional<std::string_view> unquote(std::string_view s) {
  const std::size_t open = quote_at_start(s);
  if (open == 0 || s.size() <= open) return std::nullopt;
  const std::size_t close = quote_at_end(s.substr(open));
  if (close == 0) return std::nullopt;
  return s.substr(open, s.size() - open - close);
}

// A quoted command the user can copy, or a shorter one when their text is long.
std::string quoted_example(std::string_view prefix, std::string_view command, std::string_view text,
                           std::string_view after = {}) {
  constexpr std::size_t kLongest = 120;
  if (text.size() + after.size() > kLongest) {
    return fmt::format("`{}{} \"{} …\"`", prefix, command, peek_word(text));
  }
  return fmt::format("`{}{} \"{}\"{}{}`", prefix, command, text, after.empty() ? "" : " ", after);
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
  rest = trim(rest);
  out.text = std::string(unquote(rest).value_or(rest));
  return out;
}

// "sev5", "SEV-0", "sev1.5": meant as a severity, whether or not it is one (unlike "severe").
bool written_as_severity(std::string_view word) {
  std::string_view rest = word.substr(std::min<std::size_t>(3, word.size()));
  if (!rest.empty() && (rest.front() == '-' || rest.front() == '_')) rest.remove_prefix(1);
  return lower(word).starts_with("sev") && !rest.empty() && is_digit(rest.front());
}

// --- usage texts ------------------------------------------------------------------------

std::string incident_usage(std::string_view p) {
  return fmt::format(
      "`{0}incident start [sev1-sev4] <title>` declare an incident in this channel\n"
      "`{0}incident status` severity, roles, durations, last events, open actions\n"
      "`{0}incident sev <sev1-sev4>` · `{0}incident commander @user`\n"
      "`{0}incident summary|impact|cause|why|went-well|went-wrong|lucky|lesson <text>` "
      "postmortem notes\n"
      "`{0}incident owner @user` postmortem owner · "
      "`{0}incident trigger|detection|resolution|link <text>` the remaining sections\n"
      "`{0}incident review` findings about the draft (only to you) · "
      "`{0}incident review request` · `{0}incident approve`\n"
      "`{0}incident mitigated [HH:MM] [text]` · `{0}incident resolved [HH:MM] [text]` "
      "(resolved posts the draft)\n"
      "`{0}incident draft` the postmortem draft so far · `{0}incident trends [90d]` trends "
      "across incidents · `{0}incident related` earlier incidents with the same cause (both "
      "only to you; tag causes with `#cause:<tag>`, the incident with `#service:<name>`)\n"
      "`{0}incident tz [Area/City]` the channel's time zone\n"
      "`{0}incident close` postmortem reviewed · `{0}incident close anyway <reason>` over the "
      "review's objections (commander) · `{0}incident reopen` · `{0}incident help`",
      p);
}

std::string timeline_usage(std::string_view p) {
  return fmt::format(
      "`{0}timeline <text>` an event now\n"
      "`{0}timeline 14:05 <text>` · `{0}timeline -15m <text>` · "
      "`{0}timeline 2026-11-20T14:05Z <text>` an earlier event\n"
      "`{0}timeline #detected|#alert|#action|#comms|#impact <text>` a typed event\n"
      "`{0}timeline list` · `{0}timeline edit N <text>` · `{0}timeline delete N`\n"
      "An event whose text begins with edit or delete goes in quotes: "
      "`{0}timeline \"delete caches on web-3\"`",
      p);
}

std::string action_usage(std::string_view p) {
  return fmt::format(
      "`{0}action <text> @owner [due YYYY-MM-DD|+3d] [#detect|#mitigate|#prevent|#process]` "
      "owner, due date (also +2w, today, tomorrow) and kind in any order after the text\n"
      "`{0}action list` · `{0}action mine` your open items in every incident\n"
      "`{0}action done N` · `{0}action reopen N` · `{0}action drop N <reason>` won't do\n"
      "`{0}action edit N <text>` · `{0}action assign N @owner` · `{0}action due N <date>` · "
      "`{0}action kind N #kind` · `{0}action track N` an issue in the team's tracker\n"
      "An item whose text begins with one of these words goes in quotes: "
      "`{0}action \"edit the runbook\" @owner`",
      p);
}

// --- /incident ----------------------------------------------------------------------------

constexpr std::array<std::string_view, 31> kIncidentWords = {
    "start",    "status",    "sev",        "severity",   "commander", "summary", "impact",
    "cause",    "why",       "went-well",  "went-wrong", "lucky",     "lesson",  "mitigated",
    "resolved", "draft",     "close",      "reopen",     "help",      "lessons", "owner",
    "trigger",  "detection", "resolution", "link",       "review",    "approve", "links",
    "trends",   "related",   "tz"};

// Spellings people use for the same subcommand.
std::string canonical_incident_word(std::string_view word) {
  std::string w = lower(word);
  std::replace(w.begin(), w.end(), '_', '-');
  if (w == "wentwell") return "went-well";
  if (w == "wentwrong") return "went-wrong";
  if (w == "severity") return "sev";
  if (w == "lessons") return "lesson";
  if (w == "links") return "link";
  if (w == "approved") return "approve";
  if (w == "mitigate") return "mitigated";
  if (w == "resolve") return "resolved";
  if (w == "root-cause" || w == "rootcause") return "cause";
  if (w == "ic") return "commander";
  if (w == "timezone" || w == "time-zone" || w == "zone") return "tz";
  if (w == "declare" || w == "new") return "start";
  return w;
}

// The tz database's zone of that name, case-insensitively when only the case
// differs; nullptr when there is none.
const date::time_zone* find_zone(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::runtime_error&) {
  }
  const std::string wanted = lower(name);
  const date::tzdb& db = date::get_tzdb();
  for (const date::time_zone& z : db.zones) {
    if (lower(z.name()) == wanted) return &z;
  }
  return nullptr;
}

Command parse_zone(std::string_view rest, const ParseContext& ctx) {
  const std::string usage_text =
      fmt::format("`{0}incident tz` shows it · `{0}incident tz Europe/Berlin` sets it", ctx.prefix);
  if (rest.empty()) return ShowChannelZone{};
  const std::string_view name = take_word(rest);
  if (!rest.empty()) {
    return UsageError{"Give one time zone name from the tz database, such as Europe/Berlin.",
                      usage_text};
  }
  const date::time_zone* zone = find_zone(name);
  if (zone == nullptr) {
    return UsageError{
        fmt::format("`{}` is not a time zone in the tz database. Use an Area/City name such as "
                    "Europe/Berlin, America/New_York, Asia/Kolkata, or UTC; nothing was changed.",
                    name),
        usage_text};
  }
  return SetChannelZone{std::string(zone->name())};
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
      } else if (written_as_severity(first)) {
        return UsageError{fmt::format("`{}` is not a severity: use sev1 (worst) to sev4.", first),
                          fmt::format("`{}incident start [sev1-sev4] <title>`", ctx.prefix)};
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
  if (word.starts_with("sev") && word != "sev" && written_as_severity(word)) {
    return UsageError{fmt::format("`{}` is not a severity: use sev1 (worst) to sev4.", raw_word),
                      fmt::format("`{}incident sev <sev1-sev4>`", ctx.prefix)};
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
  if (word == "close") {
    if (rest.empty()) return CloseIncident{};
    std::string_view args = rest;
    if (lower(take_word(args)) == "anyway") {
      if (args.empty()) {
        return UsageError{
            "Say why it closes over the review's objections: the reason is kept "
            "on the timeline and in the draft.",
            fmt::format("`{}incident close anyway <reason>`", ctx.prefix)};
      }
      return CloseIncident{true, std::string(args)};
    }
    return UsageError{
        fmt::format("`{}incident close` takes no text; to close over the review's "
                    "objections, `{}incident close anyway <reason>`.",
                    ctx.prefix, ctx.prefix),
        fmt::format("`{0}incident close` · `{0}incident close anyway <reason>`", ctx.prefix)};
  }
  if (word == "related") {
    if (rest.empty()) return ShowRelated{};
    return UsageError{fmt::format("`{}incident related` takes no text.", ctx.prefix),
                      fmt::format("`{}incident related`", ctx.prefix)};
  }
  if (word == "trends") {
    if (rest.empty()) return ShowTrends{};
    if (auto span = parse_span(rest)) return ShowTrends{*span};
    return UsageError{fmt::format("`{}` is not a span: use 90d, 12w, 6m or 1y.", rest),
                      fmt::format("`{}incident trends [90d|12w|6m|1y]`", ctx.prefix)};
  }
  if (word == "review") {
    if (rest.empty()) return ShowReview{};
    if (lower(rest) == "request") return RequestReview{};
    return UsageError{
        fmt::format("I don't know `{}incident review {}`.", ctx.prefix, rest),
        fmt::format("`{0}incident review` · `{0}incident review request`", ctx.prefix)};
  }
  if (word == "approve") {
    if (!rest.empty()) {
      return UsageError{"`approve` takes no text: it records your approval of the postmortem.",
                        fmt::format("`{}incident approve`", ctx.prefix)};
    }
    return ApprovePostmortem{};
  }
  if (word == "owner") {
    std::string_view who = take_word(rest);
    if (who.size() < 2 || who.front() != '@' || !rest.empty()) {
      return UsageError{"Name the postmortem owner with one @mention.",
                        fmt::format("`{}incident owner @user`", ctx.prefix)};
    }
    return SetPostmortemOwner{std::string(who)};
  }
  if (word == "reopen") return ReopenIncident{};
  if (word == "tz") return parse_zone(rest, ctx);

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
    const bool edit = word == "edit";
    std::string_view args = rest;
    take_word(args);
    const std::string_view number = take_word(args);
    const std::string forms =
        fmt::format("`{0}timeline edit N <text>` · `{0}timeline delete N`", ctx.prefix);
    const NumberRead n = read_number(number);
    switch (n.problem) {
      case NumberRead::Problem::kNone:
        break;
      case NumberRead::Problem::kMissing:
        return UsageError{
            fmt::format("Which event? Give its number (see `{}timeline list`).", ctx.prefix),
            forms};
      case NumberRead::Problem::kInvalid:
        return UsageError{fmt::format("`{}` is not an event number: events are numbered from 1 "
                                      "(see `{}timeline list`).",
                                      number, ctx.prefix),
                          forms};
      case NumberRead::Problem::kNotANumber:
        return UsageError{
            fmt::format("`{}` is not an event number. To record an event that begins with "
                        "\"{}\", put its text in quotes: {}.",
                        number, first, quoted_example(ctx.prefix, "timeline", trim(rest))),
            forms};
    }
    if (!edit) {
      if (!args.empty()) {
        return UsageError{"`delete` takes only the event's number.",
                          fmt::format("`{}timeline delete N`", ctx.prefix)};
      }
      return DeleteEvent{n.value};
    }
    Leading lead = read_time_and_tag(args, ctx);
    if (lead.error) {
      return UsageError{*lead.error,
                        fmt::format("`{}timeline edit N [HH:MM] [#tag] <text>`", ctx.prefix)};
    }
    if (lead.text.empty() && !lead.when && !lead.kind) {
      return UsageError{fmt::format("What should event #{} say?", n.value),
                        fmt::format("`{}timeline edit N <text>`", ctx.prefix)};
    }
    return EditEvent{n.value, lead.kind, lead.when, lead.text};
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

// The last day a due date may be: kMaxDueYearsAhead years from today (28 February for a
// 29 February that the target year lacks).
date::local_days latest_due(date::local_days today) {
  date::year_month_day limit = date::year_month_day{today} + date::years{kMaxDueYearsAhead};
  if (!limit.ok()) limit = limit.year() / limit.month() / date::last;
  return date::local_days{limit};
}

struct DueRead {
  std::optional<std::string> due;
  std::optional<std::string> note;
  std::optional<std::string> error;
};

constexpr std::string_view kDueForms = "YYYY-MM-DD, +3d, +2w, today or tomorrow";

// "YYYY-MM-DD" with every digit in place; nullopt for any other shape.
std::optional<date::year_month_day> read_iso_date(std::string_view w) {
  if (w.size() != 10 || w[4] != '-' || w[7] != '-') return std::nullopt;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!is_digit(w[i])) return std::nullopt;
  }
  const auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (w[i] - '0');
    return v;
  };
  return date::year_month_day{date::year{num(0, 4)}, date::month{static_cast<unsigned>(num(5, 2))},
                              date::day{static_cast<unsigned>(num(8, 2))}};
}

bool is_relative_due(std::string_view w) {
  return w.size() >= 3 && w.front() == '+' && (w.back() == 'd' || w.back() == 'w') &&
         std::all_of(w.begin() + 1, w.end() - 1, is_digit);
}

DueRead read_due(std::string_view word, const ParseContext& ctx) {
  const date::local_days today = local_today(ctx);
  const date::local_days latest = latest_due(today);
  const std::string w = lower(word);
  const auto too_far = [&] {
    return DueRead{std::nullopt, std::nullopt,
                   fmt::format("`{}` is more than {} years ahead ({} at the latest): plan the "
                               "work in a nearer step, e.g. `due +4w`.",
                               word, kMaxDueYearsAhead, format_day(latest))};
  };
  date::local_days day;
  if (w == "today") {
    day = today;
  } else if (w == "tomorrow") {
    day = today + date::days{1};
  } else if (w.size() >= 3 && w.front() == '+' && (w.back() == 'd' || w.back() == 'w')) {
    if (!is_relative_due(w)) {
      return {std::nullopt, std::nullopt,
              fmt::format("`{}` is not a due date: a relative one is +Nd or +Nw, e.g. +3d.", word)};
    }
    // Bounded before multiplying, so "+99999999999w" cannot overflow.
    const int max_days = (latest - today).count();
    const auto n = parse_count(std::string_view(w).substr(1, w.size() - 2), max_days);
    if (!n) {
      if (std::all_of(w.begin() + 1, w.end() - 1, [](char c) { return c == '0'; })) {
        return {std::nullopt, std::nullopt,
                fmt::format("`{}` is no time at all: a relative due date is +Nd or +Nw with N "
                            "from 1, e.g. +3d.",
                            word)};
      }
      return too_far();
    }
    const int days = w.back() == 'w' ? *n * 7 : *n;  // n <= max_days < 2000: no overflow
    if (days > max_days) return too_far();
    day = today + date::days{days};
  } else {
    const auto ymd = read_iso_date(w);
    if (!ymd) {
      return {std::nullopt, std::nullopt,
              fmt::format("`{}` is not a due date: use {}.", word, kDueForms)};
    }
    if (!ymd->ok()) {
      return {std::nullopt, std::nullopt, fmt::format("`{}` is not a calendar date.", word)};
    }
    day = date::local_days{*ymd};
    if (day < today - date::days{kMaxDuePast.count()}) {
      return {std::nullopt, std::nullopt,
              fmt::format("`{}` is long past (today is {}): a due date says when the work "
                          "should be done, e.g. `due +2w`.",
                          word, format_day(today))};
    }
    if (day > latest) return too_far();
  }
  DueRead out;
  out.due = format_day(day);
  if (day < today) out.note = fmt::format("due date {} is already past", *out.due);
  return out;
}

// Splits `s` into words. A word that starts with "@" followed by the name of a mentioned
// person containing spaces ("@Dave Smith") is one word.
std::vector<std::string_view> split_tokens(std::string_view s, const ParseContext& ctx) {
  std::vector<std::string_view> out;
  s = trim(s);
  while (!s.empty()) {
    std::size_t end = 0;
    if (s.front() == '@') {
      for (const Person& p : ctx.mentions) {
        const std::string_view name = p.name;
        if (name.find(' ') == std::string_view::npos) continue;
        const std::size_t n = 1 + name.size();
        if (s.size() >= n && s.substr(1, name.size()) == name &&
            (s.size() == n || is_space(s[n]))) {
          end = std::max(end, n);
        }
      }
    }
    if (end == 0) {
      while (end < s.size() && !is_space(s[end])) ++end;
    }
    out.push_back(s.substr(0, end));
    s = trim(s.substr(end));
  }
  return out;
}

bool is_mention(std::string_view token) { return !token.empty() && token.front() == '@'; }

// "@dave." at the end of a sentence names @dave.
std::string_view owner_name(std::string_view token) {
  std::string_view name = token.substr(1);
  while (!name.empty() && std::string_view(".,;:!?").find(name.back()) != std::string_view::npos) {
    name.remove_suffix(1);
  }
  return name;
}

// Why `token` cannot be an action item's owner, if it cannot.
std::optional<std::string> owner_problem(std::string_view token) {
  const std::string name = lower(owner_name(token));
  if (name.empty()) {
    return fmt::format("`{}` alone names nobody: write the owner as `@name`.", token);
  }
  if (name == "here" || name == "channel" || name == "everyone") {
    return fmt::format("`{}` is everyone: an action item needs one owner, `@name`.", token);
  }
  return std::nullopt;
}

// What the grammar read around an item's text, or why it could not.
struct FieldsRead {
  ActionFields fields;
  std::optional<std::string> error;
  // Where the text is in the input, as written (quotes included), for examples.
  std::size_t text_begin = 0;
  std::size_t text_end = 0;
};

// The owner, due dates and kind tags written at the end of `tokens`, scanning back to the
// first word that is none of them. Accepts several mentions of one owner or tag, and
// refuses two different ones: an item has one owner, one due date, one kind.
struct Trailing {
  std::vector<std::string_view> owners;  // in the order written
  std::vector<std::pair<std::string_view, DueRead>> dues;
  std::vector<std::pair<std::string_view, ActionKind>> kinds;
  std::optional<std::string> error;
  std::size_t text_tokens = 0;  // tokens [0, text_tokens) are not trailing parts
};

Trailing read_trailing(const std::vector<std::string_view>& tokens, const ParseContext& ctx) {
  Trailing t;
  std::size_t end = tokens.size();
  const auto fail = [&](std::string message) {
    t.error = std::move(message);
    return t;
  };
  while (end > 0) {
    const std::string_view w = tokens[end - 1];
    if (is_mention(w)) {
      if (auto problem = owner_problem(w)) return fail(*problem);
      t.owners.insert(t.owners.begin(), w);
      --end;
      continue;
    }
    if (w.size() > 1 && w.front() == '#') {
      const std::string tag = lower(w.substr(1));
      if (auto kind = action_kind_from_string(tag); kind && *kind != ActionKind::kNone) {
        t.kinds.insert(t.kinds.begin(), {w, *kind});
        --end;
        continue;
      }
      if (auto match = closest_match(tag, kActionKindTags)) {
        return fail(fmt::format("Unknown kind `{}`. Did you mean `#{}`?", w, *match));
      }
      break;  // "#4512": text
    }
    if (end >= 2 && lower(tokens[end - 2]) == "due") {
      DueRead due = read_due(w, ctx);
      if (due.error) return fail(*due.error);
      t.dues.insert(t.dues.begin(), {w, std::move(due)});
      end -= 2;
      continue;
    }
    if (lower(w) == "due") {
      return fail(fmt::format("`due` needs a date after it: {}.", kDueForms));
    }
    if (is_relative_due(lower(w))) {  // "+2w" without "due": still a due date
      DueRead due = read_due(w, ctx);
      if (due.error) return fail(*due.error);
      t.dues.insert(t.dues.begin(), {w, std::move(due)});
      --end;
      continue;
    }
    break;
  }
  t.text_tokens = end;
  return t;
}

// Merges what was read into `fields`, refusing two of a kind.
std::optional<std::string> merge_trailing(const Trailing& t, std::optional<std::string_view> lead,
                                          ActionFields& fields) {
  std::vector<std::string_view> owners;
  if (lead) owners.push_back(*lead);
  owners.insert(owners.end(), t.owners.begin(), t.owners.end());
  for (std::string_view o : owners) {
    if (!fields.owner) {
      fields.owner = "@" + std::string(owner_name(o));
    } else if (lower(*fields.owner) != "@" + lower(owner_name(o))) {
      return fmt::format(
          "Two owners, `{}` and `{}`: an action item has one owner. Pick one, or add one item "
          "per owner.",
          *fields.owner, o);
    }
  }
  for (const auto& [word, due] : t.dues) {
    if (fields.due && *fields.due != *due.due) {
      return fmt::format("Two due dates, {} and {}: give one.", *fields.due, *due.due);
    }
    fields.due = due.due;
    fields.due_note = due.note;
  }
  std::string_view kind_word;
  for (const auto& [word, kind] : t.kinds) {
    if (fields.kind != ActionKind::kNone && fields.kind != kind) {
      return fmt::format(
          "`{}` and `{}`: an action item has one kind (detect, mitigate, prevent or process). "
          "Pick one, or split the item in two.",
          kind_word, word);
    }
    fields.kind = kind;
    kind_word = word;
  }
  return std::nullopt;
}

// Reads "<text> [@owner] [due <date>] [#kind]" (parts in any order after the text; an
// owner may also come first). With `need_text`, the text is required.
FieldsRead read_fields(std::string_view input, const ParseContext& ctx, bool need_text) {
  FieldsRead out;
  std::vector<std::string_view> tokens = split_tokens(input, ctx);
  const auto offset = [&](std::string_view part) {
    return static_cast<std::size_t>(part.data() - input.data());
  };
  // "/action @bob fix the alert": an owner written first.
  std::optional<std::string_view> lead;
  std::size_t first = 0;
  if (tokens.size() > 1 && is_mention(tokens[0]) && tokens[0].size() > 1) {
    if (auto problem = owner_problem(tokens[0])) {
      out.error = *problem;
      return out;
    }
    lead = tokens[0];
    first = 1;
  }
  std::string_view body =
      first < tokens.size() ? input.substr(offset(tokens[first])) : std::string_view{};

  // "\"drop the old index\" @bob due +2w": the quoted text is taken as written.
  if (const std::size_t open = quote_at_start(body); open > 0) {
    std::size_t close = std::string_view::npos;
    std::size_t close_size = 0;
    for (std::size_t i = open; i < body.size() && close == std::string_view::npos; ++i) {
      for (auto q : kCloseQuotes) {
        const std::size_t after = i + q.size();
        if (body.substr(i).starts_with(q) && (after == body.size() || is_space(body[after]))) {
          close = i;
          close_size = q.size();
          break;
        }
      }
    }
    if (close != std::string_view::npos) {
      const std::string_view remainder = body.substr(close + close_size);
      const std::vector<std::string_view> rest_tokens = split_tokens(remainder, ctx);
      Trailing t = read_trailing(rest_tokens, ctx);
      if (t.error) {
        out.error = t.error;
        return out;
      }
      if (t.text_tokens == 0) {  // only parts after the closing quote
        if (auto problem = merge_trailing(t, lead, out.fields)) {
          out.error = problem;
          return out;
        }
        out.fields.text = std::string(trim(body.substr(open, close - open)));
        out.text_begin = offset(body);
        out.text_end = offset(body) + close + close_size;
        if (out.fields.text.empty() && need_text) out.error = "Say what should be done.";
        return out;
      }
    }
  }

  Trailing t = read_trailing(tokens, ctx);
  if (t.error) {
    out.error = t.error;
    return out;
  }
  if (t.text_tokens <= first) {
    // Nothing but parts: a lone "@bob" is the owner, not the text.
    if (lead) t.owners.insert(t.owners.begin(), *lead);
    lead.reset();
    t.text_tokens = first = 0;
  }
  if (auto problem = merge_trailing(t, lead, out.fields)) {
    out.error = problem;
    return out;
  }
  if (t.text_tokens > first) {
    const std::string_view head = tokens[first];
    const std::string_view tail = tokens[t.text_tokens - 1];
    out.text_begin = offset(head);
    out.text_end = offset(tail) + tail.size();
    out.fields.text = std::string(input.substr(out.text_begin, out.text_end - out.text_begin));
  }
  if (out.fields.text.empty() && need_text) out.error = "Say what should be done.";
  return out;
}

// The subcommands of /action that take an item number, and their usage.
struct NumberedSubcommand {
  std::string_view word;
  std::string_view args;
};
constexpr std::array<NumberedSubcommand, 8> kNumberedActionWords = {{
    {"done", "N"},
    {"reopen", "N"},
    {"edit", "N <text>"},
    {"assign", "N @owner"},
    {"due", "N <YYYY-MM-DD|+3d|+2w|tomorrow>"},
    {"kind", "N #detect|#mitigate|#prevent|#process"},
    {"drop", "N <reason>"},
    {"track", "N"},
}};

Command parse_action_subcommand(const NumberedSubcommand& sub, std::string_view rest,
                                std::string_view args, const ParseContext& ctx) {
  const std::string usage_line = fmt::format("`{}action {} {}`", ctx.prefix, sub.word, sub.args);
  const auto refuse = [&](std::string message) {
    return UsageError{std::move(message), usage_line};
  };
  const std::string_view number = take_word(args);
  const NumberRead n = read_number(number);
  switch (n.problem) {
    case NumberRead::Problem::kNone:
      break;
    case NumberRead::Problem::kMissing:
      return refuse(
          fmt::format("Which action item? Give its number (see `{}action list`).", ctx.prefix));
    case NumberRead::Problem::kInvalid:
      return refuse(
          fmt::format("`{}` is not an action item number: items are numbered from 1 "
                      "(see `{}action list`).",
                      number, ctx.prefix));
    case NumberRead::Problem::kNotANumber: {
      std::string message = fmt::format("`{}` is not an action item number.", number);
      if (sub.word == "due" && !read_due(number, ctx).error) {
        message +=
            fmt::format(" Give the item's number first: `{}action due N {}`.", ctx.prefix, number);
      } else if (sub.word == "assign" && is_mention(number)) {
        message += fmt::format(" Give the item's number first: `{}action assign N {}`.", ctx.prefix,
                               number);
      }
      // Perhaps an item that begins with this word: show how to write one.
      const FieldsRead f = read_fields(rest, ctx, /*need_text=*/true);
      if (!f.error) {
        message += fmt::format(
            " To add an action item that begins with \"{}\", put its text in quotes: {}.",
            peek_word(rest),
            quoted_example(ctx.prefix, "action",
                           rest.substr(f.text_begin, f.text_end - f.text_begin),
                           trim(rest.substr(f.text_end))));
      }
      return refuse(std::move(message));
    }
  }
  const int seq = n.value;
  args = trim(args);
  const std::string_view word = sub.word;

  if (word == "track") {
    if (!args.empty()) {
      return refuse(fmt::format("`{}action track` takes only the item's number.", ctx.prefix));
    }
    return TrackAction{seq};
  }
  if (word == "done" || word == "reopen") {
    if (!args.empty()) {
      return refuse(fmt::format("`{}action {}` takes only the item's number.", ctx.prefix, word));
    }
    return SetActionStatus{seq, word == "done" ? ActionStatus::kDone : ActionStatus::kOpen};
  }
  if (word == "edit") {
    FieldsRead f = read_fields(args, ctx, /*need_text=*/false);
    if (f.error) return refuse(*f.error);
    const ActionFields& a = f.fields;
    if (a.text.empty() && !a.owner && !a.due && a.kind == ActionKind::kNone) {
      return refuse(fmt::format("What should action item #{} say?", seq));
    }
    EditAction edit;
    static_cast<ActionFields&>(edit) = std::move(f.fields);
    edit.seq = seq;
    return edit;
  }
  if (word == "assign") {
    std::vector<std::string_view> tokens = split_tokens(args, ctx);
    if (!tokens.empty() && lower(tokens.front()) == "to") tokens.erase(tokens.begin());
    if (tokens.empty() || !is_mention(tokens.front())) {
      return refuse(fmt::format("Name the owner of #{} with an @mention.", seq));
    }
    if (auto problem = owner_problem(tokens.front())) return refuse(*problem);
    if (tokens.size() > 1) {
      return refuse(is_mention(tokens[1])
                        ? fmt::format("Two owners, `{}` and `{}`: an action item has one owner.",
                                      tokens[0], tokens[1])
                        : fmt::format("`{}action assign` takes the item's number and one @owner.",
                                      ctx.prefix));
    }
    return AssignAction{seq, "@" + std::string(owner_name(tokens.front()))};
  }
  if (word == "due") {
    const std::vector<std::string_view> tokens = split_words(args);
    if (tokens.empty()) return refuse(fmt::format("When is #{} due? Use {}.", seq, kDueForms));
    if (tokens.size() > 1) {
      return refuse(
          fmt::format("`{}action due` takes the item's number and one date.", ctx.prefix));
    }
    DueRead due = read_due(tokens.front(), ctx);
    if (due.error) return refuse(*due.error);
    return SetActionDue{seq, *due.due, due.note};
  }
  if (word == "kind") {
    const std::vector<std::string_view> tokens = split_words(args);
    if (tokens.empty()) return refuse(fmt::format("Which kind is #{}?", seq));
    std::vector<std::pair<std::string_view, ActionKind>> kinds;
    for (std::string_view token : tokens) {
      std::string_view name = token;
      if (name.front() == '#') name.remove_prefix(1);
      const auto kind = action_kind_from_string(name);
      if (!kind || *kind == ActionKind::kNone) {
        std::string message = fmt::format("`{}` is not a kind.", token);
        if (auto match = closest_match(lower(name), kActionKindTags)) {
          message += fmt::format(" Did you mean `#{}`?", *match);
        }
        return refuse(std::move(message));
      }
      if (!kinds.empty() && kinds.front().second != *kind) {
        return refuse(fmt::format(
            "`{}` and `{}`: an action item has one kind. Pick one, or split the item in two.",
            kinds.front().first, token));
      }
      kinds.emplace_back(token, *kind);
    }
    return SetActionKind{seq, kinds.front().second};
  }
  // drop
  if (args.empty()) {
    return refuse(
        fmt::format("Say why #{} won't be done; the reason goes in the postmortem.", seq));
  }
  return DropAction{seq, std::string(args)};
}

Command parse_action(std::string_view rest, const ParseContext& ctx) {
  const std::string usage_text = action_usage(ctx.prefix);
  rest = trim(rest);
  std::string_view first = peek_word(rest);
  if (first.empty()) return ShowHelp{"action"};
  const std::string word = lower(first);
  std::string_view args = rest;
  take_word(args);

  if (args.empty()) {
    if (word == "help") return ShowHelp{"action"};
    if (word == "list") return ListActions{};
    if (word == "mine") return ListMyActions{};
  }
  for (const NumberedSubcommand& sub : kNumberedActionWords) {
    if (word == sub.word) return parse_action_subcommand(sub, rest, args, ctx);
  }

  FieldsRead f = read_fields(rest, ctx, /*need_text=*/true);
  if (f.error) return UsageError{*f.error, usage_text};
  AddAction action;
  static_cast<ActionFields&>(action) = std::move(f.fields);
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
