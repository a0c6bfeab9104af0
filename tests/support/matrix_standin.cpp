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
      Answer answer = handle(request, wait);
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

  Answer handle(const http::request<http::string_body>& request, std::chrono::milliseconds& wait) {
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
    Answer answer;
    if (!scripted.empty()) {
      answer = scripted.front().answer;
      if (--scripted.front().remaining <= 0) scripted.pop_front();
    } else {
      answer = route(call);
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
      room.creator = call.param("user_id");
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
    const std::string sender = call.param("user_id");
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
    events[{room, message.event_id}] = std::move(event);
    sent.push_back(message);
    return ok({{"event_id", message.event_id}});
  }

  Answer join(const std::string& room) {
    if (forbidden_rooms.count(room) != 0) {
      return matrix_error(403, "M_FORBIDDEN", "You are not invited to this room.");
    }
    joined.push_back(room);
    return ok({{"room_id", room}});
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
  if (n <= 0) return;
  if (body.empty() && status == 429) {
    body = json{
        {"errcode", "M_LIMIT_EXCEEDED"},
        {"error", "Too many requests"},
        {"retry_after_ms",
         1500}}.dump();
  }
  std::lock_guard lock(impl_->mu);
  impl_->scripted.push_back({n, {status, std::move(body), std::move(headers)}});
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
