// Parsed<T>: what a parser of outside input returns. Input that does not parse is not
// exceptional (a user typed it, a platform sent it, a stored row predates a format), so
// parsers say why in `error` instead of throwing; see the error policy in storage/store.h.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace scribe {

template <typename T>
struct Parsed {
  std::optional<T> value;  // set on success
  std::string error;       // on failure: short, lower-case, says what was wrong

  static Parsed ok(T v) { return Parsed{std::move(v), {}}; }
  static Parsed failed(std::string why) { return Parsed{std::nullopt, std::move(why)}; }

  explicit operator bool() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  T& operator*() { return *value; }
  const T* operator->() const { return &*value; }
  T* operator->() { return &*value; }
};

}  // namespace scribe
