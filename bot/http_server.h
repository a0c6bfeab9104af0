// HttpServer: the one HTTP/1.1 listener. Keep-alive, bounded header and body sizes,
// a timeout for idle connections and a shorter one for a request once it has begun
// (slow clients are cut off), and a graceful stop: the listener closes, idle
// connections close, requests already being read or handled are finished (up to the
// grace period). Requests go to one Handler as plain HttpRequest values.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bot/http_message.h"

namespace scribe {

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
    int threads = 2;
  };
  // Called on a listener thread; must not block for long. An exception becomes a 500.
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

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

  struct Impl;  // opaque; shared with the connections so it outlives them

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace scribe
