// scribe_ceiling_server: the least an HTTP server on this stack (Asio + Beast) can do for
// a request: read it whole (headers and body) and answer 200 with a short fixed JSON body
// on the same keep-alive connection. No signature check, no parsing of the form, no
// store. scribe_load_bench drives it exactly as it drives `scribe serve`, so its rate is
// the ceiling Scribe's rate is compared with.
//
// Started like Scribe (the bench's ScribeProcess runs "<binary> serve"): it listens on
// SCRIBE_LISTEN (host:port, port 0 picks one), runs SCRIBE_THREADS threads (default one
// per core, as Scribe), logs "listening on host:port" to stderr, and exits on SIGTERM or
// SIGINT. The only translation unit of the benchmarks that includes Beast.

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// What Slack shows for a recorded command has this shape; the bench counts a reply with
// it as acknowledged, so the ceiling answers it too (about the size of Scribe's answer).
constexpr char kBody[] =
    R"({"response_type":"in_channel","text":"ceiling: read and answered, nothing stored"})";

// One keep-alive connection on its own strand: read a request, answer, repeat.
class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : stream_(std::move(socket)) {}

  void read() {
    request_ = {};
    http::async_read(stream_, buffer_, request_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

 private:
  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return close();
    response_ = {};
    response_.result(http::status::ok);
    response_.version(request_.version());
    response_.set(http::field::content_type, "application/json");
    response_.body() = kBody;
    response_.keep_alive(request_.keep_alive());
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code wec, std::size_t) {
                        if (wec || !self->response_.keep_alive()) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

// The acceptor lives on its own strand, so accepting and stopping never race.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, const tcp::endpoint& endpoint)
      : io_(io), acceptor_(asio::make_strand(io)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  void accept() {
    acceptor_.async_accept(asio::make_strand(io_),
                           [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                             if (ec == asio::error::operation_aborted) return;
                             if (!ec) std::make_shared<Session>(std::move(socket))->read();
                             self->accept();
                           });
  }

 private:
  asio::io_context& io_;
  tcp::acceptor acceptor_;
};

}  // namespace

int main() {
  const char* listen = std::getenv("SCRIBE_LISTEN");
  const std::string address = listen ? listen : "127.0.0.1:0";
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "SCRIBE_LISTEN must be host:port\n";
    return 2;
  }
  const char* threads_env = std::getenv("SCRIBE_THREADS");
  const int threads = threads_env
                          ? std::max(1, std::atoi(threads_env))
                          : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  try {
    asio::io_context io(threads);
    const tcp::endpoint endpoint(asio::ip::make_address(address.substr(0, colon)),
                                 static_cast<unsigned short>(std::stoi(address.substr(colon + 1))));
    auto listener = std::make_shared<Listener>(io, endpoint);
    listener->accept();
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&io](beast::error_code, int) { io.stop(); });
    std::cerr << "listening on " << address.substr(0, colon) << ":" << listener->port()
              << std::endl;
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : pool) t.join();
  } catch (const std::exception& e) {
    std::cerr << "scribe_ceiling_server: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
