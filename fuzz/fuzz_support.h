// What the fuzz targets share: logging off, one fixed "now", the secrets the endpoints are
// built with, a scratch SQLite store that starts every input from the same seeded state (so a
// crash reproduces from its input alone, whatever ran before), requests signed the way Slack
// signs them, and a check that turns a broken promise into a crash libFuzzer reports.
// Single-threaded, like libFuzzer's default mode.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "commands/handler.h"
#include "net/http_message.h"
#include "storage/model.h"
#include "storage/store.h"

namespace date {
class time_zone;
}

namespace scribe::fuzz {

// 2026-11-20 14:30:00 UTC, the moment every target's requests arrive.
Timestamp now();

inline constexpr std::string_view kSigningSecret = "fuzz-signing-secret";
inline constexpr std::string_view kHsToken = "fuzz-hs-token";
inline constexpr std::string_view kBotUser = "@scribe:example.org";

// The seeded store holds an open incident (with events, notes and action item 1 or 2) in
// each of these: the seed corpus and dictionaries name them, so inputs reach the handler.
inline constexpr std::string_view kSlackTeam = "T0TEAM";
inline constexpr std::string_view kSlackChannel = "C0INCIDENT";
inline constexpr std::string_view kMatrixRoom = "!incident:example.org";

// The handler's options as the running service sets them (bot/service.cpp): Slack and
// Matrix registered with their traits, both able to receive posts.
HandlerOptions handler_options();

// Turns logging off: millions of inputs must not write millions of lines.
void silence_logs();

// A time zone by index (wraps around): UTC and zones with unusual rules (DST both ways,
// half-hour shifts, 45-minute offsets), so the grammar meets gaps and repeated hours.
const date::time_zone& zone(unsigned index);

class ScratchStore {
 public:
  // Creates the seeded template in a fresh temporary directory.
  ScratchStore();
  ~ScratchStore();
  ScratchStore(const ScratchStore&) = delete;
  ScratchStore& operator=(const ScratchStore&) = delete;

  // Closes the previous store and opens a fresh copy of the seeded one.
  Store& fresh();

 private:
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

// What requests can change in a store, as text: incidents and their state, events
// (deleted ones and revisions too), notes, action items (every field, and their audit
// trail) and outbox messages. Equal before
// and after a request that was refused means the refusal changed nothing.
std::string store_fingerprint(Store& store);

// A POST to `target` with `body`, signed with kSigningSecret and stamped at `at`.
HttpRequest signed_slack_request(std::string target, std::string body,
                                 std::string_view content_type, Timestamp at);

// Calls an endpoint's asynchronous `handle` and waits for its answer (the store's writer
// thread completes writes); an endpoint that never answers within a minute is a broken
// promise and crashes the input.
HttpResponse await_answer(const std::function<void(Respond)>& call);

// `s` percent-encoded for an application/x-www-form-urlencoded value.
std::string form_encode(std::string_view s);

// Reports a broken invariant (what, and the offending text, escaped) and aborts, which
// libFuzzer records as a crash with its input.
[[noreturn]] void invariant_failed(std::string_view what, std::string_view detail);

#define FUZZ_CHECK(cond, detail)                                  \
  do {                                                            \
    if (!(cond)) ::scribe::fuzz::invariant_failed(#cond, detail); \
  } while (false)

}  // namespace scribe::fuzz
