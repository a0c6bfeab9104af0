#include "adapters/matrix/transactions_endpoint.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <exception>

#include <spdlog/spdlog.h>
#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>

#include "adapters/matrix/message_text.h"
#include "util/json_fields.h"
#include "util/secret.h"
#include "util/strings.h"

namespace scribe::matrix {
namespace {

using nlohmann::json;

constexpr std::string_view kTxnSource = "matrix-txn";
HttpResponse matrix_json(int status, const json& body) {
  return HttpResponse{status, "application/json", body.dump(), {}};
}

HttpResponse matrix_error(int status, std::string_view errcode, std::string_view message) {
  return matrix_json(status, json{{"errcode", errcode}, {"error", message}});
}

HttpResponse empty_ok() { return matrix_json(200, json::object()); }

}  // namespace

// ---- TransactionsEndpoint ----

TransactionsEndpoint::TransactionsEndpoint(std::string hs_token, std::string bot_user_id,
                                           CommandHandler& handler, Clock clock,
                                           RoomEvents::Hooks hooks, std::string homeserver_url)
    : hs_token_(std::move(hs_token)),
      bot_user_id_(bot_user_id),
      handler_(handler),
      clock_(std::move(clock)),
      events_(std::move(bot_user_id), handler, std::move(hooks), std::move(homeserver_url)) {}

bool TransactionsEndpoint::handles_path(std::string_view path) {
  return path.starts_with("/_matrix/app/") || path.starts_with("/transactions/") ||
         path.starts_with("/users/") || path.starts_with("/rooms/");
}

void TransactionsEndpoint::handle(const HttpRequest& request, Respond respond) {
  auto parsed = boost::urls::parse_origin_form(request.target);
  if (!parsed) return respond(matrix_error(400, "M_UNRECOGNIZED", "malformed request target"));
  const boost::urls::url_view url = *parsed;

  std::vector<std::string> segments;
  for (auto s : url.segments()) segments.emplace_back(s);
  // Legacy paths (/transactions/…) are the v1 ones without "/_matrix/app/v1".
  bool v1 = false;
  if (segments.size() >= 3 && segments[0] == "_matrix" && segments[1] == "app" &&
      segments[2] == "v1") {
    segments.erase(segments.begin(), segments.begin() + 3);
    v1 = true;
  }

  std::string expected_method;
  if (segments.size() == 2 && !segments[1].empty()) {
    if (segments[0] == "transactions") expected_method = "PUT";
    if (segments[0] == "users" || segments[0] == "rooms") expected_method = "GET";
  }
  if (v1 && segments.size() == 1 && segments[0] == "ping") expected_method = "POST";
  if (expected_method.empty()) {
    return respond(matrix_error(404, "M_UNRECOGNIZED", "Unrecognized request"));
  }
  if (request.method != expected_method) {
    HttpResponse r = matrix_error(405, "M_UNRECOGNIZED", "Unrecognized request");
    r.headers.emplace_back("Allow", expected_method);
    return respond(std::move(r));
  }

  // Credentials: the header, else the legacy query parameter.
  std::optional<std::string> token;
  const std::string_view auth = request.header("authorization");
  if (starts_with_ci(auth, "Bearer ")) token = std::string(trim(auth.substr(7)));
  if (!token) {
    auto it = url.params().find("access_token");
    if (it != url.params().end() && (*it).has_value) token = std::string((*it).value);
  }
  if (!token || token->empty()) {
    return respond(matrix_error(401, "M_UNAUTHORIZED", "missing the homeserver's token"));
  }
  if (hs_token_.empty() || !secret_equals(*token, hs_token_)) {
    spdlog::warn("Matrix AS request {} refused: wrong hs_token", segments[0]);
    return respond(matrix_error(403, "M_FORBIDDEN", "wrong homeserver token"));
  }

  if (segments[0] == "ping") return respond(empty_ok());
  if (segments[0] == "users") {
    if (segments[1] == bot_user_id_) return respond(empty_ok());
    return respond(matrix_error(404, "M_NOT_FOUND", "no such user here"));
  }
  if (segments[0] == "rooms") {
    // Scribe creates no rooms on demand: no alias is hosted here.
    return respond(matrix_error(404, "M_NOT_FOUND", "no such room alias here"));
  }
  on_transaction(segments[1], request.body, std::move(respond));
}

void TransactionsEndpoint::on_transaction(const std::string& txn_id, const std::string& body,
                                          Respond respond) {
  auto parsed = std::make_shared<json>(json::parse(body, nullptr, /*allow_exceptions=*/false));
  if (parsed->is_discarded()) {
    return respond(matrix_error(400, "M_NOT_JSON", "the body is not JSON"));
  }
  const auto events = parsed->is_object() ? parsed->find("events") : parsed->end();
  if (!parsed->is_object() || events == parsed->end() || !events->is_array()) {
    return respond(matrix_error(400, "M_BAD_JSON", "expected an object with an \"events\" array"));
  }
  const Timestamp now = clock_();
  handler_.transact_async(
      [this, parsed, txn_id, now](Transaction& tx) {
        if (!tx.first_delivery(kTxnSource, txn_id, now)) {
          spdlog::info("Matrix transaction {} replayed; already processed", txn_id);
          return false;
        }
        return events_.apply(tx, (*parsed)["events"], now);
      },
      [this, txn_id, respond = std::move(respond)](std::optional<StoreError> error) {
        if (error) {
          // Nothing of it was committed; a 5xx makes the homeserver retry the whole
          // transaction. An episode of the store is logged once, by the store.
          const std::string trouble = handler_.store_trouble();
          if (trouble.empty()) {
            spdlog::error("Matrix transaction {} not processed: {}", txn_id, error->what());
          }
          return respond(matrix_error(503, "M_UNKNOWN",
                                      "not processed (" +
                                          (trouble.empty() ? std::string(error->what()) : trouble) +
                                          "); please retry"));
        }
        respond(empty_ok());
      });
}

}  // namespace scribe::matrix
