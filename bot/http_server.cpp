// The only translation unit that includes Boost.Beast: it is heavy to compile.
#include "bot/http_server.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

namespace scribe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class Session;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(Options o, Handler h)
      : options(std::move(o)),
        handler(std::move(h)),
        acceptor(ioc),
        control(asio::make_strand(ioc)),
        grace_timer(control) {}

  void accept();
  void begin_stop();
  void session_started(const std::shared_ptr<Session>& s);
  void session_ended(Session* s);

  Options options;
  Handler handler;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  // Stopping and the grace timer are handled on one strand, whichever thread asks.
  asio::strand<asio::io_context::executor_type> control;
  asio::steady_timer grace_timer;
  std::optional<asio::signal_set> signals;
  std::atomic<bool> stopping{false};
  std::mutex sessions_mu;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
  std::size_t live_sessions = 0;
};

// One connection. Reads a request in two phases so that an idle keep-alive connection
// (nothing received yet) and a request in progress have different time limits, and so
// that a graceful stop can close the first kind at once and finish the second.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}

  ~Session() { server_->session_ended(this); }

  void start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::await_request, shared_from_this()));
  }

  // Called on stop: only a connection with no request under way is closed now.
  void close_if_idle() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      // Bytes already in the socket are a request that has begun: let it finish.
      beast::error_code ec;
      if (self->idle_ && self->stream_.socket().available(ec) == 0) self->close();
    });
  }

 private:
  void await_request() {
    if (server_->stopping) return close();
    if (buffer_.size() > 0) return read_header();  // pipelined bytes already here
    idle_ = true;
    stream_.expires_after(server_->options.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(4096),
        beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    idle_ = false;
    if (ec) return close();  // peer closed, idle timeout, or stop
    buffer_.commit(n);
    read_header();
  }

  void read_header() {
    idle_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    // From the first byte on, the whole request must arrive within read_timeout.
    stream_.expires_after(server_->options.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    if (const auto length = parser_->content_length();
        length && *length > server_->options.max_body_bytes) {
      return reply_error(http::status::payload_too_large, "request body too large\n");
    }
    auto expect = req[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
                          if (wec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_request, shared_from_this()));
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      return close();
    }
    if (ec == beast::error::timeout) {
      // tcp_stream has already closed the socket: there is no one left to answer.
      spdlog::debug("closed a connection whose request did not arrive in time");
      return;
    }
    if (ec == http::error::body_limit) {
      return reply_error(http::status::payload_too_large, "request body too large\n");
    }
    if (ec == http::error::header_limit) {
      return reply_error(http::status::request_header_fields_too_large, "headers too large\n");
    }
    return reply_error(http::status::bad_request, "malformed HTTP request\n");
  }

  void on_request(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    auto req = parser_->release();
    parser_.reset();

    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.headers.reserve(16);
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(req.body());

    HttpResponse response;
    try {
      response = server_->handler(request);
    } catch (const std::exception& e) {
      spdlog::error("{} {} failed: {}", request.method, request.target, e.what());
      response = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}};
    }

    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), req.version());
    res->set(http::field::server, "scribe");
    res->set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) res->set(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(req.keep_alive() && !server_->stopping);
    res->prepare_payload();
    write(std::move(res));
  }

  void reply_error(http::status status, const char* text) {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::server, "scribe");
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->body() = text;
    res->keep_alive(false);  // the stream is not at a request boundary any more
    res->prepare_payload();
    write(std::move(res));
  }

  void write(std::shared_ptr<http::response<http::string_body>> res) {
    stream_.expires_after(server_->options.read_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !res->keep_alive()) return self->close();
                        self->await_request();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::Impl> server_;
  bool idle_ = true;
};

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(ioc),
                        [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                          if (ec) {
                            if (ec == asio::error::operation_aborted || self->stopping) return;
                            spdlog::warn("accept failed: {}", ec.message());
                          } else {
                            auto session = std::make_shared<Session>(std::move(socket), self);
                            self->session_started(session);
                            session->start();
                          }
                          if (!self->stopping) self->accept();
                        });
}

void HttpServer::Impl::session_started(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(sessions_mu);
  sessions.insert(s);
  ++live_sessions;
}

void HttpServer::Impl::session_ended(Session* s) {
  std::lock_guard lock(sessions_mu);
  (void)s;
  // Expired weak pointers are swept here so the set stays small.
  for (auto it = sessions.begin(); it != sessions.end();) {
    it = it->expired() ? sessions.erase(it) : std::next(it);
  }
  --live_sessions;
  if (stopping && live_sessions == 0) {
    asio::post(control, [self = shared_from_this()] { self->grace_timer.cancel(); });
  }
}

void HttpServer::Impl::begin_stop() {
  if (stopping.exchange(true)) return;
  spdlog::info("stopping: no new connections; finishing requests in flight");
  beast::error_code ignored;
  acceptor.close(ignored);
  if (signals) signals->cancel(ignored);
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard lock(sessions_mu);
    for (const auto& w : sessions) {
      if (auto s = w.lock()) open.push_back(std::move(s));
    }
    if (live_sessions == 0) {
      grace_timer.cancel();
      return;
    }
  }
  for (auto& s : open) s->close_if_idle();
  grace_timer.expires_after(options.shutdown_grace);
  grace_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    spdlog::warn("shutdown grace period over; dropping the remaining connections");
    self->ioc.stop();
  });
}

HttpServer::HttpServer(Options options, Handler handler)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(handler))) {
  beast::error_code ec;
  const auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) throw std::runtime_error("listen: '" + impl_->options.host + "' is not an IP address");
  tcp::endpoint endpoint{address, impl_->options.port};
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + impl_->options.host + ":" +
                             std::to_string(impl_->options.port) + ": " + ec.message());
  }
}

HttpServer::~HttpServer() = default;

std::uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::run(bool handle_signals) {
  if (handle_signals) {
    impl_->signals.emplace(impl_->control, SIGINT, SIGTERM);
    impl_->signals->async_wait([impl = impl_](beast::error_code ec, int signal) {
      if (ec) return;
      spdlog::info("received signal {}", signal);
      impl->begin_stop();
    });
  }
  // Keeps run() going while idle; the grace timer takes over once stopping.
  impl_->grace_timer.expires_at(asio::steady_timer::time_point::max());
  impl_->grace_timer.async_wait([](beast::error_code) {});
  impl_->accept();

  std::vector<std::thread> threads;
  const int extra = std::max(0, impl_->options.threads - 1);
  for (int i = 0; i < extra; ++i) threads.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : threads) t.join();
  impl_->signals.reset();
}

void HttpServer::stop() {
  asio::post(impl_->control, [impl = impl_] { impl->begin_stop(); });
}

}  // namespace scribe
