// The backdated-time parser on single tokens, with clocks spread over the years Scribe
// runs in, or anywhere in years 0000-9999, and zones with odd rules. It never
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
  const date::time_zone& zone = fuzz::zone(data[0] % 6);
  Timestamp now;
  std::size_t used = 3;
  if (data[0] & 0x80) {
    // Any millisecond of years 0000-9999: a Matrix command is read against its
    // origin_server_ts, which the homeserver sets and the adapter bounds only to these.
    if (size < 9) return 0;
    std::uint64_t pick = 0;
    for (std::size_t i = 1; i < 9; ++i) pick = pick << 8 | data[i];
    constexpr std::int64_t kFirst = -62167219200000;  // 0000-01-01T00:00:00Z
    constexpr std::int64_t kLast = 253402300799999;   // 9999-12-31T23:59:59.999Z
    now = Timestamp{std::chrono::milliseconds{
        kFirst + static_cast<std::int64_t>(pick % static_cast<std::uint64_t>(kLast - kFirst + 1))}};
    used = 9;
  } else {
    // Any minute of 2020-2031.
    const unsigned minute_pick = (static_cast<unsigned>(data[1]) << 8 | data[2]);
    now = Timestamp{date::sys_days{date::year{2020} / 1 / 1}} +
          std::chrono::minutes{static_cast<std::int64_t>(minute_pick) * 97 + 13} +
          std::chrono::milliseconds{data[0] * 3};
  }
  const std::string_view token(reinterpret_cast<const char*>(data) + used, size - used);

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
