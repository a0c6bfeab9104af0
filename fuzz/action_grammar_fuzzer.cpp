// The `/action` syntax of the command grammar: item text with owner, due date and kind
// in any order, quoted text, the numbered subcommands (done, reopen, edit, assign, due,
// kind, drop), list and mine, with people mentioned whose names hold spaces ("@Dave
// Smith"), at clocks next to daylight-saving changes, a leap day and a year's end, in zones
// with odd rules. Every result keeps the promises of fuzz/action_checks.h, and parsing the
// same input twice gives the same answer.
//
// Input: one byte choosing clock, zone and prefix; one byte for how many people are
// mentioned (0-3), each a name up to 24 bytes; the rest is the text after `/action`.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <date/date.h>

#include "commands/grammar.h"
#include "fuzz/action_checks.h"
#include "fuzz/fuzz_support.h"

using namespace scribe;
using namespace std::chrono_literals;

namespace {

Timestamp clock_for(unsigned index) {
  const std::array<Timestamp, 5> clocks = {
      fuzz::now(),
      Timestamp{date::sys_days{date::year{2026} / 3 / 29} + 1h + 30min},  // Berlin: just sprang
      Timestamp{date::sys_days{date::year{2026} / 11 / 1} + 6h + 30min},  // New York: fell back
      Timestamp{date::sys_days{date::year{2028} / 2 / 29} + 23h + 59min + 59s + 999ms},
      Timestamp{date::sys_days{date::year{2026} / 12 / 31} + 23h + 30min},  // a year's end
  };
  return clocks[index % clocks.size()];
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const unsigned choice = in.ConsumeIntegral<std::uint8_t>();
  std::vector<Person> mentions(in.ConsumeIntegralInRange<unsigned>(0, 3));
  for (std::size_t i = 0; i < mentions.size(); ++i) {
    mentions[i].id = "U0" + std::to_string(i);
    mentions[i].name = in.ConsumeRandomLengthString(24);
  }
  const std::string text = in.ConsumeRemainingBytesAsString();

  grammar::ParseContext context;
  context.prefix = choice & 0x80 ? "!" : "/";
  context.now = clock_for(choice % 5);
  context.zone = &fuzz::zone(choice / 5 % 16);
  context.mentions = mentions;

  const grammar::Command command = grammar::parse("action", text, context);
  fuzz::check_action(command, text, context);
  const grammar::Command again = grammar::parse("action", text, context);
  FUZZ_CHECK(again.index() == command.index(), text);
  return 0;
}
