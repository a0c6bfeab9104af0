// POST /slack/commands with arbitrary form bodies, correctly signed, through the real
// endpoint, command handler and a SQLite store seeded with an open incident (with events,
// notes and action item 1) in the corpus's channel; a fresh copy for every input. Every
// command either answers 200 with a Slack body that keeps Slack's limits and escaping, or
// is refused (400/415) having changed nothing; the healthy store never fails a command.
#include <cstddef>
#include <cstdint>
#include <string>

#include <date/tz.h>

#include "adapters/slack/commands_endpoint.h"
#include "commands/handler.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/slack_checks.h"

using namespace scribe;

namespace {
fuzz::ScratchStore& scratch() {
  static fuzz::ScratchStore store;
  return store;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_logs();
  scratch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  Store& store = scratch().fresh();
  CommandHandler handler(store, date::locate_zone("UTC"), fuzz::handler_options());
  slack::CommandsEndpoint endpoint(std::string(fuzz::kSigningSecret), handler, fuzz::now);
  const std::string before = fuzz::store_fingerprint(store);

  const HttpRequest request = fuzz::signed_slack_request(
      "/slack/commands", body, "application/x-www-form-urlencoded", fuzz::now());
  const HttpResponse r =
      fuzz::await_answer([&](Respond respond) { endpoint.handle(request, std::move(respond)); });
  if (r.status != 200) {
    FUZZ_CHECK(r.status == 400, std::to_string(r.status) + " " + r.body);
    FUZZ_CHECK(fuzz::store_fingerprint(store) == before, body);
    return 0;
  }
  if (r.content_type != "application/json") return 0;  // ssl_check's plain "ok"
  FUZZ_CHECK(r.body.find("could not save") == std::string::npos, r.body);
  fuzz::check_slack_body(r.body, slack::RenderOptions{}, body);
  return 0;
}
