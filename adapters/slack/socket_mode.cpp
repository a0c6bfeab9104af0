// With net/http_client.cpp, the only translation units of the service that include Beast's
// and Asio's SSL headers (they are heavy to compile).
#include "adapters/slack/socket_mode.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>
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
#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>

#include "adapters/slack/commands_endpoint.h"
#include "adapters/slack/events_endpoint.h"
#include "adapters/slack/interactivity_endpoint.h"
#include "net/http_client.h"
#include "net/tls_client.h"
#include "util/percent.h"
#include "util/worker_pool.h"

namespace scribe::slack {
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

constexpr std::chrono::seconds kConnectTimeout{10};
constexpr std::chrono::seconds kHelloTimeout{10};

// One WebSocket. Lives on the network thread only.
struct Connection {
  Connection(asio::io_context& ioc, ssl::context& tls, std::uint64_t number)
      : ws(ioc, tls), signal(ioc), id(number) {}

  Ws ws;
  // Cancelled whenever something the slot waits for happens (hello, disconnect, end).
  asio::steady_timer signal;
  std::uint64_t id;
  bool hello = false;
  bool ended = false;             // read failed or closed: the connection is gone
  std::string disconnect_reason;  // from a `disconnect` envelope; empty: none yet
  bool close_requested = false;   // close once the queued writes are out
  int unanswered = 0;             // envelopes received here whose endpoint has not answered
  bool closing = false;
  std::deque<std::string> out;  // acknowledgements waiting to be written
  bool writing = false;

  void wake() { signal.cancel(); }
};

// What apps.connections.open gave.
struct Opened {
  std::string url;    // wss://…; empty on failure
  std::string error;  // why not
};

// The form body Slack would POST for a payload whose fields are a JSON object.
std::string form_of(const json& fields) {
  std::string body;
  for (const auto& [key, value] : fields.items()) {
    if (!body.empty()) body += '&';
    body += form_encode(key);
    body += '=';
    body += form_encode(value.is_string() ? value.get<std::string>() : value.dump());
  }
  return body;
}

}  // namespace

struct SocketMode::Impl : std::enable_shared_from_this<SocketMode::Impl> {
  Impl(Options o, Endpoints e) : options(std::move(o)), endpoints(e) {
    configure_tls_client(tls.native_handle());
  }

  // ---- set once ----
  const Options options;
  const Endpoints endpoints;

  // ---- network thread only ----
  asio::io_context ioc{1};
  ssl::context tls{ssl::context::tls_client};
  std::set<std::shared_ptr<Connection>> open;  // every connection not yet ended
  std::uint64_t next_id = 1;
  std::mt19937_64 random{std::random_device{}()};

  // ---- any thread ----
  std::atomic<bool> stopping{false};
  std::atomic<int> connected{0};
  std::atomic<std::uint64_t> opened_total{0};
  std::atomic<std::uint64_t> envelopes_total{0};
  std::atomic<std::uint64_t> acks_total{0};
  std::mutex inflight_mu;
  std::condition_variable inflight_done;
  int inflight = 0;  // envelopes handed to an endpoint and not yet answered

  // apps.connections.open blocks (HttpClient); it runs here, never on the network thread.
  // Declared after ioc: destroyed (joined) before it.
  std::unique_ptr<HttpClient> http = std::make_unique<HttpClient>(std::chrono::seconds(10));
  std::unique_ptr<WorkerPool> opener = std::make_unique<WorkerPool>(1, "slack-open");
  std::thread thread;
  bool started = false;

  // Waits until `c.signal` is cancelled or `timeout` passes.
  static awaitable<void> wait_signal(Connection& c, std::chrono::steady_clock::duration timeout) {
    c.signal.expires_after(timeout);
    co_await c.signal.async_wait(kAwait);
  }

  awaitable<void> sleep(std::chrono::milliseconds d) {
    asio::steady_timer t(ioc, d);
    co_await t.async_wait(kAwait);
  }

  // Full jitter: uniformly between 0 and min(max, initial·2^attempt).
  std::chrono::milliseconds backoff(int attempt) {
    const auto cap = options.backoff_max.count();
    long long ceiling = options.backoff_initial.count();
    for (int i = 0; i < attempt && ceiling < cap; ++i) ceiling *= 2;
    ceiling = std::min<long long>(ceiling, cap);
    return std::chrono::milliseconds(
        std::uniform_int_distribution<long long>(0, std::max<long long>(ceiling, 1))(random));
  }

  awaitable<Opened> open_url() {
    auto result = std::make_shared<Opened>();
    auto done = std::make_shared<asio::steady_timer>(ioc, asio::steady_timer::time_point::max());
    const bool posted = opener->post([this, result, done] {
      const HttpResult r = http->request("POST", options.api_url + "/apps.connections.open",
                                         {"Authorization: Bearer " + options.app_token,
                                          "Content-Type: application/x-www-form-urlencoded"});
      if (r.transport_failed()) {
        result->error = r.transport_error();
      } else {
        const json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
        if (r.status != 200 || !body.is_object()) {
          result->error = "HTTP " + std::to_string(r.status);
        } else if (body.value("ok", false) && body.contains("url") && body["url"].is_string()) {
          result->url = body["url"].get<std::string>();
        } else {
          result->error = body.value("error", std::string("no url in the answer"));
        }
      }
      asio::post(ioc, [done] { done->cancel(); });
    });
    if (!posted) co_return Opened{"", "stopping"};
    co_await done->async_wait(kAwait);
    co_return *result;
  }

  // Connects to `url` and waits for its hello; nullptr (and logged) on any failure.
  awaitable<std::shared_ptr<Connection>> connect(const std::string& url) {
    const auto parsed = boost::urls::parse_uri(url);
    if (!parsed || parsed->scheme() != "wss" || parsed->host().empty()) {
      spdlog::error("Slack Socket Mode: apps.connections.open gave an unusable URL");
      co_return nullptr;
    }
    const std::string host(parsed->host_address());
    const std::string port = parsed->has_port() ? std::string(parsed->port()) : "443";
    std::string target(parsed->encoded_path());
    if (target.empty()) target = "/";
    if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());

    auto c = std::make_shared<Connection>(ioc, tls, next_id++);
    tcp::resolver resolver(ioc);
    auto [rec, endpoints_found] = co_await resolver.async_resolve(host, port, kAwait);
    if (rec) {
      spdlog::warn("Slack Socket Mode: cannot resolve {}: {}", host, rec.message());
      co_return nullptr;
    }
    auto& tcp_layer = beast::get_lowest_layer(c->ws);
    tcp_layer.expires_after(kConnectTimeout);
    auto [cec, ep] = co_await tcp_layer.async_connect(endpoints_found, kAwait);
    if (cec) {
      spdlog::warn("Slack Socket Mode: cannot connect to {}:{}: {}", host, port, cec.message());
      co_return nullptr;
    }
    // The certificate must name the host (or IP address) of the URL.
    expect_tls_peer(c->ws.next_layer().native_handle(), host);
    auto [hec] = co_await c->ws.next_layer().async_handshake(ssl::stream_base::client, kAwait);
    if (hec) {
      spdlog::warn("Slack Socket Mode: TLS with {} failed: {}", host, hec.message());
      co_return nullptr;
    }
    tcp_layer.expires_never();  // the websocket's own timeouts from here on
    websocket::stream_base::timeout timeouts;
    timeouts.handshake_timeout = kConnectTimeout;
    timeouts.idle_timeout = options.idle_timeout;
    timeouts.keep_alive_pings = true;
    c->ws.set_option(timeouts);
    c->ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "scribe"); }));
    const std::string host_header = parsed->has_port() ? host + ":" + port : host;
    auto [wec] = co_await c->ws.async_handshake(host_header, target, kAwait);
    if (wec) {
      spdlog::warn("Slack Socket Mode: WebSocket handshake with {} failed: {}", host,
                   wec.message());
      co_return nullptr;
    }
    open.insert(c);
    asio::co_spawn(ioc, read_loop(c), asio::detached);
    if (!c->hello) co_await wait_signal(*c, kHelloTimeout);
    if (!c->hello) {
      spdlog::warn("Slack Socket Mode: connection {} said no hello", c->id);
      request_close(c);
      co_return nullptr;
    }
    co_return c;
  }

  // Opens a connection, retrying with backoff until one says hello or Scribe stops.
  awaitable<std::shared_ptr<Connection>> establish(int slot, bool at_once) {
    for (int attempt = 0; !stopping; ++attempt) {
      if (attempt > 0 || !at_once) co_await sleep(backoff(attempt));
      if (stopping) break;
      const Opened opened = co_await open_url();
      if (stopping) break;
      if (opened.url.empty()) {
        spdlog::error("Slack Socket Mode: apps.connections.open failed: {}", opened.error);
        continue;
      }
      if (auto c = co_await connect(opened.url)) {
        spdlog::info("Slack Socket Mode: connection {} open (slot {})", c->id, slot);
        co_return c;
      }
    }
    co_return nullptr;
  }

  // Keeps one connection open in this slot for as long as Scribe runs.
  awaitable<void> slot_loop(int slot) {
    std::shared_ptr<Connection> current = co_await establish(slot, /*at_once=*/true);
    while (current && !stopping) {
      if (!current->ended && current->disconnect_reason.empty()) {
        co_await wait_signal(*current, std::chrono::hours(24));
        continue;
      }
      if (current->ended) {
        spdlog::warn("Slack Socket Mode: connection {} dropped; reconnecting", current->id);
        current = co_await establish(slot, /*at_once=*/true);
        continue;
      }
      const std::string reason = current->disconnect_reason;
      if (reason == "link_disabled") {
        spdlog::error(
            "Slack Socket Mode: Slack disabled this app's Socket Mode (link_disabled); "
            "slot {} stops. Turn Socket Mode on in the app's settings and restart Scribe.",
            slot);
        request_close(current);
        co_return;
      }
      // refresh_requested, warning or anything new: the replacement first, so that no
      // envelope finds Scribe without a connection; the old one keeps serving meanwhile.
      spdlog::info("Slack Socket Mode: connection {} asked to disconnect ({}); replacing it",
                   current->id, reason);
      auto next = co_await establish(slot, /*at_once=*/true);
      request_close(current);
      current = std::move(next);
    }
    if (current) request_close(current);
  }

  awaitable<void> read_loop(std::shared_ptr<Connection> c) {
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await c->ws.async_read(buffer, kAwait);
      if (ec) {
        if (!c->closing && !stopping) {
          spdlog::warn("Slack Socket Mode: connection {} closed: {}", c->id, ec.message());
        }
        break;
      }
      on_message(c, beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
    }
    c->ended = true;
    if (c->hello) connected.fetch_sub(1);
    open.erase(c);
    c->wake();
  }

  // Closes `c` once the envelopes it brought are answered and their acknowledgements are
  // out (so a refresh does not make Slack redeliver them), but after drain_timeout anyway.
  void request_close(const std::shared_ptr<Connection>& c) {
    if (c->close_requested) return;
    c->close_requested = true;
    if (!c->writing) asio::co_spawn(ioc, write_loop(c), asio::detached);
    if (c->unanswered > 0) asio::co_spawn(ioc, close_by_deadline(c), asio::detached);
  }

  awaitable<void> close_by_deadline(std::shared_ptr<Connection> c) {
    co_await sleep(std::chrono::duration_cast<std::chrono::milliseconds>(options.drain_timeout));
    if (c->unanswered > 0 && !c->closing && !c->ended) {
      spdlog::warn("Slack Socket Mode: closing connection {} with {} envelope(s) unanswered", c->id,
                   c->unanswered);
      c->unanswered = 0;
      if (!c->writing) asio::co_spawn(ioc, write_loop(c), asio::detached);
    }
  }

  // On the network thread: the endpoint answered one of `c`'s envelopes.
  void answered_on(const std::shared_ptr<Connection>& c) {
    if (c->unanswered > 0) --c->unanswered;
    if (c->close_requested && !c->writing) asio::co_spawn(ioc, write_loop(c), asio::detached);
  }

  void send(const std::shared_ptr<Connection>& c, std::string text) {
    c->out.push_back(std::move(text));
    if (!c->writing) asio::co_spawn(ioc, write_loop(c), asio::detached);
  }

  // One writer per connection at a time; a requested close follows the queued writes.
  awaitable<void> write_loop(std::shared_ptr<Connection> c) {
    if (c->writing) co_return;
    c->writing = true;
    while (!c->out.empty() && !c->ended) {
      const std::string text = std::move(c->out.front());
      c->out.pop_front();
      auto [ec, n] = co_await c->ws.async_write(asio::buffer(text), kAwait);
      if (ec) {
        spdlog::warn("Slack Socket Mode: an acknowledgement on connection {} failed: {}", c->id,
                     ec.message());
        break;
      }
      acks_total.fetch_add(1);
    }
    c->writing = false;
    if (c->close_requested && c->unanswered == 0 && !c->closing && !c->ended) {
      c->closing = true;
      auto [ec] = co_await c->ws.async_close(websocket::close_code::normal, kAwait);
      if (ec && !c->ended) beast::get_lowest_layer(c->ws).close();
    }
  }

  void on_message(const std::shared_ptr<Connection>& c, const std::string& text) {
    const json message = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!message.is_object()) {
      spdlog::warn("Slack Socket Mode: a message that is not a JSON object was ignored");
      return;
    }
    const std::string type = message.value("type", std::string());
    if (type == "hello") {
      if (!c->hello) {
        c->hello = true;
        connected.fetch_add(1);
        opened_total.fetch_add(1);
      }
      c->wake();
      return;
    }
    if (type == "disconnect") {
      c->disconnect_reason = message.value("reason", std::string("unknown"));
      c->wake();
      return;
    }
    const std::string envelope_id = message.value("envelope_id", std::string());
    if (envelope_id.empty()) {
      spdlog::warn("Slack Socket Mode: a '{}' message without an envelope_id was ignored", type);
      return;
    }
    envelopes_total.fetch_add(1);
    const auto payload = message.find("payload");
    if (payload == message.end() || !payload->is_object()) {
      spdlog::warn("Slack Socket Mode: envelope {} ({}) without a payload; acknowledged",
                   envelope_id, type);
      return send(c, json{{"envelope_id", envelope_id}}.dump());
    }
    HttpRequest request;
    request.method = "POST";
    if (type == "slash_commands") {
      request.target = "/slack/commands";
      request.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
      request.body = form_of(*payload);
    } else if (type == "interactive") {
      request.target = "/slack/interactivity";
      request.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
      request.body = "payload=" + form_encode(payload->dump());
    } else if (type == "events_api") {
      request.target = "/slack/events";
      request.headers.emplace_back("content-type", "application/json");
      request.body = payload->dump();
    } else {
      spdlog::info("Slack Socket Mode: envelope type '{}' is not used; acknowledged", type);
      return send(c, json{{"envelope_id", envelope_id}}.dump());
    }
    {
      std::lock_guard lock(inflight_mu);
      ++inflight;
    }
    ++c->unanswered;
    Respond ack = acknowledger(c, envelope_id, type);
    if (type == "slash_commands") {
      endpoints.commands.handle_authenticated(request, "socket:" + envelope_id, std::move(ack));
    } else if (type == "interactive") {
      // A redelivery may come as a new envelope; the interaction's trigger_id stays.
      const std::string trigger = payload->value("trigger_id", std::string());
      endpoints.interactivity.handle_authenticated(
          request, trigger.empty() ? "socket:" + envelope_id : "trigger:" + trigger,
          std::move(ack));
    } else {
      endpoints.events.handle_authenticated(request, std::move(ack));
    }
  }

  // The endpoint's answer (from any thread) as the envelope's acknowledgement.
  Respond acknowledger(const std::shared_ptr<Connection>& c, std::string envelope_id,
                       std::string type);

  // Closes every connection (a close handshake takes a round trip; a peer that does not
  // answer within two seconds is cut off), then ends the network thread.
  awaitable<void> shutdown() {
    for (const auto& c : std::vector(open.begin(), open.end())) {
      request_close(c);
      c->wake();
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!open.empty() && std::chrono::steady_clock::now() < deadline) {
      co_await sleep(std::chrono::milliseconds(10));
    }
    ioc.stop();
  }

  void answered() {
    std::lock_guard lock(inflight_mu);
    if (--inflight == 0) inflight_done.notify_all();
  }
};

// The endpoint may answer after the SocketMode is gone (stop() gave up waiting): the
// answer then finds no Impl and is dropped (Slack redelivers, the effect is deduplicated).
Respond SocketMode::Impl::acknowledger(const std::shared_ptr<Connection>& c,
                                       std::string envelope_id, std::string type) {
  std::weak_ptr<Connection> weak = c;
  return [weak_self = weak_from_this(), weak, envelope_id = std::move(envelope_id),
          type = std::move(type)](HttpResponse response) {
    const auto self = weak_self.lock();
    if (!self) return;
    Impl& m = *self;
    if (response.status >= 500) {
      spdlog::warn(
          "Slack Socket Mode: envelope {} ({}) not stored ({}); not acknowledged, so Slack "
          "delivers it again",
          envelope_id, type, response.status);
      asio::post(m.ioc, [weak_self, weak] {
        const auto impl = weak_self.lock();
        const auto connection = weak.lock();
        if (impl && connection) impl->answered_on(connection);
      });
      return m.answered();
    }
    json ack{{"envelope_id", envelope_id}};
    if (response.status != 200) {
      // What the HTTP mode refuses with a 4xx (malformed): acknowledged, so that Slack
      // does not send it again, and logged.
      spdlog::warn("Slack Socket Mode: envelope {} ({}) refused: {} {}", envelope_id, type,
                   response.status, response.body);
    } else if (type == "slash_commands" && response.content_type.starts_with("application/json")) {
      json reply = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
      if (!reply.is_discarded()) ack["payload"] = std::move(reply);
    }
    // The handler holds no strong reference: queued in the io_context the Impl owns, it
    // would keep the Impl alive forever.
    asio::post(m.ioc, [weak_self, weak, text = ack.dump(), envelope_id] {
      const auto impl = weak_self.lock();
      if (!impl) return;
      auto connection = weak.lock();
      if (connection && !connection->ended && !connection->closing) {
        impl->send(connection, text);
        impl->answered_on(connection);
      } else {
        spdlog::warn(
            "Slack Socket Mode: envelope {} was handled but its connection is gone; Slack will "
            "deliver it again and it will change nothing",
            envelope_id);
      }
      impl->answered();
    });
  };
}

SocketMode::SocketMode(Options options, Endpoints endpoints)
    : impl_(std::make_shared<Impl>(std::move(options), endpoints)) {}

SocketMode::~SocketMode() { stop(); }

void SocketMode::start() {
  Impl& m = *impl_;
  if (m.started) return;
  m.started = true;
  for (int slot = 0; slot < std::max(1, m.options.connections); ++slot) {
    asio::co_spawn(m.ioc, m.slot_loop(slot), asio::detached);
  }
  m.thread = std::thread([&m] {
    try {
      m.ioc.run();
    } catch (const std::exception& e) {
      spdlog::critical("Slack Socket Mode stopped: {}", e.what());
    }
  });
}

void SocketMode::stop() {
  Impl& m = *impl_;
  if (!m.started || m.stopping.exchange(true)) return;
  {
    // Envelopes in hand get their acknowledgement out before the connections close.
    std::unique_lock lock(m.inflight_mu);
    if (!m.inflight_done.wait_for(lock, m.options.drain_timeout, [&] { return m.inflight == 0; })) {
      spdlog::warn("Slack Socket Mode: {} envelope(s) still being handled at shutdown", m.inflight);
    }
  }
  asio::co_spawn(m.ioc, m.shutdown(), asio::detached);
  m.thread.join();
  m.opener.reset();  // joins a call in progress
}

SocketMode::Stats SocketMode::stats() const {
  Stats s;
  s.connected = impl_->connected.load();
  s.opened_total = impl_->opened_total.load();
  s.envelopes_total = impl_->envelopes_total.load();
  s.acks_total = impl_->acks_total.load();
  return s;
}

}  // namespace scribe::slack
