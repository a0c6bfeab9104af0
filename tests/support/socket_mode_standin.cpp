#include "support/socket_mode_standin.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "support/test_ca.h"

namespace scribe::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using nlohmann::json;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
using Ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
using Clock = std::chrono::steady_clock;

struct Connection {
  Connection(tcp::socket socket, ssl::context& tls, int number)
      : ws(std::move(socket), tls), id(number) {}
  Ws ws;
  int id;
  bool open = false;
  bool deaf = false;  // stop_reading()
  std::deque<std::string> out;
  bool writing = false;
};

}  // namespace

struct SocketModeStandIn::Impl {
  // ---- network thread only ----
  asio::io_context ioc{1};
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  std::map<int, std::shared_ptr<Connection>> live;
  std::thread thread;

  // ---- set once ----
  ThrowawayCa ca;
  std::uint16_t port = 0;

  // ---- shared, guarded by mu ----
  mutable std::mutex mu;
  mutable std::condition_variable changed;
  int next_connection = 1;
  std::uint64_t next_ticket = 1;
  std::uint64_t next_envelope = 1;
  std::vector<int> open_ids;
  std::map<int, Clock::time_point> opened, closed;
  std::size_t total = 0;
  std::size_t min_open_seen = 0;
  bool min_tracking = false;
  std::vector<SocketAck> acks;
  std::chrono::milliseconds read_delay{0};

  void note_open_count() {  // mu held
    if (open_ids.size() >= 2) min_tracking = true;
    if (min_tracking) min_open_seen = std::min(min_open_seen, open_ids.size());
  }

  awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kAwait);
      if (ec) co_return;
      int id = 0;
      {
        std::lock_guard lock(mu);
        id = next_connection++;
      }
      auto c = std::make_shared<Connection>(std::move(socket), tls, id);
      asio::co_spawn(ioc, serve(c), asio::detached);
    }
  }

  awaitable<void> serve(std::shared_ptr<Connection> c) {
    beast::get_lowest_layer(c->ws).expires_after(std::chrono::seconds(10));
    auto [hec] = co_await c->ws.next_layer().async_handshake(ssl::stream_base::server, kAwait);
    if (hec) co_return;
    beast::get_lowest_layer(c->ws).expires_never();
    c->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    auto [aec] = co_await c->ws.async_accept(kAwait);
    if (aec) co_return;
    c->open = true;
    live[c->id] = c;
    {
      std::lock_guard lock(mu);
      open_ids.push_back(c->id);
      opened[c->id] = Clock::now();
      ++total;
      note_open_count();
      changed.notify_all();
    }
    send(c, json{{"type", "hello"},
                 {"num_connections", live.size()},
                 {"connection_info", {{"app_id", "A0STANDIN"}}},
                 {"debug_info", {{"host", "standin"}}}}
                .dump());
    beast::flat_buffer buffer;
    for (;;) {
      std::chrono::milliseconds delay;
      {
        std::lock_guard lock(mu);
        delay = read_delay;
      }
      if (delay.count() > 0) {
        asio::steady_timer t(ioc, delay);
        co_await t.async_wait(kAwait);
      }
      while (c->deaf && c->open) {
        asio::steady_timer t(ioc, std::chrono::milliseconds(20));
        co_await t.async_wait(kAwait);
      }
      auto [ec, n] = co_await c->ws.async_read(buffer, kAwait);
      if (ec) break;
      json message = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
      buffer.consume(buffer.size());
      std::lock_guard lock(mu);
      acks.push_back(SocketAck{c->id, std::move(message)});
      changed.notify_all();
    }
    c->open = false;
    live.erase(c->id);
    std::lock_guard lock(mu);
    std::erase(open_ids, c->id);
    closed[c->id] = Clock::now();
    note_open_count();
    changed.notify_all();
  }

  void send(const std::shared_ptr<Connection>& c, std::string text) {
    c->out.push_back(std::move(text));
    if (!c->writing) asio::co_spawn(ioc, write_loop(c), asio::detached);
  }

  awaitable<void> write_loop(std::shared_ptr<Connection> c) {
    if (c->writing) co_return;
    c->writing = true;
    while (!c->out.empty() && c->open) {
      const std::string text = std::move(c->out.front());
      c->out.pop_front();
      auto [ec, n] = co_await c->ws.async_write(asio::buffer(text), kAwait);
      if (ec) break;
    }
    c->writing = false;
  }

  // Runs `f(connection)` on the network thread for connection `id` (-1: the newest open);
  // false when there is no such open connection.
  template <typename F>
  bool on_connection(int id, F f) {
    std::promise<bool> done;
    auto result = done.get_future();
    asio::post(ioc, [this, id, &f, &done] {
      std::shared_ptr<Connection> c;
      if (id < 0) {
        if (!live.empty()) c = live.rbegin()->second;
      } else if (auto it = live.find(id); it != live.end()) {
        c = it->second;
      }
      if (c && c->open) f(c);
      done.set_value(c && c->open);
    });
    return result.get();
  }
};

SocketModeStandIn::SocketModeStandIn() : impl_(std::make_shared<Impl>()) {
  Impl& m = *impl_;
  m.ca.serve_with(m.tls.native_handle());
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
  m.acceptor.open(at.protocol());
  m.acceptor.set_option(tcp::acceptor::reuse_address(true));
  m.acceptor.bind(at);
  m.acceptor.listen();
  m.port = m.acceptor.local_endpoint().port();
  asio::co_spawn(m.ioc, m.accept_loop(), asio::detached);
  m.thread = std::thread([&m] { m.ioc.run(); });
}

SocketModeStandIn::~SocketModeStandIn() {
  Impl& m = *impl_;
  asio::post(m.ioc, [&m] {
    boost::system::error_code ignored;
    m.acceptor.close(ignored);
    for (auto& [id, c] : m.live) beast::get_lowest_layer(c->ws).socket().close(ignored);
    m.ioc.stop();
  });
  m.thread.join();
  m.live.clear();
}

std::uint16_t SocketModeStandIn::port() const { return impl_->port; }
std::string SocketModeStandIn::ca_file() const { return impl_->ca.ca_file(); }

std::string SocketModeStandIn::next_url() {
  std::lock_guard lock(impl_->mu);
  return fmt::format("wss://127.0.0.1:{}/link/?ticket=t{}&app_id=A0STANDIN", impl_->port,
                     impl_->next_ticket++);
}

std::vector<int> SocketModeStandIn::open_connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->open_ids;
}

bool SocketModeStandIn::wait_for_open(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->open_ids.size() >= n; });
}

bool SocketModeStandIn::wait_for_closed(int id, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->closed.contains(id); });
}

std::size_t SocketModeStandIn::connections_total() const {
  std::lock_guard lock(impl_->mu);
  return impl_->total;
}

std::size_t SocketModeStandIn::min_open() const {
  std::lock_guard lock(impl_->mu);
  return impl_->min_open_seen;
}

void SocketModeStandIn::reset_min_open() {
  std::lock_guard lock(impl_->mu);
  impl_->min_open_seen = impl_->open_ids.size();
  impl_->min_tracking = true;
}

std::optional<Clock::time_point> SocketModeStandIn::opened_at(int id) const {
  std::lock_guard lock(impl_->mu);
  const auto it = impl_->opened.find(id);
  if (it == impl_->opened.end()) return std::nullopt;
  return it->second;
}

std::optional<Clock::time_point> SocketModeStandIn::closed_at(int id) const {
  std::lock_guard lock(impl_->mu);
  const auto it = impl_->closed.find(id);
  if (it == impl_->closed.end()) return std::nullopt;
  return it->second;
}

std::string SocketModeStandIn::send_envelope(int connection, const std::string& type, json payload,
                                             std::string envelope_id) {
  if (envelope_id.empty()) {
    std::lock_guard lock(impl_->mu);
    envelope_id = fmt::format("env-{}-{}", impl_->port, impl_->next_envelope++);
  }
  const std::string text = json{
      {"type", type},
      {"envelope_id", envelope_id},
      {"payload", std::move(payload)},
      {"accepts_response_payload", type == "slash_commands"},
      {"retry_attempt", 0},
      {"retry_reason", ""}}.dump();
  return send_text(connection, text) ? envelope_id : std::string();
}

bool SocketModeStandIn::send_text(int connection, const std::string& text) {
  Impl& m = *impl_;
  return m.on_connection(connection, [&m, &text](const auto& c) { m.send(c, text); });
}

bool SocketModeStandIn::disconnect(int connection, const std::string& reason) {
  return send_text(
      connection,
      json{{"type", "disconnect"}, {"reason", reason}, {"debug_info", {{"host", "standin"}}}}
          .dump());
}

bool SocketModeStandIn::drop(int connection) {
  return impl_->on_connection(connection, [](const auto& c) {
    boost::system::error_code ignored;
    auto& socket = beast::get_lowest_layer(c->ws).socket();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  });
}

bool SocketModeStandIn::stop_reading(int connection) {
  // The read under way would go on answering pings until a message arrives: an envelope
  // of a type Scribe does not use brings its acknowledgement, which ends that read.
  Impl& m = *impl_;
  return m.on_connection(connection, [&m](const auto& c) {
    c->deaf = true;
    m.send(c, json{{"type", "standin_probe"}, {"envelope_id", "probe"}, {"payload", json::object()}}
                  .dump());
  });
}

void SocketModeStandIn::set_read_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mu);
  impl_->read_delay = delay;
}

std::vector<SocketAck> SocketModeStandIn::acks() const {
  std::lock_guard lock(impl_->mu);
  return impl_->acks;
}

std::vector<SocketAck> SocketModeStandIn::acks_for(const std::string& envelope_id) const {
  std::lock_guard lock(impl_->mu);
  std::vector<SocketAck> out;
  for (const SocketAck& a : impl_->acks) {
    if (a.message.is_object() && a.message.value("envelope_id", "") == envelope_id) {
      out.push_back(a);
    }
  }
  return out;
}

std::optional<json> SocketModeStandIn::wait_for_ack(const std::string& envelope_id, std::size_t n,
                                                    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  std::optional<json> last;
  impl_->changed.wait_for(lock, timeout, [&] {
    std::size_t seen = 0;
    for (const SocketAck& a : impl_->acks) {
      if (a.message.is_object() && a.message.value("envelope_id", "") == envelope_id) {
        ++seen;
        last = a.message;
      }
    }
    return seen >= n;
  });
  std::size_t seen = 0;
  for (const SocketAck& a : impl_->acks) {
    if (a.message.is_object() && a.message.value("envelope_id", "") == envelope_id) ++seen;
  }
  if (seen < n) return std::nullopt;
  return last;
}

}  // namespace scribe::testing
