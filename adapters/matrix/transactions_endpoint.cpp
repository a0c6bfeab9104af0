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
constexpr std::string_view kEventSource = "matrix-event";
constexpr std::string_view kPin = "\xF0\x9F\x93\x8C";                  // 📌
constexpr std::string_view kPinVs16 = "\xF0\x9F\x93\x8C\xEF\xB8\x8F";  // 📌 + U+FE0F
constexpr std::array<std::string_view, 3> kCommands = {"incident", "timeline", "action"};

HttpResponse matrix_json(int status, const json& body) {
  return HttpResponse{status, "application/json", body.dump(), {}};
}

HttpResponse matrix_error(int status, std::string_view errcode, std::string_view message) {
  return matrix_json(status, json{{"errcode", errcode}, {"error", message}});
}

HttpResponse empty_ok() { return matrix_json(200, json::object()); }

// "!timeline 14:05 x" -> {"timeline", "14:05 x"}; nullopt for anything else.
std::optional<std::pair<std::string, std::string>> split_command(std::string_view text) {
  if (!text.starts_with("!")) return std::nullopt;
  for (std::string_view word : kCommands) {
    if (!starts_with_ci(text.substr(1), word)) continue;
    const std::string_view rest = text.substr(1 + word.size());
    if (!rest.empty() && !std::isspace(static_cast<unsigned char>(rest.front()))) continue;
    return std::make_pair(std::string(word), std::string(trim(rest)));
  }
  return std::nullopt;
}

// The event's origin_server_ts, which any federated server sets. One outside the years
// 0000-9999 is nonsense, and the date arithmetic of reading a command's "14:05" or "-15m"
// against it overflows: it is not used (callers take the receive time instead).
std::optional<Timestamp> origin_ts(const json& event) {
  constexpr std::int64_t kFirst = -62167219200000;  // 0000-01-01T00:00:00Z, in ms
  constexpr std::int64_t kLast = 253402300799999;   // 9999-12-31T23:59:59.999Z
  auto it = event.find("origin_server_ts");
  if (it == event.end() || !it->is_number_integer()) return std::nullopt;
  // JSON reads positive numbers as unsigned: compare before narrowing.
  const bool too_large = it->is_number_unsigned() && it->get<std::uint64_t>() > kLast;
  const auto ms = too_large ? kLast + 1 : it->get<std::int64_t>();
  if (ms < kFirst || ms > kLast) {
    spdlog::warn("Matrix event {}: origin_server_ts {} ignored", string_at(event, "event_id"),
                 it->dump());
    return std::nullopt;
  }
  return Timestamp{std::chrono::milliseconds(ms)};
}

}  // namespace

// ---- free functions ----

std::string fetch_job(const FetchJob& job) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(job.received_at.time_since_epoch());
  return json{{"room_id", job.room_id},
              {"event_id", job.event_id},
              {"marked_by", job.marked_by},
              {"received_at", ms.count()}}
      .dump();
}

std::optional<FetchJob> parse_fetch_job(std::string_view content) {
  const json j = json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  FetchJob job{string_at(j, "room_id"), string_at(j, "event_id"), string_at(j, "marked_by"), {}};
  const auto at = j.find("received_at");
  if (job.room_id.empty() || job.event_id.empty() || at == j.end() || !at->is_number_integer()) {
    return std::nullopt;
  }
  job.received_at = Timestamp{std::chrono::milliseconds(at->get<std::int64_t>())};
  return job;
}

// ---- TransactionsEndpoint ----

TransactionsEndpoint::TransactionsEndpoint(std::string hs_token, std::string bot_user_id,
                                           CommandHandler& handler, Clock clock,
                                           InviteHandler on_invite, ReplySink reply_sink,
                                           std::string homeserver_url)
    : hs_token_(std::move(hs_token)),
      bot_user_id_(std::move(bot_user_id)),
      handler_(handler),
      clock_(std::move(clock)),
      on_invite_(std::move(on_invite)),
      reply_sink_(std::move(reply_sink)),
      homeserver_url_(std::move(homeserver_url)) {}

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
        bool enqueued = false;
        const json& all = (*parsed)["events"];
        for (const json& event : all) {
          if (event.is_object() && on_event(tx, event, all, now)) enqueued = true;
        }
        return enqueued;
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

bool TransactionsEndpoint::on_event(Transaction& tx, const json& event, const json& events,
                                    Timestamp now) {
  const std::string type = string_at(event, "type");
  const std::string sender = string_at(event, "sender");
  if (sender.empty() || sender == bot_user_id_) return false;
  if (type != "m.room.message" && type != "m.reaction" && type != "m.room.member") return false;
  if (type == "m.room.member" &&
      (string_at(event, "state_key") != bot_user_id_ || object_at(event, "content") == nullptr ||
       string_at(*object_at(event, "content"), "membership") != "invite")) {
    return false;
  }
  const std::string event_id = string_at(event, "event_id");
  if (!event_id.empty() && !tx.first_delivery(kEventSource, event_id, now)) {
    spdlog::info("Matrix event {} already processed", event_id);
    return false;
  }
  if (type == "m.room.message") return on_message(tx, event, now);
  if (type == "m.reaction") return on_reaction(tx, event, events, now);
  return on_member(tx, event);
}

bool TransactionsEndpoint::on_message(Transaction& tx, const json& event, Timestamp now) {
  const json* content = object_at(event, "content");
  if (content == nullptr || string_at(*content, "msgtype") != "m.text") return false;
  if (const json* rel = object_at(*content, "m.relates_to");
      rel != nullptr && string_at(*rel, "rel_type") == "m.replace") {
    return false;  // an edit: see the header
  }
  Invocation inv;
  const std::string text = message_text(*content, inv.mentions);
  auto command = split_command(text);
  if (!command) return false;
  const std::string room_id = string_at(event, "room_id");
  if (room_id.empty()) return false;  // malformed: a command must come from a room
  inv.channel = channel_of(room_id);
  inv.user = person_of(string_at(event, "sender"));
  inv.command = command->first;
  inv.text = command->second;
  inv.received_at = origin_ts(event).value_or(now);
  const CommandResult result = handler_.run_in(tx, inv);
  bool enqueued = result.enqueued;
  if (reply_sink_ && !result.reply.silent &&
      reply_sink_(tx, inv.channel, result.reply, string_at(event, "event_id"))) {
    enqueued = true;
  }
  return enqueued;
}

bool TransactionsEndpoint::on_reaction(Transaction& tx, const json& event, const json& events,
                                       Timestamp now) {
  const json* content = object_at(event, "content");
  const json* rel = content != nullptr ? object_at(*content, "m.relates_to") : nullptr;
  if (rel == nullptr) return false;
  const std::string key = string_at(*rel, "key");
  if (key != kPin && key != kPinVs16) return false;
  const std::string target = string_at(*rel, "event_id");
  const std::string room_id = string_at(event, "room_id");
  if (target.empty() || room_id.empty()) return false;

  MarkedMessage marked;
  marked.channel = channel_of(room_id);
  marked.marked_by = person_of(string_at(event, "sender"));
  marked.message_id = target;
  marked.received_at = origin_ts(event).value_or(now);

  // The message itself in this transaction: recorded at once, no fetch needed.
  for (const json& other : events) {
    if (!other.is_object() || string_at(other, "event_id") != target ||
        string_at(other, "type") != "m.room.message" || string_at(other, "room_id") != room_id) {
      continue;
    }
    const json* message = object_at(other, "content");
    const auto written_at = origin_ts(other);
    if (message == nullptr || !written_at) break;
    std::vector<Person> mentions;
    marked.author = person_of(string_at(other, "sender"));
    marked.written_at = *written_at;
    marked.text = message_text(*message, mentions);
    marked.links = message_links(room_id, target, *message, homeserver_url_);
    handler_.record_marked_in(tx, marked);
    return false;
  }
  const FetchJob job{room_id, target, marked.marked_by.id, marked.received_at};
  return handler_.defer_marked_in(tx, marked, fetch_job(job)) == MarkOutcome::kRecorded;
}

bool TransactionsEndpoint::on_member(Transaction& tx, const json& event) {
  const std::string room_id = string_at(event, "room_id");
  spdlog::info("Matrix: invited to {} by {}", room_id, string_at(event, "sender"));
  return on_invite_ && !room_id.empty() && on_invite_(tx, room_id);
}

}  // namespace scribe::matrix
