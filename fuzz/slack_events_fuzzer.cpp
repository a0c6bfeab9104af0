// POST /slack/events with arbitrary JSON bodies, correctly signed, through the real
// endpoint, command core and a SQLite store seeded with an open incident in the channel
// the corpus uses (a fresh copy for every input). It answers 200 or 400, never a server
// error; a 400 changes nothing; a url_verification challenge comes back as JSON.
#include <cstddef>
#include <cstdint>
#include <string>

#include <date/tz.h>
#include <nlohmann/json.hpp>

#include "adapters/slack/events_endpoint.h"
#include "commands/handler.h"
#include "fuzz/fuzz_support.h"

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
  slack::EventsEndpoint endpoint(std::string(fuzz::kSigningSecret), handler, fuzz::now, "pushpin");
  const std::string before = fuzz::store_fingerprint(store);

  const HttpRequest request =
      fuzz::signed_slack_request("/slack/events", body, "application/json", fuzz::now());
  const HttpResponse r =
      fuzz::await_answer([&](Respond respond) { endpoint.handle(request, std::move(respond)); });
  FUZZ_CHECK(r.status == 200 || r.status == 400, std::to_string(r.status) + " " + r.body);
  FUZZ_CHECK(!r.body.empty(), body);
  if (r.status == 400) FUZZ_CHECK(fuzz::store_fingerprint(store) == before, body);
  if (r.content_type == "application/json") {
    const auto answer = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(answer.is_object() && answer.contains("challenge"), r.body);
  }
  return 0;
}
