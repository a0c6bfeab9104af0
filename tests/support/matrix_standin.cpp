#include "support/matrix_standin.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/http_client.h"
#include "util/percent.h"
#include "util/strings.h"

namespace scribe::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

constexpr std::string_view kClientPrefix = "/_matrix/client/v3/";

void parse_query(std::string_view s, std::map<std::string, std::string>& out) {
  while (!s.empty()) {
    const auto amp = s.find('&');
    const std::string_view pair = s.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      out[percent_decode(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    s.remove_prefix(amp + 1);
  }
}

// The encoded path split at "/" and each segment decoded, so that an escaped "/" inside an
// id stays inside its segment.
std::vector<std::string> segments(std::string_view raw_path) {
  std::vector<std::string> out;
  if (raw_path.starts_with('/')) raw_path.remove_prefix(1);
  while (true) {
    const auto slash = raw_path.find('/');
    out.push_back(percent_decode(raw_path.substr(0, slash), false));
    if (slash == std::string_view::npos) break;
    raw_path.remove_prefix(slash + 1);
  }
  return out;
}

struct Answer {
  unsigned status = 200;
  std::string body;
  MatrixHeaderList headers;
};

Answer ok(const json& body) { return {200, body.dump(), {}}; }

Answer matrix_error(unsigned status, std::string_view errcode, std::string_view error) {
  return {status, json{{"errcode", errcode}, {"error", error}}.dump(), {}};
}

struct Scripted {
  int remaining = 0;
  Answer answer;
  std::string path_part;  // only calls whose path contains it; empty: any call
};

}  // namespace

std::string MatrixCall::header(std::string_view name) const {
  const std::string key = lower(name);
  for (const auto& [n, v] : headers) {
    if (n == key) return v;
  }
  return {};
}

std::string MatrixCall::param(const std::string& name) const {
  const auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

struct MatrixStandIn::Impl {
  Impl(std::string token, std::string server)
      : as_token(std::move(token)), server_name(std::move(server)) {}

  // ---- state shared with the test's threads, guarded by `mu` ----
  mutable std::mutex mu;
  mutable std::condition_variable changed;
  const std::string as_token;
  const std::string server_name;
  std::vector<MatrixCall> calls;
  std::vector<MatrixSentMessage> sent;
  std::map<std::pair<std::string, std::string>, json> events;  // (room, event id) -> event
  std::map<std::string, std::string> displaynames;
  std::set<std::string> forbidden_rooms;
  std::vector<std::string> joined;
  std::map<std::pair<std::string, std::string>, json> account_data;  // (user, type) -> content
  std::vector<MatrixCreatedRoom> created_rooms;
  std::uint64_t next_room = 1;
  std::deque<Scripted> scripted;
  std::chrono::milliseconds delay{0};
  bool down = false;
  std::size_t connections = 0;
  std::uint64_t next_event = 1;
  // The bot account's view: one stream of room events and invites, positions 1, 2, ...
  struct StreamItem {
    std::uint64_t pos = 0;
    std::string room;
    json event;
    bool invite = false;
  };
  std::vector<StreamItem> stream;
  std::uint64_t stream_pos = 0;
  std::map<std::string, json> room_state;              // room -> state events (encryption)
  std::map<std::string, std::uint64_t> bot_joined_at;  // room -> position of the bot's join
  bool token_revoked = false;
  std::map<std::string, std::pair<std::string, std::string>> logins;  // user -> password, token
  std::uint64_t highest_since = 0;  // the largest since a /sync asked with
  bool sync_asked = false;
  // Long polls waiting for events; only the server's thread touches this.
  std::set<asio::steady_timer*> sync_waiters;

  // ---- the server; only its thread touches these (and the destructor after the join) ----
  std::set<tcp::socket*> open_sockets;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;
  std::thread thread;

  bool refusing() {
    std::lock_guard lock(mu);
    return down;
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      if (refusing()) {
        socket.close(ec);
        continue;
      }
      {
        std::lock_guard lock(mu);
        ++connections;
      }
      asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    tcp::socket* const registered = &socket;
    open_sockets.insert(registered);
    struct Unregister {
      Impl* impl;
      tcp::socket* socket;
      ~Unregister() { impl->open_sockets.erase(socket); }
    } unregister{this, registered};

    beast::flat_buffer buffer;
    for (;;) {
      boost::system::error_code ec;
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      co_await http::async_read(socket, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      const http::request<http::string_body> request = parser.release();
      if (refusing()) break;

      std::chrono::milliseconds wait{0};
      std::chrono::milliseconds long_poll{0};
      Answer answer = handle(request, wait, &long_poll);
      if (long_poll.count() > 0) {
        // Nothing new for this /sync: wait for an event (the timer is cancelled) or the
        // poll's timeout, then answer with whatever there is.
        asio::steady_timer poll(ioc, long_poll);
        sync_waiters.insert(&poll);
        co_await poll.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        sync_waiters.erase(&poll);
        if (!acceptor.is_open()) break;
        answer = handle(request, wait, nullptr);
      }
      if (wait.count() > 0) {
        asio::steady_timer timer(ioc, wait);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }

      http::response<http::string_body> response{static_cast<http::status>(answer.status),
                                                 request.version()};
      response.set(http::field::server, "matrix-standin");
      response.set(http::field::content_type, "application/json");
      for (const auto& [name, value] : answer.headers) response.set(name, value);
      response.body() = std::move(answer.body);
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      co_await http::async_write(socket, response, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !response.keep_alive()) break;
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  // `long_poll`: when not null and the call is a /sync with nothing new, set to its timeout
  // and nothing is recorded (the session waits, then calls again with nullptr).
  Answer handle(const http::request<http::string_body>& request, std::chrono::milliseconds& wait,
                std::chrono::milliseconds* long_poll) {
    MatrixCall call;
    call.arrived = std::chrono::steady_clock::now();
    call.http_method = std::string(request.method_string());
    const std::string_view target = request.target();
    const auto question = target.find('?');
    call.raw_path = std::string(target.substr(0, question));
    call.path = percent_decode(call.raw_path, false);
    if (question != std::string_view::npos) parse_query(target.substr(question + 1), call.query);
    for (const auto& field : request) {
      call.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
    }
    call.body = request.body();
    call.json = json::parse(call.body, nullptr, /*allow_exceptions=*/false);
    if (call.json.is_discarded()) call.json = nullptr;

    std::lock_guard lock(mu);
    wait = delay;
    if (call.path.ends_with("/sync")) {
      // Asking from a position means everything before it is stored: known on arrival,
      // before any long poll.
      highest_since = std::max<std::uint64_t>(highest_since, position_of(call.param("since")));
      sync_asked = true;
      changed.notify_all();
    }
    Answer answer;
    const auto script = std::find_if(scripted.begin(), scripted.end(), [&](const Scripted& s) {
      return call.path.find(s.path_part) != std::string::npos;
    });
    if (script != scripted.end()) {
      answer = script->answer;
      if (--script->remaining <= 0) scripted.erase(script);
    } else {
      answer = route(call);
      if (answer.status == 0) {  // a /sync that would wait
        const std::string t = call.param("timeout");
        const long timeout_ms = t.empty() ? 0 : std::stol(t);
        if (long_poll != nullptr && timeout_ms > 0) {
          *long_poll = std::chrono::milliseconds(timeout_ms);
          return answer;
        }
        answer = sync(call, /*may_wait=*/false);
      }
    }
    call.status = answer.status;
    calls.push_back(std::move(call));
    changed.notify_all();
    return answer;
  }

  // The homeserver's behaviour for one call; `mu` is held.
  Answer route(const MatrixCall& call) {
    if (!call.path.starts_with(kClientPrefix)) {
      return matrix_error(404, "M_UNRECOGNIZED", "Unrecognized request");
    }
    if (call.http_method == "POST" && call.path == "/_matrix/client/v3/login") return login(call);
    if (token_revoked) {
      return matrix_error(401, "M_UNKNOWN_TOKEN", "Access token has been revoked");
    }
    if (!as_token.empty()) {
      const std::string authorization = call.header("authorization");
      const std::string query_token = call.param("access_token");
      if (authorization.empty() && query_token.empty()) {
        return matrix_error(401, "M_MISSING_TOKEN", "Missing access token");
      }
      if (authorization != "Bearer " + as_token && query_token != as_token) {
        return matrix_error(401, "M_UNKNOWN_TOKEN", "Unrecognised access token");
      }
    }
    // After "/_matrix/client/v3/".
    const std::vector<std::string> parts = segments(call.raw_path);
    if (parts.size() < 4) return matrix_error(404, "M_UNRECOGNIZED", "Unrecognized request");
    const std::vector<std::string> rest(parts.begin() + 3, parts.end());
    const std::string& m = call.http_method;
    if (m == "PUT" && rest.size() == 5 && rest[0] == "rooms" && rest[2] == "send") {
      return send(call, rest[1], rest[3], rest[4]);
    }
    if (m == "GET" && rest.size() == 1 && rest[0] == "sync") return sync(call, /*may_wait=*/true);
    if (m == "GET" && rest.size() == 3 && rest[0] == "rooms" && rest[2] == "messages") {
      return messages(call, rest[1]);
    }
    if (m == "POST" && rest.size() == 2 && rest[0] == "join") return join(rest[1]);
    if (m == "POST" && rest.size() == 3 && rest[0] == "rooms" && rest[2] == "join") {
      return join(rest[1]);
    }
    if (m == "GET" && rest.size() == 4 && rest[0] == "rooms" && rest[2] == "event") {
      const auto it = events.find({rest[1], rest[3]});
      if (it == events.end()) return matrix_error(404, "M_NOT_FOUND", "Event not found.");
      return ok(it->second);
    }
    if (m == "GET" && rest.size() == 2 && rest[0] == "account" && rest[1] == "whoami") {
      const std::string as = call.param("user_id");
      return ok({{"user_id", as.empty() ? "@scribe:" + server_name : as}});
    }
    if (rest.size() == 4 && rest[0] == "user" && rest[2] == "account_data") {
      const std::pair<std::string, std::string> key{rest[1], rest[3]};
      if (m == "GET") {
        const auto it = account_data.find(key);
        if (it == account_data.end()) return matrix_error(404, "M_NOT_FOUND", "Not found");
        return ok(it->second);
      }
      if (m == "PUT") {
        if (!call.json.is_object()) return matrix_error(400, "M_NOT_JSON", "Content not JSON.");
        account_data[key] = call.json;
        return ok(json::object());
      }
    }
    if (m == "POST" && rest.size() == 1 && rest[0] == "createRoom") {
      if (!call.json.is_object()) return matrix_error(400, "M_NOT_JSON", "Content not JSON.");
      MatrixCreatedRoom room;
      room.room_id = fmt::format("!room{}:{}", next_room++, server_name);
      // An AS asserts its user; a bot account's token is the bot's own (as for sends).
      const std::string asserted = call.param("user_id");
      room.creator = asserted.empty() ? "@scribe:" + server_name : asserted;
      room.is_direct = call.json.value("is_direct", false);
      if (const auto invite = call.json.find("invite"); invite != call.json.end()) {
        for (const json& u : *invite) {
          if (u.is_string()) room.invited.push_back(u.get<std::string>());
        }
      }
      created_rooms.push_back(room);
      return ok({{"room_id", room.room_id}});
    }
    if (m == "GET" && rest.size() == 3 && rest[0] == "profile" && rest[2] == "displayname") {
      const auto it = displaynames.find(rest[1]);
      if (it == displaynames.end()) return matrix_error(404, "M_NOT_FOUND", "Profile not found");
      return ok({{"displayname", it->second}});
    }
    return matrix_error(404, "M_UNRECOGNIZED", "Unrecognized request");
  }

  Answer send(const MatrixCall& call, const std::string& room, const std::string& type,
              const std::string& txn) {
    if (!call.json.is_object()) return matrix_error(400, "M_NOT_JSON", "Content not JSON.");
    if (type != "m.room.message") {
      return matrix_error(400, "M_UNRECOGNIZED", "The stand-in only takes m.room.message");
    }
    const std::string asserted = call.param("user_id");
    const std::string sender = asserted.empty() ? "@scribe:" + server_name : asserted;
    // A repeated transaction (same sender, room, txnId) is answered with the first event.
    for (const auto& s : sent) {
      if (s.room_id == room && s.txn_id == txn && s.sender == sender) {
        return ok({{"event_id", s.event_id}});
      }
    }
    MatrixSentMessage message{room, txn, fmt::format("${}", next_event++), sender, call.json};
    json event = {{"type", type},
                  {"room_id", room},
                  {"event_id", message.event_id},
                  {"sender", sender},
                  {"origin_server_ts", 1700000000000LL},
                  {"content", call.json}};
    events[{room, message.event_id}] = event;
    stream.push_back({++stream_pos, room, std::move(event), false});  // the bot's own echo
    sent.push_back(message);
    // As a homeserver: a pending /sync returns with the new event, the sender's own too.
    wake_sync_waiters();
    return ok({{"event_id", message.event_id}});
  }

  Answer join(const std::string& room) {
    if (forbidden_rooms.count(room) != 0) {
      return matrix_error(403, "M_FORBIDDEN", "You are not invited to this room.");
    }
    joined.push_back(room);
    if (bot_joined_at.count(room) == 0) bot_joined_at[room] = ++stream_pos;
    return ok({{"room_id", room}});
  }

  // ---- the bot account ----

  Answer login(const MatrixCall& call) {
    const json* identifier = call.json.is_object() && call.json.contains("identifier")
                                 ? &call.json["identifier"]
                                 : nullptr;
    if (!call.json.is_object() || call.json.value("type", "") != "m.login.password" ||
        identifier == nullptr || !identifier->is_object()) {
      return matrix_error(400, "M_UNKNOWN", "Unknown login type");
    }
    std::string user = identifier->value("user", "");
    if (user.starts_with('@')) user = user.substr(1, user.find(':') - 1);
    const auto it = logins.find(user);
    if (it == logins.end() || call.json.value("password", "") != it->second.first) {
      return matrix_error(403, "M_FORBIDDEN", "Invalid username or password");
    }
    return ok({{"user_id", "@" + user + ":" + server_name},
               {"access_token", it->second.second},
               {"device_id", "STANDINDEVICE"}});
  }

  static std::uint64_t position_of(const std::string& token) {
    if (token.size() < 2 || token[0] != 's') return 0;
    return std::stoull(token.substr(1));
  }

  // The filter's room.timeline {limit, types}.
  static std::pair<std::size_t, std::set<std::string>> timeline_filter(const MatrixCall& call) {
    std::size_t limit = 10;  // Synapse's default
    std::set<std::string> types;
    const json f = json::parse(call.param("filter"), nullptr, false);
    if (f.is_object() && f.contains("room") && f["room"].contains("timeline")) {
      const json& t = f["room"]["timeline"];
      if (t.contains("limit") && t["limit"].is_number_integer())
        limit = t["limit"].get<std::size_t>();
      if (t.contains("types")) {
        for (const json& x : t["types"]) types.insert(x.get<std::string>());
      }
    }
    return {limit, types};
  }

  // status 0: nothing new and `may_wait` (the caller long-polls).
  Answer sync(const MatrixCall& call, bool may_wait) {
    const bool initial = call.param("since").empty();
    const std::uint64_t since = position_of(call.param("since"));
    const auto [limit, types] = timeline_filter(call);
    const std::string bot = "@scribe:" + server_name;
    json join = json::object();
    json invite = json::object();
    for (const auto& [room, joined_at] : bot_joined_at) {
      std::vector<const StreamItem*> timeline;
      for (const auto& item : stream) {
        if (item.invite || item.room != room || item.pos <= since) continue;
        if (!types.empty() && types.count(item.event.value("type", "")) == 0) continue;
        timeline.push_back(&item);
      }
      json r = json::object();
      const bool limited = timeline.size() > limit;
      if (limited) timeline.erase(timeline.begin(), timeline.end() - static_cast<long>(limit));
      json listed = json::array();
      for (const auto* item : timeline) {
        json e = item->event;
        e.erase("room_id");  // sync's events carry no room_id
        listed.push_back(std::move(e));
      }
      if (!listed.empty() || limited) {
        r["timeline"] = {{"events", listed}, {"limited", limited}};
        if (limited) {
          const std::uint64_t before = timeline.empty() ? stream_pos : timeline.front()->pos - 1;
          r["timeline"]["prev_batch"] = fmt::format("s{}", before);
        }
      }
      if ((initial || joined_at > since) && room_state.count(room) != 0) {
        r["state"] = {{"events", room_state[room]}};
      }
      if (!r.empty()) join[room] = std::move(r);
    }
    for (const auto& item : stream) {
      if (!item.invite || item.pos <= since) continue;
      const auto j = bot_joined_at.find(item.room);
      if (j != bot_joined_at.end() && j->second > item.pos) continue;
      json state = room_state.count(item.room) != 0 ? room_state[item.room] : json::array();
      state.push_back(item.event);
      invite[item.room] = {{"invite_state", {{"events", state}}}};
    }
    if (may_wait && !initial && join.empty() && invite.empty()) return {0, {}, {}};
    (void)bot;
    return ok({{"next_batch", fmt::format("s{}", stream_pos)},
               {"rooms", {{"join", join}, {"invite", invite}, {"leave", json::object()}}}});
  }

  Answer messages(const MatrixCall& call, const std::string& room) {
    if (call.param("dir") != "b") return matrix_error(400, "M_INVALID_PARAM", "only dir=b here");
    const std::uint64_t from = position_of(call.param("from"));
    const std::uint64_t to = position_of(call.param("to"));
    const std::string l = call.param("limit");
    const std::size_t limit = l.empty() ? 10 : std::stoul(l);
    std::set<std::string> types;
    const json f = json::parse(call.param("filter"), nullptr, false);
    if (f.is_object() && f.contains("types")) {
      for (const json& x : f["types"]) types.insert(x.get<std::string>());
    }
    json chunk = json::array();
    std::uint64_t last = from;
    bool more = false;
    for (auto it = stream.rbegin(); it != stream.rend(); ++it) {
      if (it->invite || it->room != room || it->pos > from || it->pos <= to) continue;
      if (!types.empty() && types.count(it->event.value("type", "")) == 0) continue;
      if (chunk.size() == limit) {
        more = true;
        break;
      }
      chunk.push_back(it->event);
      last = it->pos - 1;
    }
    json answer = {{"chunk", chunk}, {"start", fmt::format("s{}", from)}};
    if (more) answer["end"] = fmt::format("s{}", last);
    return ok(answer);
  }

  void wake_sync_waiters() {
    asio::post(ioc, [this] {
      for (asio::steady_timer* t : sync_waiters) t->cancel();
    });
  }

  void shut_down() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (tcp::socket* socket : open_sockets) {
      socket->shutdown(tcp::socket::shutdown_both, ignored);
      socket->close(ignored);
    }
    ioc.stop();
  }
};

MatrixStandIn::MatrixStandIn(std::string as_token, std::string server_name)
    : impl_(std::make_unique<Impl>(std::move(as_token), std::move(server_name))) {
  Impl& impl = *impl_;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl.acceptor.open(endpoint.protocol());
  impl.acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl.acceptor.bind(endpoint);
  impl.acceptor.listen();
  impl.port = impl.acceptor.local_endpoint().port();
  asio::co_spawn(impl.ioc, impl.accept_loop(), asio::detached);
  impl.thread = std::thread([&impl] { impl.ioc.run(); });
}

MatrixStandIn::~MatrixStandIn() {
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->shut_down(); });
  impl_->thread.join();
}

std::uint16_t MatrixStandIn::port() const { return impl_->port; }

std::string MatrixStandIn::base_url() const {
  return fmt::format("http://127.0.0.1:{}", impl_->port);
}

const std::string& MatrixStandIn::as_token() const { return impl_->as_token; }

const std::string& MatrixStandIn::server_name() const { return impl_->server_name; }

void MatrixStandIn::add_event(const std::string& room_id, const std::string& event_id, json event) {
  event["room_id"] = room_id;
  event["event_id"] = event_id;
  std::lock_guard lock(impl_->mu);
  impl_->events[{room_id, event_id}] = std::move(event);
}

void MatrixStandIn::set_displayname(const std::string& user_id, const std::string& name) {
  std::lock_guard lock(impl_->mu);
  impl_->displaynames[user_id] = name;
}

void MatrixStandIn::forbid_join(const std::string& room_id) {
  std::lock_guard lock(impl_->mu);
  impl_->forbidden_rooms.insert(room_id);
}

void MatrixStandIn::fail_next(int n, unsigned status, std::string body, MatrixHeaderList headers) {
  fail_next_to("", n, status, std::move(body), std::move(headers));
}

void MatrixStandIn::fail_next_to(std::string_view path_part, int n, unsigned status,
                                 std::string body, MatrixHeaderList headers) {
  if (n <= 0) return;
  if (body.empty() && status == 429) {
    body = json{
        {"errcode", "M_LIMIT_EXCEEDED"},
        {"error", "Too many requests"},
        {"retry_after_ms",
         1500}}.dump();
  }
  std::lock_guard lock(impl_->mu);
  impl_->scripted.push_back(
      {n, {status, std::move(body), std::move(headers)}, std::string(path_part)});
}

void MatrixStandIn::set_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mu);
  impl_->delay = delay;
}

void MatrixStandIn::set_down(bool down) {
  std::lock_guard lock(impl_->mu);
  impl_->down = down;
}

PushResult MatrixStandIn::push_transaction(const std::string& scribe_base_url,
                                           const std::string& hs_token, const std::string& txn_id,
                                           const json& events) const {
  std::string base = scribe_base_url;
  while (base.ends_with('/')) base.pop_back();
  const std::string escaped = percent_encode(txn_id);
  HttpClient client(std::chrono::seconds(10), std::chrono::seconds(2));
  const HttpResult http =
      client.request("PUT", base + "/_matrix/app/v1/transactions/" + escaped,
                     {"Authorization: Bearer " + hs_token, "Content-Type: application/json"},
                     json{{"events", events}}.dump());
  PushResult out;
  out.status = http.status;
  out.body = http.body;
  out.error = http.error;
  out.json = json::parse(http.body, nullptr, /*allow_exceptions=*/false);
  if (out.json.is_discarded()) out.json = nullptr;
  return out;
}

std::string MatrixStandIn::bot_user_id() const { return "@scribe:" + impl_->server_name; }

std::string MatrixStandIn::add_room_event(const std::string& room_id, json event) {
  std::string id;
  {
    std::lock_guard lock(impl_->mu);
    const std::uint64_t pos = ++impl_->stream_pos;
    event["room_id"] = room_id;
    if (!event.contains("event_id")) event["event_id"] = fmt::format("$s{}", pos);
    if (!event.contains("origin_server_ts")) {
      event["origin_server_ts"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
    }
    if (event.value("type", "") == "m.room.encryption") impl_->room_state[room_id].push_back(event);
    id = event["event_id"].get<std::string>();
    impl_->events[{room_id, id}] = event;
    impl_->stream.push_back({pos, room_id, std::move(event), false});
  }
  impl_->wake_sync_waiters();
  return id;
}

std::string MatrixStandIn::add_message(const std::string& room_id, const std::string& sender,
                                       const std::string& body) {
  return add_room_event(room_id, {{"type", "m.room.message"},
                                  {"sender", sender},
                                  {"content", {{"msgtype", "m.text"}, {"body", body}}}});
}

void MatrixStandIn::join_bot(const std::string& room_id) {
  std::lock_guard lock(impl_->mu);
  impl_->bot_joined_at[room_id] = ++impl_->stream_pos;
}

void MatrixStandIn::invite_bot(const std::string& room_id, const std::string& inviter,
                               bool encrypted) {
  {
    std::lock_guard lock(impl_->mu);
    if (encrypted) {
      impl_->room_state[room_id].push_back({{"type", "m.room.encryption"},
                                            {"state_key", ""},
                                            {"sender", inviter},
                                            {"event_id", fmt::format("$enc-{}", room_id)},
                                            {"content", {{"algorithm", "m.megolm.v1.aes-sha2"}}}});
    }
    json member = {{"type", "m.room.member"},
                   {"state_key", "@scribe:" + impl_->server_name},
                   {"sender", inviter},
                   {"content", {{"membership", "invite"}}}};
    impl_->stream.push_back({++impl_->stream_pos, room_id, std::move(member), true});
  }
  impl_->wake_sync_waiters();
}

void MatrixStandIn::revoke_token() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->token_revoked = true;
  }
  impl_->wake_sync_waiters();
}

void MatrixStandIn::add_login(const std::string& user, const std::string& password,
                              const std::string& token) {
  std::lock_guard lock(impl_->mu);
  impl_->logins[user] = {password, token};
}

std::uint64_t MatrixStandIn::stream_position() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stream_pos;
}

bool MatrixStandIn::wait_for_sync_since(std::uint64_t position,
                                        std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->changed.wait_for(
      lock, timeout, [&] { return impl_->sync_asked && impl_->highest_since >= position; });
}

std::vector<MatrixCall> MatrixStandIn::calls() const {
  std::lock_guard lock(impl_->mu);
  return impl_->calls;
}

std::vector<MatrixCall> MatrixStandIn::calls_to(std::string_view path_part) const {
  std::lock_guard lock(impl_->mu);
  std::vector<MatrixCall> out;
  for (const auto& call : impl_->calls) {
    if (call.path.find(path_part) != std::string::npos) out.push_back(call);
  }
  return out;
}

bool MatrixStandIn::wait_for(std::string_view path_part, std::size_t n,
                             std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->changed.wait_for(lock, timeout, [&] {
    return static_cast<std::size_t>(
               std::count_if(impl_->calls.begin(), impl_->calls.end(), [&](const MatrixCall& call) {
                 return call.path.find(path_part) != std::string::npos;
               })) >= n;
  });
}

std::vector<MatrixSentMessage> MatrixStandIn::sent_messages(const std::string& room) const {
  std::lock_guard lock(impl_->mu);
  std::vector<MatrixSentMessage> out;
  for (const auto& m : impl_->sent) {
    if (room.empty() || m.room_id == room) out.push_back(m);
  }
  return out;
}

bool MatrixStandIn::wait_for_messages(std::size_t n, const std::string& room,
                                      std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->changed.wait_for(lock, timeout, [&] {
    return static_cast<std::size_t>(std::count_if(
               impl_->sent.begin(), impl_->sent.end(),
               [&](const auto& m) { return room.empty() || m.room_id == room; })) >= n;
  });
}

std::vector<MatrixCreatedRoom> MatrixStandIn::created_rooms() const {
  std::lock_guard lock(impl_->mu);
  return impl_->created_rooms;
}

nlohmann::json MatrixStandIn::account_data(const std::string& user_id,
                                           const std::string& type) const {
  std::lock_guard lock(impl_->mu);
  const auto it = impl_->account_data.find({user_id, type});
  return it == impl_->account_data.end() ? nlohmann::json() : it->second;
}

std::vector<std::string> MatrixStandIn::joins() const {
  std::lock_guard lock(impl_->mu);
  return impl_->joined;
}

std::size_t MatrixStandIn::connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections;
}

}  // namespace scribe::testing
