// The backdated-time parser on single tokens, with fixed clocks spread over the years
// Scribe runs in (and next to daylight-saving changes) and zones with odd rules. It never
// throws; an accepted time is within kMaxBackdate before now and kClockSkewTolerance
// after it; an error names the accepted forms; the accepted instant can be shown.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <variant>

#include <date/date.h>
#include <date/tz.h>

#include "commands/time_parse.h"
#include "fuzz/fuzz_support.h"

using namespace scribe;
using namespace std::chrono_literals;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  // Two bytes pick the clock: any minute of 2020-2031, and a zone.
  const unsigned minute_pick = (static_cast<unsigned>(data[0]) << 8 | data[1]);
  const date::time_zone& zone = fuzz::zone(minute_pick % 6);
  const Timestamp now = Timestamp{date::sys_days{date::year{2020} / 1 / 1}} +
                        std::chrono::minutes{static_cast<std::int64_t>(minute_pick) * 97 + 13} +
                        std::chrono::milliseconds{data[2] * 3};
  const std::string_view token(reinterpret_cast<const char*>(data) + 3, size - 3);

  const TimeParse parsed = parse_event_time(token, now, zone);
  if (const auto* ok = std::get_if<TimeOk>(&parsed)) {
    FUZZ_CHECK(ok->at <= now + kClockSkewTolerance, token);
    FUZZ_CHECK(ok->at >= now - kMaxBackdate, token);
    FUZZ_CHECK(!format_local(ok->at, zone).empty(), token);
  } else if (const auto* error = std::get_if<TimeError>(&parsed)) {
    FUZZ_CHECK(error->message.find("`-15m`") != std::string::npos, token);
  }
  return 0;
}
