// HttpServer: the one HTTP/1.1 listener. Keep-alive, bounded header and body sizes,
// a timeout for idle connections and a shorter one for a request once it has begun
// (slow clients are cut off), and a graceful stop: the listener closes, idle
// connections close, requests already being read or handled are finished (up to the
// grace period). Requests go to one Handler as plain HttpRequest values.
//
// Resource promises:
// - At most `max_connections` connections are open at once. At the cap, when a new
//   connection waits to be accepted, the connection idle the longest (no request bytes
//   under way) is closed to make room; a connection with a request in flight is never
//   closed for this, and none is closed while nobody waits. When none is idle, no new
//   connection is accepted until one closes.
// - When accept fails for want of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM), the
//   longest-idle connection is closed and accept retried once; when none is idle or the
//   retry fails too, accepting pauses (10 ms, doubling to 1 s, reset by a successful
//   accept). Never a busy loop. The failure is logged at most once per 10 s, with a count
//   of the repeats in between.
//
// HTTP promises beyond Beast's parser: a Transfer-Encoding other than exactly "chunked",
// or one combined with Content-Length or sent in HTTP/1.0, is refused with 400 and the
// connection closed (RFC 9112 §6.1, §6.3), so a body cannot be read as a next request.
// HEAD is served as GET without the body (same status and headers, Content-Length too).
//
// Handlers are asynchronous: a handler gets the request and a Responder and returns at
// once; whoever finishes the work (a store thread, a reader pool) calls the responder, from
// any thread, and the answer is written on the connection's strand. The connection reads
// nothing more until then (HTTP/1.1 answers in order), and a graceful stop waits for it
// (up to the grace period).
//
// Threads: run() drives `threads` threads. The acceptor, its timers, the signal set and
// the registry of connections live on one strand; each connection on its own strand.
// stop() and stats() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/http_message.h"

namespace scribe {

// Answers one request. Copyable; the first call sends the answer, later calls are ignored.
// When the last copy is destroyed without a call (a handler that lost it), the request is
// answered 500 so that the connection is not left waiting. Callable from any thread.
class HttpResponder {
 public:
  explicit HttpResponder(std::function<void(HttpResponse)> send);
  void operator()(HttpResponse response) const;

  // Where the answer goes. The listener makes one per request, with the connection in it
  // (one allocation, no std::function); the final class calls answer_if_unanswered() in
  // its destructor.
  struct State {
    virtual ~State();
    virtual void deliver(HttpResponse response) = 0;
    void answer_if_unanswered();
    std::atomic<bool> sent{false};
  };
  explicit HttpResponder(std::shared_ptr<State> state);

 private:
  std::shared_ptr<State> state_;
};

class HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;  // 0: any free port (see port())
    std::size_t max_body_bytes = 64 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    std::chrono::seconds read_timeout{10};
    std::chrono::seconds idle_timeout{75};
    std::chrono::seconds shutdown_grace{10};
    // Parse, verify and route: the work is elsewhere (see Handler). 0: one per core.
    int threads = 0;
    // 0: default_max_connections() of the process's RLIMIT_NOFILE at construction.
    std::size_t max_connections = 0;
  };
  // Called on a listener thread; must not block: what takes time (the store) completes
  // later through the responder. An exception out of the handler becomes a 500.
  using Handler = std::function<void(HttpRequest, HttpResponder)>;

  // The connection cap for a descriptor limit: the limit less headroom for the database,
  // outbound HTTP, logs and the runtime (at least 64 descriptors, or 1/8 of a large
  // limit; half of a tiny one), and at most kMaxDefaultConnections so that idle
  // connections cannot take unbounded memory. At least 1.
  static constexpr std::size_t kMaxDefaultConnections = 8192;
  static std::size_t default_max_connections(std::uint64_t fd_limit);

  // Binds and listens; throws std::runtime_error when the address is unusable.
  HttpServer(Options options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const;

  // Serves until stop() or, when `handle_signals`, SIGINT/SIGTERM; then drains.
  void run(bool handle_signals);
  // Thread-safe; returns at once, run() returns once drained.
  void stop();

  // Gauges and counters for /metrics; thread-safe, each value read on its own.
  struct Stats {
    std::size_t open_connections = 0;
    std::size_t max_connections = 0;
    std::uint64_t shed_total = 0;           // idle connections closed to make room
    std::uint64_t accept_errors_total = 0;  // failed accept() calls
  };
  Stats stats() const;

  struct Impl;  // opaque; shared with the connections so it outlives them

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace scribe
