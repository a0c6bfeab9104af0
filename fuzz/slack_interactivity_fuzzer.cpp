// Slack interactivity payloads (button clicks): the pure payload reader on the raw JSON,
// then the same JSON form-encoded, signed and posted to the real endpoint over a seeded
// SQLite store (action item 1 is open in the corpus's channel; a fresh copy per input).
// The reader never throws and every press it returns is complete; the endpoint answers
// 200 or 400, never a server error, and a 400 changes nothing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <date/tz.h>

#include "adapters/slack/interactivity_endpoint.h"
#include "commands/handler.h"
#include "commands/outgoing.h"
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
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const slack::InteractivityResult parsed =
      slack::parse_interactivity_payload(payload, fuzz::now());
  if (!parsed) {
    FUZZ_CHECK(!parsed.error.empty(), payload);
  } else {
    FUZZ_CHECK(!parsed.type.empty(), payload);
    for (const ButtonPress& press : parsed.presses) {
      FUZZ_CHECK(press.action == kActionDone || press.action == kActionSnooze, payload);
      FUZZ_CHECK(!press.user.id.empty() && !press.user.name.empty(), payload);
      FUZZ_CHECK(!press.channel.channel.empty() && !press.message_id.empty(), payload);
    }
  }

  Store& store = scratch().fresh();
  CommandHandler handler(store, date::locate_zone("UTC"), fuzz::handler_options());
  slack::InteractivityEndpoint endpoint(std::string(fuzz::kSigningSecret), handler, fuzz::now);
  const std::string before = fuzz::store_fingerprint(store);
  const HttpRequest request =
      fuzz::signed_slack_request("/slack/interactivity", "payload=" + fuzz::form_encode(payload),
                                 "application/x-www-form-urlencoded", fuzz::now());
  const HttpResponse r =
      fuzz::await_answer([&](Respond respond) { endpoint.handle(request, std::move(respond)); });
  FUZZ_CHECK(r.status == 200 || r.status == 400, std::to_string(r.status) + " " + r.body);
  if (r.status == 400) FUZZ_CHECK(fuzz::store_fingerprint(store) == before, payload);
  return 0;
}
