// The command grammar of all three command words, with fixed clocks (one ordinary, others
// next to daylight-saving changes and a leap day) and zones with odd rules. Parsing never
// throws; an error always says what is wrong and how to write it; any time it accepts is
// inside the window the timeline takes (kMaxBackdate back, kClockSkewTolerance ahead);
// due dates are calendar dates as YYYY-MM-DD; `/action` keeps fuzz/action_checks.h.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <date/date.h>

#include "commands/grammar.h"
#include "fuzz/action_checks.h"
#include "fuzz/fuzz_support.h"

using namespace scribe;
using namespace std::chrono_literals;

namespace {

Timestamp clock_for(unsigned index) {
  const std::array<Timestamp, 4> clocks = {
      fuzz::now(),
      Timestamp{date::sys_days{date::year{2026} / 3 / 29} + 1h + 30min},  // Berlin: just sprang
      Timestamp{date::sys_days{date::year{2026} / 11 / 1} + 6h + 30min},  // New York: fell back
      Timestamp{date::sys_days{date::year{2028} / 2 / 29} + 23h + 59min + 59s + 999ms},
  };
  return clocks[index % clocks.size()];
}

void check_when(const std::optional<TimeOk>& when, Timestamp now, std::string_view input) {
  if (!when) return;
  FUZZ_CHECK(when->at <= now + kClockSkewTolerance, input);
  FUZZ_CHECK(when->at >= now - kMaxBackdate, input);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr std::array<std::string_view, 3> kWords = {"incident", "timeline", "action"};
  const unsigned choice = data[0];
  const std::string_view word = kWords[choice % 3];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Timestamp now = clock_for(choice / 3 % 4);
  const grammar::ParseContext context{choice & 0x80 ? "!" : "/", now, &fuzz::zone(choice / 12), {}};

  const grammar::Command command = grammar::parse(word, text, context);
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, grammar::UsageError>) {
          FUZZ_CHECK(!c.message.empty() && !c.usage.empty(), text);
        } else if constexpr (std::is_same_v<T, grammar::AddEvent>) {
          FUZZ_CHECK(!c.text.empty(), text);
          check_when(c.when, now, text);
        } else if constexpr (std::is_same_v<T, grammar::EditEvent>) {
          check_when(c.when, now, text);
        } else if constexpr (std::is_same_v<T, grammar::MarkMilestone>) {
          FUZZ_CHECK(c.kind == EventKind::kMitigated || c.kind == EventKind::kResolved, text);
          check_when(c.when, now, text);
        } else if constexpr (std::is_same_v<T, grammar::AddAction>) {
          FUZZ_CHECK(!c.text.empty(), text);
          if (c.owner) FUZZ_CHECK(c.owner->size() > 1 && c.owner->front() == '@', text);
          if (c.due) FUZZ_CHECK(fuzz::is_date(*c.due), text);
        } else if constexpr (std::is_same_v<T, grammar::ChangeCommander>) {
          FUZZ_CHECK(!c.mention.empty(), text);
        } else if constexpr (std::is_same_v<T, grammar::ShowHelp>) {
          FUZZ_CHECK(c.command == word, text);
        }
      },
      command);
  if (word == "action") fuzz::check_action(command, text, context);
  grammar::usage(word, context.prefix);
  return 0;
}
