#include "adapters/matrix/client.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <iterator>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "postmortem/html.h"
#include "util/json_fields.h"
#include "util/markdown_escape.h"
#include "util/percent.h"
#include "util/text.h"

namespace scribe::matrix {
namespace {

using nlohmann::json;

constexpr std::string_view kHtmlFormat = "org.matrix.custom.html";
constexpr std::string_view kPillPrefix = "https://matrix.to/#/";

// Errors on which trying again cannot help: the room, the token or the request itself is
// the problem.
constexpr std::string_view kPermanentErrcodes[] = {
    "M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN_TOKEN",          "M_MISSING_TOKEN", "M_BAD_JSON",
    "M_NOT_JSON",  "M_TOO_LARGE", "M_UNRECOGNIZED",           "M_INVALID_PARAM", "M_MISSING_PARAM",
    "M_UNKNOWN",   "M_BAD_STATE", "M_GUEST_ACCESS_FORBIDDEN",
};

// A Matrix user id: "@localpart:server".
bool is_matrix_user_id(std::string_view id) {
  return id.size() >= 4 && id.front() == '@' && id.find(':') != std::string_view::npos &&
         id.find_first_of(" \t\r\n<>\"") == std::string_view::npos;
}

bool is_list_item(std::string_view line) {
  return line.starts_with("- ") || line.starts_with("* ") || line.starts_with("+ ") ||
         (!line.empty() && std::isdigit(static_cast<unsigned char>(line.front())) &&
          line.find(". ") != std::string_view::npos &&
          std::all_of(line.begin(), line.begin() + static_cast<long>(line.find(". ")),
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }));
}

// The hint lines that stand in for the message's buttons.
std::vector<std::string> hints_of(const OutgoingMessage& message) {
  std::string all_text = message.body.text;
  for (const auto& d : message.body.details) all_text += "\n" + d;
  std::vector<std::string> hints;
  for (const auto& button : message.buttons) {
    if (button.action == kActionDone && all_text.find("action done") != std::string::npos) {
      continue;  // the message already says how
    }
    std::string hint = button_hint(button);
    if (!hint.empty() && std::find(hints.begin(), hints.end(), hint) == hints.end()) {
      hints.push_back(std::move(hint));
    }
  }
  return hints;
}

// Text, details, button hints and document as one text. A detail is a line of its own:
// list items stay together as one list, other lines become paragraphs. `markdown`: for
// formatted_body, where text and details are user text to be shown as typed (only their
// `code` spans are Markdown) and the document is Markdown already; otherwise for body,
// the plain text as it reads.
std::string compose(const OutgoingMessage& message, bool markdown) {
  const auto text = [&](std::string_view s) {
    return markdown ? escape_chat_markdown(s) : display_text(s);
  };
  std::string md = text(message.body.text);
  bool previous_list = false;
  for (const auto& detail : message.body.details) {
    const bool list = is_list_item(detail);
    if (!md.empty()) md += (list && previous_list) ? "\n" : "\n\n";
    if (list && markdown) {
      const std::size_t marker = detail.find(' ') + 1;  // "- ", "12. "
      md += detail.substr(0, marker);
      md += text(std::string_view(detail).substr(marker));
    } else {
      md += text(detail);
    }
    previous_list = list;
  }
  for (const auto& hint : hints_of(message)) {
    if (!md.empty()) md += "\n\n";
    md += text(hint);
  }
  if (message.body.document && !message.body.document->empty()) {
    if (!md.empty()) md += "\n\n";
    md += display_text(*message.body.document);
  }
  return md;
}

struct Mentions {
  std::string plain;  // "Alice, Bob: "
  std::string html;   // pills, same shape
  json user_ids = json::array();
};

Mentions mentions_of(const std::vector<Person>& notify) {
  Mentions out;
  std::vector<std::string> plain;
  std::vector<std::string> html;
  for (const auto& person : notify) {
    const bool matrix_id = is_matrix_user_id(person.id);
    const std::string name = display_text(!person.name.empty() ? person.name : person.id);
    if (name.empty()) continue;
    if (matrix_id) {
      if (std::find(out.user_ids.begin(), out.user_ids.end(), person.id) != out.user_ids.end()) {
        continue;
      }
      out.user_ids.push_back(person.id);
      html.push_back(fmt::format("<a href=\"{}{}\">{}</a>", kPillPrefix, escape_html(person.id),
                                 escape_html(name)));
    } else {
      html.push_back(escape_html("@" + name));  // pings nobody
    }
    plain.push_back(matrix_id ? name : "@" + name);
  }
  if (!plain.empty()) {
    out.plain = fmt::format("{}: ", fmt::join(plain, ", "));
    out.html = fmt::format("{}: ", fmt::join(html, ", "));
  }
  return out;
}

// msgtype, body, format, formatted_body, m.mentions of `message` (no relations).
json plain_content(const OutgoingMessage& message) {
  const Mentions mentions = mentions_of(message.notify);
  std::string html = markdown_to_html(compose(message, /*markdown=*/true));
  while (!html.empty() && html.back() == '\n') html.pop_back();
  if (!mentions.html.empty()) {
    if (html.starts_with("<p>")) {
      html.insert(3, mentions.html);
    } else {
      html = "<p>" + mentions.html + "</p>\n" + html;
    }
  }
  json content = {
      {"msgtype", message.body.visibility == Reply::Visibility::kEphemeral ? "m.notice" : "m.text"},
      {"body", mentions.plain + compose(message, /*markdown=*/false)},
      {"format", kHtmlFormat},
      {"formatted_body", std::move(html)},
      {"m.mentions", {{"user_ids", mentions.user_ids}}},
  };
  return content;
}

}  // namespace

std::string transaction_id(std::int64_t outbox_id) { return fmt::format("scribe-{}", outbox_id); }

std::string button_hint(const Button& button) {
  if (button.action == kActionDone) {
    const std::string label = button.label.empty() ? std::string("Mark done") : button.label;
    return fmt::format("{}: reply `!action done N` with the item's number.", label);
  }
  return {};  // no text command does what the button does (snooze)
}

json message_content(const OutgoingMessage& message, const std::optional<std::string>& thread_id) {
  json content = plain_content(message);
  if (message.replaces) {
    json edit = {
        {"msgtype", content["msgtype"]},
        {"body", "* " + content["body"].get<std::string>()},
        {"format", kHtmlFormat},
        {"formatted_body", "* " + content["formatted_body"].get<std::string>()},
        // The edit pings nobody again; the new content says who is mentioned.
        {"m.mentions", json::object()},
        {"m.new_content", std::move(content)},
        {"m.relates_to", {{"rel_type", "m.replace"}, {"event_id", *message.replaces}}},
    };
    return edit;
  }
  if (thread_id && !thread_id->empty()) {
    content["m.relates_to"] = {
        {"rel_type", "m.thread"},
        {"event_id", *thread_id},
        // For clients without threads: shown as a reply to the thread's root.
        {"is_falling_back", true},
        {"m.in_reply_to", {{"event_id", *thread_id}}},
    };
  }
  return content;
}

ClientApi::ClientApi(Options options)
    : options_(std::move(options)), http_(options_.timeout, options_.connect_timeout) {
  while (options_.homeserver_url.ends_with('/')) options_.homeserver_url.pop_back();
}

ClientResult ClientApi::request(const std::string& method, const std::string& path,
                                const json& body) {
  std::string url = options_.homeserver_url + path;
  if (!options_.user_id.empty()) {
    url += (path.find('?') == std::string::npos ? "?" : "&");
    url += "user_id=" + percent_encode(options_.user_id);
  }
  std::vector<std::string> headers = {"Authorization: Bearer " + options_.as_token};
  std::string text;
  if (!body.is_null()) {
    headers.emplace_back("Content-Type: application/json");
    text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return finish(http_.request(method, url, headers, text));
}

ClientResult ClientApi::send_message(std::string_view room_id, std::string_view txn_id,
                                     const json& content) {
  return request("PUT",
                 fmt::format("/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
                             percent_encode(room_id), percent_encode(txn_id)),
                 content);
}

ClientResult ClientApi::join(std::string_view room_id_or_alias) {
  return request("POST",
                 fmt::format("/_matrix/client/v3/join/{}", percent_encode(room_id_or_alias)),
                 json::object());
}

ClientResult ClientApi::whoami() { return request("GET", "/_matrix/client/v3/account/whoami"); }

ClientResult ClientApi::get_account_data(std::string_view user_id, std::string_view type) {
  return request("GET", fmt::format("/_matrix/client/v3/user/{}/account_data/{}",
                                    percent_encode(user_id), percent_encode(type)));
}

ClientResult ClientApi::put_account_data(std::string_view user_id, std::string_view type,
                                         const json& content) {
  return request("PUT",
                 fmt::format("/_matrix/client/v3/user/{}/account_data/{}", percent_encode(user_id),
                             percent_encode(type)),
                 content);
}

ClientResult ClientApi::create_direct_room(std::string_view user_id) {
  return request("POST", "/_matrix/client/v3/createRoom",
                 json{{"is_direct", true},
                      {"preset", "trusted_private_chat"},
                      {"invite", json::array({std::string(user_id)})}});
}

ClientResult ClientApi::get_event(std::string_view room_id, std::string_view event_id) {
  return request("GET", fmt::format("/_matrix/client/v3/rooms/{}/event/{}", percent_encode(room_id),
                                    percent_encode(event_id)));
}

ClientResult ClientApi::displayname(std::string_view user_id) {
  return request("GET",
                 fmt::format("/_matrix/client/v3/profile/{}/displayname", percent_encode(user_id)));
}

ClientResult ClientApi::finish(HttpResult http) const {
  ClientResult result;
  result.http_status = http.status;
  if (http.transport_failed()) {
    result.error = http.transport_error();
    return result;
  }
  result.retry_after = http.retry_after();
  result.json = json::parse(http.body, nullptr, /*allow_exceptions=*/false);
  if (result.json.is_discarded()) result.json = nullptr;

  const bool success = http.status >= 200 && http.status < 300;
  if (success && result.json.is_object()) {
    result.ok = true;
    return result;
  }
  result.errcode = string_at(result.json, "errcode");
  if (result.json.is_object()) {
    const auto ms = result.json.find("retry_after_ms");
    if (ms != result.json.end() && ms->is_number_integer() && ms->get<long long>() >= 0) {
      result.retry_after = std::chrono::milliseconds(ms->get<long long>());
    }
  }
  const std::string error = string_at(result.json, "error");
  if (!error.empty()) {
    result.error = error;
  } else if (!result.errcode.empty()) {
    result.error = result.errcode;
  } else if (!success) {
    result.error = fmt::format("HTTP {}", http.status);
  } else {
    result.error = "invalid_response";
  }
  return result;
}

DeliveryResult to_delivery_result(const ClientResult& result, std::string_view id_field) {
  using Outcome = DeliveryResult::Outcome;
  DeliveryResult out;
  if (result.ok) {
    const std::string id = string_at(result.json, std::string(id_field).c_str());
    if (!id.empty()) {
      out.outcome = Outcome::kSent;
      out.delivered_id = id;
      return out;
    }
    // No id: the same transaction again is answered with the event's id, posting nothing.
    out.outcome = Outcome::kRetry;
    out.error = fmt::format("response without {}", id_field);
    return out;
  }
  out.error =
      result.errcode.empty() ? result.error : fmt::format("{}: {}", result.errcode, result.error);
  if (result.retry_after) out.retry_after = *result.retry_after;
  const bool permanent = std::find(std::begin(kPermanentErrcodes), std::end(kPermanentErrcodes),
                                   result.errcode) != std::end(kPermanentErrcodes);
  if (result.http_status == 0 || result.http_status == 429 || result.http_status >= 500 ||
      result.errcode == "M_LIMIT_EXCEEDED" || result.http_status == 408) {
    out.outcome = Outcome::kRetry;  // transport, timeout, rate limit, the homeserver's side
  } else if (permanent || (result.http_status >= 400 && result.http_status < 500)) {
    out.outcome = Outcome::kPermanent;
    out.retry_after.reset();
  } else {
    out.outcome = Outcome::kRetry;  // a 2xx without JSON, 3xx: passing trouble
  }
  return out;
}

MatrixDeliverer::MatrixDeliverer(ClientApi::Options options) : api_(std::move(options)) {}

DeliveryResult MatrixDeliverer::deliver(const OutboxMessage& message,
                                        const std::optional<std::string>& thread_id) {
  DeliveryResult failed;
  failed.outcome = DeliveryResult::Outcome::kPermanent;
  if (message.channel.platform != "matrix") {
    failed.error = fmt::format("not a Matrix room (platform \"{}\")", message.channel.platform);
    return failed;
  }
  if (message.channel.channel.empty()) {
    failed.error = "no room";
    return failed;
  }
  if (message.kind == JobKind::kJoin) {
    return to_delivery_result(api_.join(message.channel.channel), "room_id");
  }
  Parsed<OutgoingMessage> outgoing = outgoing_from_json(message.content);
  if (!outgoing) {
    failed.error = fmt::format("unreadable outbox content: {}", outgoing.error);
    return failed;
  }
  if (message.thread_parent_lost) mark_thread_parent_lost(*outgoing);
  if (message.kind == JobKind::kDirect) {
    if (!is_matrix_user_id(message.channel.channel)) {
      failed.error = fmt::format("not a Matrix user id: \"{}\"", message.channel.channel);
      return failed;
    }
    auto room = direct_room(message.channel.channel);
    if (auto* refused = std::get_if<DeliveryResult>(&room)) return *refused;
    const std::string& room_id = std::get<std::string>(room);
    DeliveryResult sent = to_delivery_result(
        api_.send_message(room_id, transaction_id(message.id), message_content(*outgoing)));
    // Refused for good (the room is gone or the bot left it): ask m.direct again next time.
    if (sent.outcome == DeliveryResult::Outcome::kPermanent) {
      direct_rooms_.erase(message.channel.channel);
    }
    return sent;
  }
  return to_delivery_result(api_.send_message(message.channel.channel, transaction_id(message.id),
                                              message_content(*outgoing, thread_id)));
}

std::variant<std::string, DeliveryResult> MatrixDeliverer::direct_room(const std::string& user_id) {
  if (const auto known = direct_rooms_.find(user_id); known != direct_rooms_.end()) {
    return known->second;
  }
  if (bot_user_id_.empty()) bot_user_id_ = api_.options().user_id;
  if (bot_user_id_.empty()) {
    const ClientResult me = api_.whoami();
    if (!me.ok) return to_delivery_result(me);
    bot_user_id_ = string_at(me.json, "user_id");
    if (bot_user_id_.empty()) {
      DeliveryResult odd;
      odd.error = "whoami named no user";
      return odd;
    }
  }
  // m.direct maps each user id to the rooms that are direct chats with them.
  json direct = json::object();
  const ClientResult current = api_.get_account_data(bot_user_id_, "m.direct");
  if (current.ok) {
    direct = current.json;
  } else if (current.errcode != "M_NOT_FOUND") {
    return to_delivery_result(current);
  }
  if (const auto rooms = direct.find(user_id); rooms != direct.end() && rooms->is_array()) {
    for (const json& r : *rooms) {
      if (r.is_string() && !r.get<std::string>().empty()) {
        direct_rooms_[user_id] = r.get<std::string>();
        return r.get<std::string>();
      }
    }
  }
  const ClientResult created = api_.create_direct_room(user_id);
  if (!created.ok) return to_delivery_result(created, "room_id");
  const std::string room_id = string_at(created.json, "room_id");
  if (room_id.empty()) {
    DeliveryResult odd;
    odd.error = "createRoom named no room";
    return odd;
  }
  json& rooms = direct[user_id];
  if (!rooms.is_array()) rooms = json::array();
  rooms.push_back(room_id);
  // Recorded so that this and every other client of the bot account reuse the room. If this
  // fails, the room is still used now; a later process may create another.
  const ClientResult recorded = api_.put_account_data(bot_user_id_, "m.direct", direct);
  if (!recorded.ok) {
    spdlog::warn("matrix: could not record direct room {} with {} in m.direct: {}", room_id,
                 user_id, recorded.error);
  }
  direct_rooms_[user_id] = room_id;
  return room_id;
}

}  // namespace scribe::matrix
