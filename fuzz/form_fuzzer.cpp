// The Slack form parser (application/x-www-form-urlencoded) on arbitrary bodies: it never
// throws, and what it accepts is clean (non-empty keys, no NUL, valid UTF-8) and stable
// (encoding the parsed form and parsing it again gives the same form).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "adapters/slack/form.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/text_checks.h"

using namespace scribe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const slack::FormResult result = slack::parse_form(body);
  if (!result) {
    FUZZ_CHECK(!result.error.empty(), body);
    return 0;
  }
  std::string again;
  for (const auto& [key, value] : *result.form) {
    FUZZ_CHECK(!key.empty(), body);
    FUZZ_CHECK(key.find('\0') == std::string::npos && value.find('\0') == std::string::npos, body);
    FUZZ_CHECK(fuzz::valid_utf8(key) && fuzz::valid_utf8(value), body);
    FUZZ_CHECK(slack::form_value(*result.form, key) == value, body);
    if (!again.empty()) again += '&';
    again += fuzz::form_encode(key) + '=' + fuzz::form_encode(value);
  }
  const slack::FormResult reparsed = slack::parse_form(again);
  FUZZ_CHECK(reparsed && *reparsed.form == *result.form, again);
  return 0;
}
