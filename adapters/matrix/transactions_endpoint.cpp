#include "adapters/matrix/transactions_endpoint.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <exception>

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>
#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>

namespace scribe::matrix {
namespace {

using nlohmann::json;

constexpr std::string_view kTxnSource = "matrix-txn";
constexpr std::string_view kEventSource = "matrix-event";
constexpr std::string_view kPin = "\xF0\x9F\x93\x8C";                  // 📌
constexpr std::string_view kPinVs16 = "\xF0\x9F\x93\x8C\xEF\xB8\x8F";  // 📌 + U+FE0F
constexpr std::array<std::string_view, 3> kCommands = {"incident", "timeline", "action"};

// Constant-time comparison (as scribe::secret_equals in bot/api.cpp, which lives in
// scribe_bot, a library that links this one): digests hide where, and whether, lengths differ.
bool token_equals(std::string_view a, std::string_view b) {
  unsigned char da[SHA256_DIGEST_LENGTH];
  unsigned char db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

HttpResponse matrix_json(int status, const json& body) {
  return HttpResponse{status, "application/json", body.dump(), {}};
}

HttpResponse matrix_error(int status, std::string_view errcode, std::string_view message) {
  return matrix_json(status, json{{"errcode", errcode}, {"error", message}});
}

HttpResponse empty_ok() { return matrix_json(200, json::object()); }

std::string string_at(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json* object_at(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

std::string_view trim(std::string_view s) {
  const auto not_space = [](char c) { return !std::isspace(static_cast<unsigned char>(c)); };
  while (!s.empty() && !not_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && !not_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == lower(prefix);
}

void add_mention(std::vector<Person>& mentions, const std::string& user_id) {
  if (std::none_of(mentions.begin(), mentions.end(),
                   [&](const Person& p) { return p.id == user_id; })) {
    mentions.push_back(person_of(user_id));
  }
}

// ---- HTML (formatted_body) ----

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x110000) {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the character references of HTML text; unknown ones stay as written.
std::string decode_entities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    const std::string_view name = s.substr(i + 1, semi - i - 1);
    std::string replacement;
    if (name == "amp") replacement = "&";
    if (name == "lt") replacement = "<";
    if (name == "gt") replacement = ">";
    if (name == "quot") replacement = "\"";
    if (name == "apos") replacement = "'";
    if (name == "nbsp") replacement = " ";
    if (name.size() > 1 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      std::uint32_t cp = 0;
      auto [p, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (ec == std::errc() && p == digits.data() + digits.size() && !digits.empty()) {
        // As HTML decodes them: NUL, surrogates and code points past U+10FFFF are U+FFFD,
        // so the text stays valid UTF-8 (JSON refuses anything else when it is sent on).
        const bool valid = cp != 0 && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
        append_utf8(replacement, valid ? cp : 0xFFFD);
      } else if (ec == std::errc::result_out_of_range) {
        append_utf8(replacement, 0xFFFD);
      }
    }
    if (replacement.empty()) {
      out += s[i];
      continue;
    }
    out += replacement;
    i = semi;
  }
  return out;
}

std::string strip_tags(std::string_view html) {
  std::string out;
  bool in_tag = false;
  for (char c : html) {
    if (c == '<') in_tag = true;
    if (!in_tag) out += c;
    if (c == '>') in_tag = false;
  }
  return decode_entities(out);
}

// The value of attribute `name` in a start tag's text (`a href="…" …`), entities decoded.
std::string attribute(std::string_view tag, std::string_view name) {
  const std::string l = lower(tag);
  std::size_t pos = 0;
  while ((pos = l.find(name, pos)) != std::string::npos) {
    const bool starts = pos > 0 && std::isspace(static_cast<unsigned char>(l[pos - 1]));
    std::size_t p = pos + name.size();
    while (p < l.size() && l[p] == ' ') ++p;
    if (!starts || p >= l.size() || l[p] != '=') {
      pos += name.size();
      continue;
    }
    ++p;
    while (p < l.size() && l[p] == ' ') ++p;
    if (p >= l.size()) return {};
    if (l[p] == '"' || l[p] == '\'') {
      const auto end = l.find(l[p], p + 1);
      return decode_entities(
          tag.substr(p + 1, end == std::string::npos ? std::string::npos : end - p - 1));
    }
    const auto end = l.find_first_of(" \t\r\n>", p);
    return decode_entities(tag.substr(p, end == std::string::npos ? std::string::npos : end - p));
  }
  return {};
}

// Percent-decoding for the user id of a matrix.to link.
std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      unsigned v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// The user id a matrix.to permalink names ("https://matrix.to/#/@alice:example.org?via=…"),
// or empty when it names something else (a room, an event).
std::string pill_user(std::string_view href) {
  constexpr std::string_view kPrefix = "https://matrix.to/#/";
  if (!href.starts_with(kPrefix)) return {};
  std::string id = percent_decode(href.substr(kPrefix.size()));
  id = id.substr(0, id.find_first_of("?/"));
  if (id.size() < 4 || id[0] != '@' || id.find(':') == std::string::npos) return {};
  // User ids are printable ASCII; a link decoding to anything else (%00, %FF) names no one.
  if (std::any_of(id.begin(), id.end(), [](char c) { return c <= ' ' || c > '~'; })) return {};
  return id;
}

struct Pill {
  std::string user_id;
  std::string text;  // the link text, as the body shows it
};

// The user pills of formatted_body, in order, leaving out the quoted <mx-reply>.
std::vector<Pill> pills_in(std::string_view html) {
  std::vector<Pill> pills;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string_view::npos) {
    const auto close = html.find('>', i);
    if (close == std::string_view::npos) break;
    const std::string_view tag = html.substr(i + 1, close - i - 1);
    const std::string name = lower(tag.substr(0, tag.find_first_of(" \t\r\n/")));
    if (name == "mx-reply") {
      const auto end = lower(html).find("</mx-reply>", close);
      if (end == std::string::npos) break;
      i = end + 1;
      continue;
    }
    if (name == "a") {
      const auto end = lower(html).find("</a>", close);
      const std::string user = pill_user(attribute(tag, "href"));
      if (!user.empty() && end != std::string::npos) {
        pills.push_back(
            Pill{user, std::string(trim(strip_tags(html.substr(close + 1, end - close - 1))))});
        i = end + 4;
        continue;
      }
    }
    i = close + 1;
  }
  return pills;
}

// ---- plain text ----

// The body without a rich reply's fallback: the leading "> " quote lines and the blank
// line after them.
std::string_view without_reply_fallback(std::string_view body) {
  if (!body.starts_with("> ")) return body;
  while (body.starts_with(">")) {
    const auto nl = body.find('\n');
    if (nl == std::string_view::npos) return {};
    body.remove_prefix(nl + 1);
  }
  if (body.starts_with("\n")) body.remove_prefix(1);
  return body;
}

bool localpart_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '=' ||
         c == '-' || c == '/' || c == '+';
}

bool server_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}

// Bare user ids ("@alice:example.org", "@bob:host:8448") -> "@alice".
std::string translate_user_ids(std::string_view text, std::vector<Person>& mentions) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const bool boundary =
        i == 0 || !(std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '@');
    if (text[i] == '@' && boundary) {
      std::size_t p = i + 1;
      while (p < text.size() && localpart_char(text[p])) ++p;
      const std::size_t colon = p;
      if (p > i + 1 && p < text.size() && text[p] == ':') {
        std::size_t q = p + 1;
        while (q < text.size() && server_char(text[q])) ++q;
        while (q > p + 1 && (text[q - 1] == '.' || text[q - 1] == '-')) --q;  // sentence end
        if (q > p + 1) {
          if (q + 1 < text.size() && text[q] == ':' &&
              std::isdigit(static_cast<unsigned char>(text[q + 1]))) {
            ++q;
            while (q < text.size() && std::isdigit(static_cast<unsigned char>(text[q]))) ++q;
          }
          const std::string id(text.substr(i, q - i));
          add_mention(mentions, id);
          out += '@';
          out += text.substr(i + 1, colon - i - 1);
          i = q;
          continue;
        }
      }
    }
    out += text[i];
    ++i;
  }
  return out;
}

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

// Thrown inside Store::write to roll a probe back.
struct ProbeDone {};

}  // namespace

// ---- free functions ----

std::string localpart_of(std::string_view user_id) {
  if (!user_id.empty() && user_id.front() == '@') user_id.remove_prefix(1);
  return std::string(user_id.substr(0, user_id.find(':')));
}

std::string server_name_of(std::string_view id) {
  const auto colon = id.find(':');
  return colon == std::string_view::npos ? std::string() : std::string(id.substr(colon + 1));
}

ChannelRef channel_of(std::string_view room_id) {
  return ChannelRef{std::string(kPlatform), server_name_of(room_id), std::string(room_id)};
}

Person person_of(std::string_view user_id) {
  return Person{std::string(user_id), localpart_of(user_id)};
}

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

std::string message_text(const json& content, std::vector<Person>& mentions) {
  std::string text(without_reply_fallback(string_at(content, "body")));
  if (string_at(content, "format") == "org.matrix.custom.html") {
    // The body shows each pill as its link text; replace them in order.
    std::size_t cursor = 0;
    for (const Pill& pill : pills_in(string_at(content, "formatted_body"))) {
      add_mention(mentions, pill.user_id);
      if (pill.text.empty()) continue;
      const auto at = text.find(pill.text, cursor);
      if (at == std::string::npos) continue;
      const std::string replacement = "@" + localpart_of(pill.user_id);
      text.replace(at, pill.text.size(), replacement);
      cursor = at + replacement.size();
    }
  }
  return std::string(trim(translate_user_ids(text, mentions)));
}

// ---- TransactionsEndpoint ----

TransactionsEndpoint::TransactionsEndpoint(std::string hs_token, std::string bot_user_id,
                                           CommandHandler& handler, Store& store, Clock clock,
                                           InviteHandler on_invite, ReplySink reply_sink)
    : hs_token_(std::move(hs_token)),
      bot_user_id_(std::move(bot_user_id)),
      handler_(handler),
      store_(store),
      clock_(std::move(clock)),
      on_invite_(std::move(on_invite)),
      reply_sink_(std::move(reply_sink)) {}

bool TransactionsEndpoint::handles_path(std::string_view path) {
  return path.starts_with("/_matrix/app/") || path.starts_with("/transactions/") ||
         path.starts_with("/users/") || path.starts_with("/rooms/");
}

HttpResponse TransactionsEndpoint::handle(const HttpRequest& request) {
  auto parsed = boost::urls::parse_origin_form(request.target);
  if (!parsed) return matrix_error(400, "M_UNRECOGNIZED", "malformed request target");
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
  if (expected_method.empty()) return matrix_error(404, "M_UNRECOGNIZED", "Unrecognized request");
  if (request.method != expected_method) {
    HttpResponse r = matrix_error(405, "M_UNRECOGNIZED", "Unrecognized request");
    r.headers.emplace_back("Allow", expected_method);
    return r;
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
    return matrix_error(401, "M_UNAUTHORIZED", "missing the homeserver's token");
  }
  if (hs_token_.empty() || !token_equals(*token, hs_token_)) {
    spdlog::warn("Matrix AS request {} refused: wrong hs_token", segments[0]);
    return matrix_error(403, "M_FORBIDDEN", "wrong homeserver token");
  }

  if (segments[0] == "ping") return empty_ok();
  if (segments[0] == "users") {
    if (segments[1] == bot_user_id_) return empty_ok();
    return matrix_error(404, "M_NOT_FOUND", "no such user here");
  }
  if (segments[0] == "rooms") {
    // Scribe creates no rooms on demand: no alias is hosted here.
    return matrix_error(404, "M_NOT_FOUND", "no such room alias here");
  }
  return on_transaction(segments[1], request.body);
}

HttpResponse TransactionsEndpoint::on_transaction(const std::string& txn_id,
                                                  const std::string& body) {
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return matrix_error(400, "M_NOT_JSON", "the body is not JSON");
  const auto events = parsed.is_object() ? parsed.find("events") : parsed.end();
  if (!parsed.is_object() || events == parsed.end() || !events->is_array()) {
    return matrix_error(400, "M_BAD_JSON", "expected an object with an \"events\" array");
  }
  try {
    if (seen(kTxnSource, txn_id)) {
      spdlog::info("Matrix transaction {} replayed; already processed", txn_id);
      return empty_ok();
    }
    for (const json& event : *events) {
      if (event.is_object()) on_event(event, *events);
    }
    remember(kTxnSource, txn_id);
  } catch (const std::exception& e) {
    // What was committed stays; the homeserver retries and seen events are skipped.
    spdlog::error("Matrix transaction {} not fully processed: {}", txn_id, e.what());
    return matrix_error(503, "M_UNKNOWN", "not processed; please retry");
  }
  return empty_ok();
}

bool TransactionsEndpoint::seen(std::string_view source, std::string_view key) {
  // first_delivery records as it answers; rolled back, it only answers.
  bool first = false;
  try {
    store_.write([&](Transaction& tx) {
      first = tx.first_delivery(source, key, clock_());
      throw ProbeDone{};
    });
  } catch (const ProbeDone&) {
  }
  return !first;
}

void TransactionsEndpoint::remember(std::string_view source, std::string_view key) {
  store_.write([&](Transaction& tx) { tx.first_delivery(source, key, clock_()); });
}

void TransactionsEndpoint::on_event(const json& event, const json& events) {
  const std::string type = string_at(event, "type");
  const std::string sender = string_at(event, "sender");
  if (sender.empty() || sender == bot_user_id_) return;
  if (type != "m.room.message" && type != "m.reaction" && type != "m.room.member") return;
  if (type == "m.room.member" &&
      (string_at(event, "state_key") != bot_user_id_ || object_at(event, "content") == nullptr ||
       string_at(*object_at(event, "content"), "membership") != "invite")) {
    return;
  }
  const std::string event_id = string_at(event, "event_id");
  if (!event_id.empty() && seen(kEventSource, event_id)) {
    spdlog::info("Matrix event {} already processed", event_id);
    return;
  }
  if (type == "m.room.message") on_message(event);
  if (type == "m.reaction") on_reaction(event, events);
  if (type == "m.room.member") on_member(event);
  if (!event_id.empty()) remember(kEventSource, event_id);
}

void TransactionsEndpoint::on_message(const json& event) {
  const json* content = object_at(event, "content");
  if (content == nullptr || string_at(*content, "msgtype") != "m.text") return;
  if (const json* rel = object_at(*content, "m.relates_to");
      rel != nullptr && string_at(*rel, "rel_type") == "m.replace") {
    return;  // an edit: see the header
  }
  Invocation inv;
  const std::string text = message_text(*content, inv.mentions);
  auto command = split_command(text);
  if (!command) return;
  const std::string room_id = string_at(event, "room_id");
  if (room_id.empty()) return;  // malformed: a command must come from a room
  inv.channel = channel_of(room_id);
  inv.user = person_of(string_at(event, "sender"));
  inv.command = command->first;
  inv.prefix = "!";
  inv.text = command->second;
  inv.received_at = origin_ts(event).value_or(clock_());
  const Reply reply = handler_.handle(inv);  // throws StoreError: nothing committed
  if (reply_sink_) reply_sink_(inv.channel, reply, string_at(event, "event_id"));
}

void TransactionsEndpoint::on_reaction(const json& event, const json& events) {
  const json* content = object_at(event, "content");
  const json* rel = content != nullptr ? object_at(*content, "m.relates_to") : nullptr;
  if (rel == nullptr) return;
  const std::string key = string_at(*rel, "key");
  if (key != kPin && key != kPinVs16) return;
  const std::string target = string_at(*rel, "event_id");
  const std::string room_id = string_at(event, "room_id");
  if (target.empty() || room_id.empty()) return;

  MarkedMessage marked;
  marked.channel = channel_of(room_id);
  marked.marked_by = person_of(string_at(event, "sender"));
  marked.message_id = target;
  marked.received_at = origin_ts(event).value_or(clock_());

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
    handler_.record_marked_message(marked);
    return;
  }
  const FetchJob job{room_id, target, marked.marked_by.id, marked.received_at};
  handler_.defer_marked_message(marked, std::string(kFetchPlatform), fetch_job(job));
}

void TransactionsEndpoint::on_member(const json& event) {
  const std::string room_id = string_at(event, "room_id");
  spdlog::info("Matrix: invited to {} by {}", room_id, string_at(event, "sender"));
  if (on_invite_ && !room_id.empty()) on_invite_(room_id);
}

}  // namespace scribe::matrix
