// Helpers shared by the unit tests: timestamps written the way the tests read them, the
// people of the postmortem fixtures, a bare timeline event, a scratch directory, and the
// platforms as the service registers them.
// Tests pull in what they use with using-declarations (`using test::ts;`).
#pragma once

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <date/date.h>
#include <gtest/gtest.h>

#include "adapters/matrix/platform.h"
#include "adapters/slack/platform.h"
#include "commands/platform.h"
#include "storage/model.h"

namespace scribe::test {

// How many rounds a randomized test runs: `full` in the ordinary build, a fifth of it (at
// least one) under the sanitizers (SCRIBE_SANITIZED_BUILD, set when SCRIBE_SANITIZE is),
// where the same code runs at -O0 with every access checked, some forty times slower. The
// ordinary suite (CI's first half) keeps the full count; the sanitizers look for memory and
// UB errors, which the same kinds of input reach in fewer rounds.
constexpr int rounds(int full) {
#ifdef SCRIBE_SANITIZED_BUILD
  return full / 5 > 0 ? full / 5 : 1;
#else
  return full;
#endif
}

// The platforms as the running service registers them (bot/service.cpp).
inline Platforms platforms() {
  Platforms p;
  p.add(std::string(slack::kPlatform), slack::traits());
  p.add(std::string(matrix::kPlatform), matrix::traits());
  return p;
}

// The UTC instant y-mo-d h:mi:s.ms.
inline Timestamp utc(int y, unsigned mo, unsigned d, int h, int mi, int s = 0, int ms = 0) {
  return date::sys_days{date::year{y} / date::month{mo} / date::day{d}} + std::chrono::hours{h} +
         std::chrono::minutes{mi} + std::chrono::seconds{s} + std::chrono::milliseconds{ms};
}

// "YYYY-MM-DD HH:MM:SS[.mmm]", UTC; text that does not parse fails the test.
inline Timestamp ts(const char* text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  const int n = std::sscanf(text, "%d-%d-%d %d:%d:%d.%d", &y, &mo, &d, &h, &mi, &s, &ms);
  EXPECT_GE(n, 6) << text;
  const date::sys_days day{date::year{y} / mo / d};
  return Timestamp{day} + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{s} + std::chrono::milliseconds{ms};
}

// The people in the postmortem tests. (The store and handler tests use Slack-style ids of
// their own.)
inline const Person kAlice{"U1", "Alice"};
inline const Person kBob{"U2", "Bob"};
inline const Person kCarol{"U3", "Carol"};
inline const Person kDave{"U4", "Dave"};

// A timeline event with only these fields set; `when` as for ts().
inline TimelineEvent event(int seq, const char* when, const Person& author, EventKind kind,
                           std::string text) {
  TimelineEvent e;
  e.seq = seq;
  e.kind = kind;
  e.occurred_at = ts(when);
  e.author = author;
  e.text = std::move(text);
  return e;
}

// A postmortem note by `author`, written at 2026-11-20 15:05:00.
inline Note note(NoteSection section, std::string text, const Person& author = kAlice) {
  Note n;
  n.section = section;
  n.author = author;
  n.text = std::move(text);
  n.created_at = ts("2026-11-20 15:05:00");
  return n;
}

// An action item created by alice at 2026-11-20 15:06:00 (no id: the store gives those).
inline ActionItem action(int seq, std::string text, std::optional<Person> owner,
                         std::optional<std::string> due, ActionKind kind, ActionStatus status) {
  ActionItem a;
  a.seq = seq;
  a.text = std::move(text);
  a.owner = std::move(owner);
  a.due = std::move(due);
  a.kind = kind;
  a.status = status;
  a.created_by = kAlice;
  a.created_at = ts("2026-11-20 15:06:00");
  return a;
}

// Creates a fresh directory <tmp>/<prefix>XXXXXX in `dir`. Call it as
// ASSERT_NO_FATAL_FAILURE(make_temp_dir(...)) so that a failure ends the caller too.
inline void make_temp_dir(std::string_view prefix, std::filesystem::path& dir) {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / (std::string(prefix) + "XXXXXX")).string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  dir = tmpl;
}

// Removes `dir` and everything in it; errors are ignored.
inline void remove_temp_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace scribe::test
