// Parsing of application/x-www-form-urlencoded bodies (Slack slash commands and the
// interactivity "payload=" wrapper). Keys and values are percent-decoded with '+' read as
// a space. Strict: a malformed escape, a character that must have been escaped, a decoded
// NUL or invalid UTF-8 rejects the whole body, so nothing half-understood reaches commands.
// Never throws.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace scribe::slack {

// Decoded key -> decoded value. On a repeated key the first occurrence wins (Slack never
// repeats keys; keeping the first makes a smuggled trailing "&user_id=..." useless).
// A key without '=' maps to "". Pairs with an empty key are ignored.
using Form = std::map<std::string, std::string, std::less<>>;

struct FormResult {
  std::optional<Form> form;  // set on success
  std::string error;         // on failure: what is wrong, short, no prefix, safe to echo

  explicit operator bool() const { return form.has_value(); }
};

FormResult parse_form(std::string_view body);

// The value of `key`, or "" when absent.
std::string_view form_value(const Form& form, std::string_view key);

}  // namespace scribe::slack
