// The listener: with adapters/slack/socket_mode.cpp and net/http_client.cpp, one of the three
// translation units of the service that include Boost.Beast (it is heavy to compile).
#include "bot/http_server.h"

#include <poll.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace scribe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Accept back-off after a resource failure: first pause, and the ceiling it doubles to.
constexpr std::chrono::milliseconds kFirstBackoff = 10ms;
constexpr std::chrono::milliseconds kMaxBackoff = 1000ms;
// A repeating accept failure is logged at most once per this interval.
constexpr std::chrono::seconds kAcceptLogInterval = 10s;
// After an error reply, what the client still sends is read and dropped for up to this
// long (and this many bytes) before the socket closes: closing with unread input makes
// the kernel send a reset, which can destroy the reply before the client has read it.
constexpr std::chrono::seconds kLingerTime = 2s;
constexpr std::size_t kLingerBytes = 64 * 1024;

// Lets one occurrence of a repeating event through per interval and counts the others,
// so that a log line can say how many it stands for.
class RepeatLimiter {
 public:
  explicit RepeatLimiter(SteadyClock::duration interval) : interval_(interval) {}

  // True when this occurrence is to be logged; then `*held_back` is the number of
  // occurrences not logged since the last one that was.
  bool admit(SteadyClock::time_point now, std::uint64_t* held_back) {
    if (logged_once_ && now - last_ < interval_) {
      ++held_back_;
      return false;
    }
    logged_once_ = true;
    last_ = now;
    *held_back = std::exchange(held_back_, 0);
    return true;
  }

 private:
  SteadyClock::duration interval_;
  SteadyClock::time_point last_{};
  bool logged_once_ = false;
  std::uint64_t held_back_ = 0;
};

// accept() failures that mean the process or system is out of something: retrying at
// once cannot succeed and only burns CPU.
bool out_of_resources(const beast::error_code& ec) {
  if (ec.category() != asio::error::get_system_category()) return false;
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

// accept() failures that belong to the one connection being accepted (Linux passes
// pending network errors of the new socket to accept): the next accept may well succeed.
bool connection_specific(const beast::error_code& ec) {
  if (ec.category() != asio::error::get_system_category()) return false;
  switch (ec.value()) {
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

// RFC 9112 §6.1 and §6.3: chunked is the only transfer coding this server decodes, and
// it must be the only one. Anything else leaves the body's end unknown, and guessing
// (Beast ignores a coding it does not know) would read the body as the next request.
// Returns why the request's framing is refused, or empty when it is acceptable.
std::string_view framing_problem(const http::request<http::string_body>& req) {
  const auto [first, last] = req.equal_range(http::field::transfer_encoding);
  if (first == last) return {};
  if (req.version() < 11) return "Transfer-Encoding is not allowed in HTTP/1.0\n";
  if (req.count(http::field::content_length) > 0) {
    return "Transfer-Encoding and Content-Length together are refused\n";
  }
  int codings = 0;
  bool only_chunked = true;
  for (auto it = first; it != last; ++it) {
    std::string_view list = it->value();
    while (!list.empty()) {
      const auto comma = list.find(',');
      std::string_view element = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      const auto begin = element.find_first_not_of(" \t");
      if (begin == std::string_view::npos) continue;  // empty list elements are allowed
      element = element.substr(begin, element.find_last_not_of(" \t") - begin + 1);
      ++codings;
      if (!beast::iequals(element, "chunked")) only_chunked = false;
    }
  }
  if (codings != 1 || !only_chunked) return "unsupported Transfer-Encoding\n";
  return {};
}

std::int64_t steady_now_ns() {
  return std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
             .count());
}

std::uint64_t current_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;  // the usual default
  if (limit.rlim_cur == RLIM_INFINITY) return std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(limit.rlim_cur);
}

}  // namespace

class Session;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(Options o, Handler h)
      : options(std::move(o)),
        handler(std::move(h)),
        strand(asio::make_strand(ioc)),
        acceptor(strand),
        backoff_timer(strand),
        grace_timer(strand),
        accept_log(kAcceptLogInterval),
        recovery_log(kAcceptLogInterval) {}

  // On `strand`.
  void maybe_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  // At the cap: a connection waits in the listen queue.
  void on_arrival(beast::error_code ec);
  void on_accept_error(const beast::error_code& ec);
  bool shed_longest_idle();
  void on_shed_result(std::uint64_t id, bool closed);
  void session_ended(std::uint64_t id);
  void begin_stop();
  std::size_t load() const { return sessions.size() - closing; }
  // A connection closed to make room has given its descriptor back even while its end is
  // still on the way here: it no longer counts as open.
  void publish_open() { open_gauge.store(load(), std::memory_order_relaxed); }
  // Whether a connection is in the listen queue right now. The reactor's readiness is
  // edge-triggered: an arrival already taken by an earlier accept can still wake a later
  // wait, so a wake-up alone is no proof that anybody waits.
  bool connection_waiting();

  // Set before run(), read-only afterwards.
  Options options;
  Handler handler;
  std::uint16_t bound_port = 0;

  asio::io_context ioc;
  // The acceptor, its timers, the signal set and everything down to `accept_log` are used
  // on this strand only, whichever thread runs it.
  asio::strand<asio::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  asio::steady_timer backoff_timer;
  asio::steady_timer grace_timer;
  std::optional<asio::signal_set> signals;
  struct Entry {
    std::weak_ptr<Session> session;
    bool shed_asked = false;  // a shed request is on its way to it
    bool closing = false;     // closed to make room; its end has not been reported yet
  };
  std::unordered_map<std::uint64_t, Entry> sessions;
  std::uint64_t next_id = 1;
  std::size_t closing = 0;  // entries with `closing` set: their descriptors are free
  bool accept_pending = false;
  bool arrival_pending = false;  // at the cap, waiting for a connection to arrive
  bool backoff_pending = false;
  bool shed_pending = false;
  std::chrono::milliseconds backoff{0};
  // One shed-and-retry per pause: set when an accept failed for want of descriptors and an
  // idle connection was closed for it; cleared by a successful accept or the end of a pause.
  bool retried_after_shed = false;
  // Failed accepts not yet counted in a "accepting again" line.
  std::uint64_t failures_unreported = 0;
  // Both at most one line per interval: a failure and a recovery can alternate for long.
  RepeatLimiter accept_log;
  RepeatLimiter recovery_log;

  // Read by connections on their own strands.
  std::atomic<bool> stopping{false};
  // Set while at the cap with no idle connection to close: the next connection that
  // becomes idle wakes the acceptor.
  std::atomic<bool> want_idle{false};
  // For stats().
  std::atomic<std::size_t> open_gauge{0};
  std::atomic<std::uint64_t> shed_total{0};
  std::atomic<std::uint64_t> accept_errors_total{0};

  // Answers handed over by other threads (the store's writer completes a whole batch of
  // commands at once), taken to their connections by one handler per burst: see
  // Answer::deliver. Invariant: while `inbox` is not empty, a drain_inbox is posted that
  // has not yet taken it.
  struct Delivery {
    std::shared_ptr<Session> session;
    HttpResponse response;
    unsigned version;
    bool keep_alive;
    bool head;
  };
  void drain_inbox();
  std::mutex inbox_mutex;
  std::vector<Delivery> inbox;
};

// A request's responder, made once per request (one allocation): it takes the answer to
// the connection's strand, from whichever thread calls it. The work guard keeps the
// listener's threads running (and a graceful stop waiting) until the answer has come.
class Answer final : public HttpResponder::State {
 public:
  Answer(std::shared_ptr<Session> session, unsigned version, bool keep_alive, bool head,
         const asio::any_io_executor& executor)
      : session_(std::move(session)),
        work_(asio::make_work_guard(executor)),
        version_(version),
        keep_alive_(keep_alive),
        head_(head) {}
  ~Answer() override { answer_if_unanswered(); }

  void deliver(HttpResponse response) override;

 private:
  std::shared_ptr<Session> session_;
  // Released (guard and executor, the connection's strand) in deliver() while the server is
  // still held: a strand outliving its io_context locks a mutex freed with it.
  std::optional<asio::executor_work_guard<asio::any_io_executor>> work_;
  unsigned version_;
  bool keep_alive_;
  bool head_;
};

// One connection, on its own strand. Reads a request in two phases so that an idle
// keep-alive connection (nothing received yet) and a request in progress have different
// time limits, and so that a graceful stop or the connection cap can close the first kind
// and never the second.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server, std::uint64_t id)
      : stream_(std::move(socket)), server_(std::move(server)), id_(id) {
    idle_since_.store(steady_now_ns());  // accepted, nothing received: idle
  }

  ~Session() {
    asio::post(server_->strand, [server = server_, id = id_] { server->session_ended(id); });
  }

  void start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::await_request, shared_from_this()));
  }

  // Since when (steady clock, ns) the connection has been idle; 0 while a request is under
  // way. Any thread may read it; the session's strand decides (see shed()).
  std::int64_t idle_since() const { return idle_since_.load(); }

  // Writes `response` on this connection's strand (`self` is this session).
  void answer(std::shared_ptr<Session> self, HttpResponse response, unsigned version,
              bool keep_alive, bool head) {
    asio::post(stream_.get_executor(),
               [self = std::move(self), response = std::move(response), version, keep_alive,
                head]() mutable { self->respond(std::move(response), version, keep_alive, head); });
  }

  // Asked by the listener at the cap: close if idle, and report whether it did.
  void shed() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->idle_ || self->interrupt_ != Interrupt::kNone) return self->report_shed(false);
      self->interrupt(Interrupt::kShed);
    });
  }

  // Asked on stop: only a connection with no request under way is closed now.
  void stop_if_idle() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_ && self->interrupt_ == Interrupt::kNone) self->interrupt(Interrupt::kStop);
    });
  }

 private:
  friend class Answer;  // calls respond() on this strand
  enum class Interrupt { kNone, kShed, kStop };

  // Cancels the idle read; on_first_bytes decides, on this strand, whether a request began
  // in the meantime (then it is served) or the connection closes.
  void interrupt(Interrupt why) {
    interrupt_ = why;
    beast::error_code ignored;
    stream_.socket().cancel(ignored);
  }

  void report_shed(bool closed) {
    asio::post(server_->strand,
               [server = server_, id = id_, closed] { server->on_shed_result(id, closed); });
  }

  void await_request() {
    if (server_->stopping) return close();
    if (buffer_.size() > 0) return read_header();  // pipelined bytes already here
    idle_ = true;
    idle_since_.store(steady_now_ns());
    // Paired with the listener, which sets want_idle before it scans for idle connections:
    // one of the two sees the other's store.
    if (server_->want_idle.load() && server_->want_idle.exchange(false)) {
      asio::post(server_->strand, [server = server_] { server->maybe_accept(); });
    }
    stream_.expires_after(server_->options.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(4096),
        beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    idle_ = false;
    idle_since_.store(0);
    const Interrupt why = std::exchange(interrupt_, Interrupt::kNone);
    if (why != Interrupt::kNone && ec == asio::error::operation_aborted) {
      beast::error_code aec;
      if (stream_.socket().available(aec) > 0 && !aec) {
        // A request began arriving just as the connection was to close: serve it.
        if (why == Interrupt::kShed) report_shed(false);
        return read_header();
      }
      close();
      if (why == Interrupt::kShed) report_shed(true);
      return;
    }
    if (why == Interrupt::kShed) report_shed(false);
    if (ec) return close();  // peer closed, idle timeout, or stop
    buffer_.commit(n);
    read_header();
  }

  // A request has begun: parse what is buffered, and read only when the parser needs more.
  // Beast's async_read_header and async_read would do the same, but each completes through
  // a post to the strand even when the whole request is already buffered (the usual case:
  // a client writes a request at once), and each is a composed operation of its own.
  void read_header() {
    idle_ = false;
    idle_since_.store(0);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    header_checked_ = false;
    // From the first byte on, the whole request must arrive within read_timeout; the
    // deadline is set on the stream only when something is still to be read.
    request_deadline_ = SteadyClock::now() + server_->options.read_timeout;
    parse_buffered();
  }

  // Feeds the buffered bytes to the parser until the request is whole (then handles it),
  // the header is in (checked once, see check_header), or more bytes are needed (read).
  void parse_buffered() {
    for (;;) {
      beast::error_code ec;
      if (parser_->is_done()) {
        // Whatever else is buffered is the next request (pipelined): left for it.
      } else if (buffer_.size() > 0) {
        const std::size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec && ec != http::error::need_more) return on_read_error(ec);
      } else {
        ec = http::error::need_more;
      }
      if (parser_->is_header_done() && !header_checked_) {
        header_checked_ = true;
        if (!check_header()) return;  // answered, or a 100 Continue resumes parsing
        continue;
      }
      if (parser_->is_done()) return on_request();
      if (ec == http::error::need_more) return read_more();
    }
  }

  void read_more() {
    const std::size_t size = beast::read_size(buffer_, 65536);
    if (size == 0) return on_read_error(http::error::buffer_overflow);
    stream_.expires_at(request_deadline_);
    stream_.async_read_some(buffer_.prepare(size),
                            beast::bind_front_handler(&Session::on_more, shared_from_this()));
  }

  void on_more(beast::error_code ec, std::size_t n) {
    buffer_.commit(n);
    if (ec == asio::error::eof) {
      // As Beast's reader: a message cut short is malformed, none at all is the end.
      if (!parser_->got_some()) return on_read_error(http::error::end_of_stream);
      parser_->put_eof(ec);
      if (ec) return on_read_error(ec);
      if (parser_->is_done()) return on_request();
      return on_read_error(http::error::partial_message);
    }
    if (ec) return on_read_error(ec);
    parse_buffered();
  }

  // Once per request, when its header is in. False when the request was answered here
  // (refused) or a 100 Continue is being written (it resumes parsing when sent).
  bool check_header() {
    const auto& req = parser_->get();
    if (const auto problem = framing_problem(req); !problem.empty()) {
      spdlog::debug("refused a request: {}", problem);
      reply_error(http::status::bad_request, problem);
      return false;
    }
    if (const auto length = parser_->content_length();
        length && *length > server_->options.max_body_bytes) {
      reply_error(http::status::payload_too_large, "request body too large\n");
      return false;
    }
    auto expect = req[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      stream_.expires_at(request_deadline_);
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
                          if (wec) return self->close();
                          self->parse_buffered();
                        });
      return false;
    }
    return true;
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

  void on_request() {
    auto req = parser_->release();
    parser_.reset();

    // HEAD is GET without the body (RFC 9110 §9.3.2): the handlers see a GET, so the
    // status and headers are the ones GET would get.
    const bool head = req.method() == http::verb::head;
    HttpRequest request;
    request.method = head ? std::string("GET") : std::string(req.method_string());
    request.target = std::string(req.target());
    request.headers.reserve(16);
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(req.body());

    // The answer comes back through the responder, from whichever thread finished the
    // work; it is written on this connection's strand. The work guard keeps the listener's
    // threads running (and a graceful stop waiting) until it has come.
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    HttpResponder responder(std::make_shared<Answer>(shared_from_this(), version, keep_alive, head,
                                                     stream_.get_executor()));
    const std::string method = request.method;
    const std::string target = request.target;
    try {
      server_->handler(std::move(request), responder);
    } catch (const std::exception& e) {
      spdlog::error("{} {} failed: {}", method, target, e.what());
      responder(HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}});
    }
  }

  void respond(HttpResponse response, unsigned version, bool keep_alive, bool head) {
    if (!serialise_head(response, version, keep_alive && !server_->stopping, head)) {
      spdlog::error("a handler's answer has a header that cannot be sent; answering 500");
      HttpResponse internal{500, "text/plain; charset=utf-8", "internal error\n", {}};
      serialise_head(internal, version, keep_alive && !server_->stopping, head);
      response = std::move(internal);
    }
    out_body_ = std::move(response.body);
    write(/*then_linger=*/false);
  }

  void reply_error(http::status status, std::string_view text) {
    // The stream is not at a request boundary any more: close after the answer.
    HttpResponse response{
        static_cast<int>(status), "text/plain; charset=utf-8", std::string(text), {}};
    serialise_head(response, 11, /*keep_alive=*/false, /*head=*/false);
    out_body_ = std::move(response.body);
    write(/*then_linger=*/true);
  }

  // The status line and headers into out_head_ (reused from answer to answer), as Beast's
  // serialiser wrote them for the message respond() used to build: Server and Content-Type
  // first, then the handler's headers (a later one of the same name replacing an earlier
  // one, as `set` did), Content-Length always (the body's length, also for HEAD), and
  // Connection where keep-alive differs from the version's default. Written by hand: for a
  // small answer Beast's message, its fields and its serialiser were a good part of a
  // listener's time. Sets out_keep_alive_; the body is the caller's. False when a header
  // name or value cannot be sent as it is (a handler's bug: never split a header).
  bool serialise_head(HttpResponse& response, unsigned version, bool keep_alive, bool head) {
    const auto sendable_name = [](std::string_view name) {
      return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 32 && u < 127 &&
               std::string_view("\"(),/:;<=>?@[\\]{}").find(c) == std::string_view::npos;
      });
    };
    const auto sendable_value = [](std::string_view value) {
      return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
    };
    if (!sendable_value(response.content_type)) return false;
    const auto replaced_later = [&](std::size_t i) {
      for (std::size_t j = i + 1; j < response.headers.size(); ++j) {
        if (beast::iequals(response.headers[j].first, response.headers[i].first)) return true;
      }
      return false;
    };
    const auto given = [&](std::string_view name) {
      return std::any_of(response.headers.begin(), response.headers.end(),
                         [&](const auto& h) { return beast::iequals(h.first, name); });
    };

    const auto status = static_cast<http::status>(response.status);
    // Beast refused a body with these (an exception on the listener's thread); never sent.
    if (http::to_status_class(status) == http::status_class::informational ||
        status == http::status::no_content || status == http::status::not_modified) {
      if (!response.body.empty()) return false;
    }
    std::string& out = out_head_;
    out.clear();
    out.append("HTTP/1.").push_back(static_cast<char>('0' + version % 10));
    fmt::format_to(std::back_inserter(out), " {} ", response.status);
    out.append(http::obsolete_reason(status)).append("\r\n");
    if (!given("server")) out.append("Server: scribe\r\n");
    if (!given("content-type")) {
      out.append("Content-Type: ").append(response.content_type).append("\r\n");
    }
    for (std::size_t i = 0; i < response.headers.size(); ++i) {
      auto& [name, value] = response.headers[i];
      if (!sendable_name(name) || !sendable_value(value)) return false;
      if (replaced_later(i)) continue;
      // Wherever GET is allowed, so is HEAD: the listener serves it.
      if (beast::iequals(name, "allow") && value.find("GET") != std::string::npos &&
          value.find("HEAD") == std::string::npos) {
        value += ", HEAD";
      }
      out.append(name).append(": ").append(value).append("\r\n");
    }
    if (version >= 11 && !keep_alive) out.append("Connection: close\r\n");
    if (version < 11 && keep_alive) out.append("Connection: keep-alive\r\n");
    fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n\r\n", response.body.size());
    if (head) response.body.clear();  // Content-Length stays the body's length
    out_keep_alive_ = keep_alive;
    return true;
  }

  // Sends out_head_ and out_body_ (one answer at a time: the connection reads nothing more
  // until it is written).
  void write(bool then_linger) {
    stream_.expires_after(server_->options.read_timeout);
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(out_head_),
                                                    asio::buffer(out_body_)};
    asio::async_write(stream_, buffers,
                      [self = shared_from_this(), then_linger](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        if (!self->out_keep_alive_)
                          return then_linger ? self->linger() : self->close();
                        self->await_request();
                      });
  }

  // Half-closes, then drops what the client still sends until it closes too (or the
  // limits above), then closes.
  void linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    stream_.expires_after(kLingerTime);
    drain();
  }

  void drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kLingerBytes) return self->close();
                              self->drain();
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
  bool header_checked_ = false;  // the current request's header passed check_header
  SteadyClock::time_point request_deadline_{};
  // The answer being written: its head, its body, and whether the connection stays open.
  std::string out_head_;
  std::string out_body_;
  bool out_keep_alive_ = false;
  std::shared_ptr<HttpServer::Impl> server_;
  const std::uint64_t id_;
  std::atomic<std::int64_t> idle_since_{0};
  // On the session's strand only.
  bool idle_ = false;  // an idle read (await_request) is pending
  Interrupt interrupt_ = Interrupt::kNone;
  std::size_t lingered_ = 0;
};

// Each answer posted to its connection's strand from the writer's thread would wake a
// listener thread (a futex or the reactor's eventfd) per command. Queued here instead, the
// answers of one writer batch cost one wake-up: the first posts a drain, the rest join it.
void Answer::deliver(HttpResponse response) {
  std::shared_ptr<HttpServer::Impl> server = session_->server_;
  bool first = false;
  {
    std::lock_guard lock(server->inbox_mutex);
    first = server->inbox.empty();
    server->inbox.push_back(
        {std::move(session_), std::move(response), version_, keep_alive_, head_});
  }
  if (first) asio::post(server->ioc, [server] { server->drain_inbox(); });
  // Destroys the guard and its executor now, not with the Answer: when this is a late
  // answer from a store thread after the listener has stopped, `server` may be the last
  // reference, and the io_context goes with it at the end of this function.
  work_.reset();
}

void HttpServer::Impl::drain_inbox() {
  std::vector<Delivery> taken;
  {
    std::lock_guard lock(inbox_mutex);
    taken.swap(inbox);
  }
  // Posted from a listener thread, these go to its own queue: no lock, no wake-up, and the
  // other thread is woken once if there is more than this one can run.
  for (Delivery& d : taken) {
    Session& session = *d.session;
    session.answer(std::move(d.session), std::move(d.response), d.version, d.keep_alive, d.head);
  }
}

void HttpServer::Impl::maybe_accept() {
  if (stopping || accept_pending || backoff_pending || arrival_pending) return;
  if (load() >= options.max_connections) {
    if (shed_pending) return;  // its result calls back
    // Only a connection actually waiting in the listen queue is worth closing an idle one
    // for: shedding ahead of time would close a client that has connected and not yet sent
    // its request, and keep one slot empty for nobody.
    arrival_pending = true;
    acceptor.async_wait(tcp::acceptor::wait_read,
                        beast::bind_front_handler(&Impl::on_arrival, shared_from_this()));
    return;
  }
  accept_pending = true;
  acceptor.async_accept(asio::make_strand(ioc),
                        beast::bind_front_handler(&Impl::on_accept, shared_from_this()));
}

void HttpServer::Impl::on_arrival(beast::error_code ec) {
  arrival_pending = false;
  if (stopping || ec == asio::error::operation_aborted) return;
  if (ec) return on_accept_error(ec);
  if (load() < options.max_connections) return maybe_accept();  // a slot freed meanwhile
  if (shed_pending) return;                                     // its result calls back
  if (!connection_waiting()) return maybe_accept();             // a stale wake-up: wait again
  want_idle.store(true);
  if (shed_longest_idle()) want_idle.store(false);
  // Otherwise the next session to end or to become idle calls back.
}

void HttpServer::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  accept_pending = false;
  if (stopping) return;  // the socket closes as it goes
  if (ec) return on_accept_error(ec);
  std::uint64_t held_back = 0;
  if (failures_unreported > 0 && recovery_log.admit(SteadyClock::now(), &held_back)) {
    spdlog::info("accepting connections again; {} accepts had failed",
                 std::exchange(failures_unreported, 0));
  }
  backoff = 0ms;
  retried_after_shed = false;
  const std::uint64_t id = next_id++;
  auto session = std::make_shared<Session>(std::move(socket), shared_from_this(), id);
  sessions.emplace(id, Entry{session});
  publish_open();
  session->start();
  maybe_accept();
}

void HttpServer::Impl::on_accept_error(const beast::error_code& ec) {
  if (ec == asio::error::operation_aborted) return;
  accept_errors_total.fetch_add(1, std::memory_order_relaxed);
  ++failures_unreported;
  if (connection_specific(ec)) {
    spdlog::debug("accept failed for one connection: {}", ec.message());
    return maybe_accept();
  }
  std::uint64_t held_back = 0;
  const bool log = accept_log.admit(SteadyClock::now(), &held_back);
  const std::string repeats =
      held_back > 0 ? fmt::format(" ({} more failures since the last report)", held_back) : "";
  // Out of descriptors: closing the longest-idle connection frees one for the connection
  // waiting in the queue, so accept again as soon as it is closed. Once only: if the next
  // accept fails too, the descriptor went elsewhere, and the pause below follows.
  if (out_of_resources(ec) && !shed_pending && !retried_after_shed && shed_longest_idle()) {
    retried_after_shed = true;
    if (log) {
      spdlog::warn("accept failed: {}; {} connections open; closing the longest-idle one{}",
                   ec.message(), sessions.size(), repeats);
    }
    return;  // on_shed_result accepts again
  }
  // Anything else may well repeat at once: pause rather than spin.
  backoff = backoff == 0ms ? kFirstBackoff : std::min(backoff * 2, kMaxBackoff);
  if (log) {
    spdlog::warn("accept failed: {}; {} connections open; pausing accepts for {} ms{}",
                 ec.message(), sessions.size(), backoff.count(), repeats);
  }
  backoff_pending = true;
  backoff_timer.expires_after(backoff);
  backoff_timer.async_wait([self = shared_from_this()](beast::error_code wec) {
    if (wec) return;  // cancelled on stop
    self->backoff_pending = false;
    // The connection shed before the pause may have begun a request instead of closing;
    // after the pause another idle one may be closed, or none ever would be again.
    self->retried_after_shed = false;
    self->maybe_accept();
  });
}

bool HttpServer::Impl::connection_waiting() {
  pollfd probe{acceptor.native_handle(), POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&probe, 1, 0);
  } while (ready < 0 && errno == EINTR);
  // If poll itself fails, assume somebody waits: shedding an idle connection is the
  // listener's old behaviour, and never leaves a waiting client stuck.
  return ready != 0;
}

bool HttpServer::Impl::shed_longest_idle() {
  std::shared_ptr<Session> oldest;
  std::uint64_t oldest_id = 0;
  std::int64_t oldest_since = std::numeric_limits<std::int64_t>::max();
  for (auto& [id, entry] : sessions) {
    if (entry.shed_asked || entry.closing) continue;
    auto s = entry.session.lock();
    if (!s) continue;
    const std::int64_t since = s->idle_since();
    if (since > 0 && since < oldest_since) {
      oldest = std::move(s);
      oldest_id = id;
      oldest_since = since;
    }
  }
  if (!oldest) return false;
  sessions[oldest_id].shed_asked = true;
  shed_pending = true;
  oldest->shed();
  return true;
}

void HttpServer::Impl::on_shed_result(std::uint64_t id, bool closed) {
  shed_pending = false;
  if (closed) shed_total.fetch_add(1, std::memory_order_relaxed);
  if (auto it = sessions.find(id); it != sessions.end()) {
    it->second.shed_asked = false;
    if (closed) {
      it->second.closing = true;
      ++closing;
    }
  }
  publish_open();
  maybe_accept();
}

void HttpServer::Impl::session_ended(std::uint64_t id) {
  if (auto it = sessions.find(id); it != sessions.end()) {
    if (it->second.closing) --closing;
    sessions.erase(it);
  }
  publish_open();
  if (stopping) {
    if (sessions.empty()) grace_timer.cancel();
    return;
  }
  maybe_accept();
}

void HttpServer::Impl::begin_stop() {
  if (stopping.exchange(true)) return;
  spdlog::info("stopping: no new connections; finishing requests in flight");
  beast::error_code ignored;
  acceptor.close(ignored);
  backoff_timer.cancel();
  if (signals) signals->cancel(ignored);
  if (sessions.empty()) {
    grace_timer.cancel();
    return;
  }
  for (auto& [id, entry] : sessions) {
    if (auto s = entry.session.lock()) s->stop_if_idle();
  }
  grace_timer.expires_after(options.shutdown_grace);
  grace_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    spdlog::warn("shutdown grace period over; dropping the remaining connections");
    self->ioc.stop();
  });
}

std::size_t HttpServer::default_max_connections(std::uint64_t fd_limit) {
  const std::uint64_t headroom =
      fd_limit < 128 ? fd_limit / 2 : std::max<std::uint64_t>(64, fd_limit / 8);
  const std::uint64_t room = fd_limit > headroom ? fd_limit - headroom : 1;
  return static_cast<std::size_t>(
      std::clamp<std::uint64_t>(room, 1, static_cast<std::uint64_t>(kMaxDefaultConnections)));
}

HttpServer::HttpServer(Options options, Handler handler)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(handler))) {
  const std::uint64_t fd_limit = current_fd_limit();
  const std::size_t fitting = default_max_connections(fd_limit);
  auto& max = impl_->options.max_connections;
  if (max == 0) {
    max = fitting;
  } else if (max > fitting) {
    spdlog::warn(
        "max_connections {} is more than the file descriptor limit ({}) leaves room for ({}); "
        "when descriptors run out, accepting pauses and idle connections are closed",
        max, fd_limit, fitting);
  }
  spdlog::info("connections: at most {} at once (file descriptor limit {})", max, fd_limit);

  beast::error_code ec;
  const auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) throw std::runtime_error("listen: '" + impl_->options.host + "' is not an IP address");
  tcp::endpoint endpoint{address, impl_->options.port};
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) impl_->bound_port = acceptor.local_endpoint(ec).port();
  if (ec) {
    throw std::runtime_error("cannot listen on " + impl_->options.host + ":" +
                             std::to_string(impl_->options.port) + ": " + ec.message());
  }
}

HttpServer::~HttpServer() = default;

std::uint16_t HttpServer::port() const { return impl_->bound_port; }

HttpResponder::State::~State() = default;

void HttpResponder::State::answer_if_unanswered() {
  if (!sent.exchange(true)) {
    spdlog::error("a request was left unanswered by its handler; answering 500");
    deliver(HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}});
  }
}

namespace {
struct FunctionState final : HttpResponder::State {
  explicit FunctionState(std::function<void(HttpResponse)> s) : send(std::move(s)) {}
  ~FunctionState() override { answer_if_unanswered(); }
  void deliver(HttpResponse response) override { send(std::move(response)); }
  std::function<void(HttpResponse)> send;
};
}  // namespace

HttpResponder::HttpResponder(std::function<void(HttpResponse)> send)
    : state_(std::make_shared<FunctionState>(std::move(send))) {}

HttpResponder::HttpResponder(std::shared_ptr<State> state) : state_(std::move(state)) {}

void HttpResponder::operator()(HttpResponse response) const {
  if (state_->sent.exchange(true)) return;
  state_->deliver(std::move(response));
}

HttpServer::Stats HttpServer::stats() const {
  Stats s;
  s.open_connections = impl_->open_gauge.load(std::memory_order_relaxed);
  s.max_connections = impl_->options.max_connections;
  s.shed_total = impl_->shed_total.load(std::memory_order_relaxed);
  s.accept_errors_total = impl_->accept_errors_total.load(std::memory_order_relaxed);
  return s;
}

void HttpServer::run(bool handle_signals) {
  // Before any thread runs the io_context, so nothing here races with a handler.
  if (handle_signals) {
    impl_->signals.emplace(impl_->strand, SIGINT, SIGTERM);
    impl_->signals->async_wait([impl = impl_](beast::error_code ec, int signal) {
      if (ec) return;
      spdlog::info("received signal {}", signal);
      impl->begin_stop();
    });
  }
  // Keeps run() going while idle; the grace timer takes over once stopping.
  impl_->grace_timer.expires_at(asio::steady_timer::time_point::max());
  impl_->grace_timer.async_wait([](beast::error_code) {});
  asio::post(impl_->strand, [impl = impl_] { impl->maybe_accept(); });

  std::vector<std::thread> threads;
  const int wanted = impl_->options.threads > 0
                         ? impl_->options.threads
                         : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  const int extra = std::max(0, wanted - 1);
  for (int i = 0; i < extra; ++i) threads.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : threads) t.join();
  impl_->signals.reset();
}

void HttpServer::stop() {
  asio::post(impl_->strand, [impl = impl_] { impl->begin_stop(); });
}

}  // namespace scribe
