// PUT /_matrix/app/v1/transactions/{txnId} with arbitrary bodies and the right hs_token,
// through the real application-service endpoint, command handler and a SQLite store seeded
// with an open incident in the corpus's room (a fresh copy for every input). It answers
// 200 or 400 with a Matrix JSON body, never a server error; a 400 changes nothing; every
// reply to a command becomes the m.room.message content Scribe would send, which must
// serialise as JSON and carry only HTML Scribe makes.
#include <cstddef>
#include <cstdint>
#include <string>

#include <date/tz.h>
#include <nlohmann/json.hpp>

#include "adapters/matrix/client.h"
#include "adapters/matrix/transactions_endpoint.h"
#include "commands/handler.h"
#include "commands/outgoing.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/html_checks.h"
#include "fuzz/text_checks.h"

using namespace scribe;

namespace {

fuzz::ScratchStore& scratch() {
  static fuzz::ScratchStore store;
  return store;
}

// As the service does with a reply, then as the Matrix deliverer does with the outbox row.
void send_reply(const Reply& reply, std::string_view input) {
  OutgoingMessage message;
  message.body = reply;
  const Parsed<OutgoingMessage> stored = outgoing_from_json(to_json(message));
  FUZZ_CHECK(stored, stored.error);
  const nlohmann::json content = matrix::message_content(*stored);
  const std::string sent = content.dump();
  FUZZ_CHECK(fuzz::valid_utf8(sent), input);
  if (content.contains("formatted_body")) {
    fuzz::check_html(content["formatted_body"].get<std::string>(), input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_logs();
  scratch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  Store& store = scratch().fresh();
  CommandHandler handler(store, date::locate_zone("UTC"), fuzz::handler_options());
  int room_hooks = 0;  // invites and encrypted rooms: effects a refused transaction must not have
  matrix::RoomEvents::Hooks hooks;
  hooks.on_invite = [&](Transaction&, const std::string& room) {
    FUZZ_CHECK(!room.empty(), body);
    ++room_hooks;
    return false;
  };
  hooks.reply_sink = [&](Transaction&, const ChannelRef& channel, const Reply& reply,
                         const std::string&) {
    FUZZ_CHECK(channel.platform == "matrix" && !channel.channel.empty(), body);
    send_reply(reply, body);
    return false;
  };
  hooks.on_encrypted = [&](Transaction&, const std::string& room) {
    FUZZ_CHECK(!room.empty(), body);
    ++room_hooks;
    return false;
  };
  matrix::TransactionsEndpoint endpoint(std::string(fuzz::kHsToken), std::string(fuzz::kBotUser),
                                        handler, fuzz::now, std::move(hooks));
  const std::string before = fuzz::store_fingerprint(store);

  HttpRequest request;
  request.method = "PUT";
  request.target = "/_matrix/app/v1/transactions/fuzz-txn-1";
  request.headers.emplace_back("authorization", "Bearer " + std::string(fuzz::kHsToken));
  request.headers.emplace_back("content-type", "application/json");
  request.body = body;
  const HttpResponse r =
      fuzz::await_answer([&](Respond respond) { endpoint.handle(request, std::move(respond)); });
  FUZZ_CHECK(r.status == 200 || r.status == 400, std::to_string(r.status) + " " + r.body);
  const auto answer = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(answer.is_object(), r.body);
  if (r.status == 400) {
    FUZZ_CHECK(answer.contains("errcode"), r.body);
    FUZZ_CHECK(room_hooks == 0 && fuzz::store_fingerprint(store) == before, body);
  }
  return 0;
}
