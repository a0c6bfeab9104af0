#include "support/socket_mode_standin.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <random>
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

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("socket mode stand-in: ") + what);
}

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `common_name` with `key`, signed by `issuer_key` (issuer: `issuer`, or
// itself when null), valid from 30 years ago until a day from now: a test may hold the
// client's clock years in the past (libfaketime), and a real Slack certificate is valid then.
Cert make_cert(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key,
               bool ca) {
  Cert cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  static std::atomic<long> serial{1};
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial.fetch_add(1));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -30L * 365 * 24 * 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  if (ca) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
  }
  check(X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

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
  std::filesystem::path dir;
  std::string ca_path;
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

  void make_certificates() {
    Key ca_key(EVP_EC_gen("P-256"));
    Key server_key(EVP_EC_gen("P-256"));
    check(ca_key && server_key, "EVP_EC_gen");
    Cert ca = make_cert(ca_key.get(), "Scribe test CA (throwaway)", nullptr, ca_key.get(), true);
    Cert server = make_cert(server_key.get(), "127.0.0.1", ca.get(), ca_key.get(), false);

    dir = std::filesystem::temp_directory_path() /
          fmt::format("scribe-socket-standin-{}-{}", ::getpid(), std::random_device{}());
    std::filesystem::create_directories(dir);
    ca_path = (dir / "ca.pem").string();
    FILE* f = std::fopen(ca_path.c_str(), "w");
    check(f != nullptr, "cannot write the CA file");
    const int written = PEM_write_X509(f, ca.get());
    std::fclose(f);
    check(written == 1, "PEM_write_X509");

    check(SSL_CTX_use_certificate(tls.native_handle(), server.get()) == 1, "use_certificate");
    check(SSL_CTX_use_PrivateKey(tls.native_handle(), server_key.get()) == 1, "use_PrivateKey");
  }

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
  m.make_certificates();
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
  std::error_code ignored;
  std::filesystem::remove_all(m.dir, ignored);
}

std::uint16_t SocketModeStandIn::port() const { return impl_->port; }
std::string SocketModeStandIn::ca_file() const { return impl_->ca_path; }

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
