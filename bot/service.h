// Service: the running Scribe. Opens the store, builds the command handler and the
// endpoints enabled by the configuration, and routes the listener's requests to them.
// Platform adapters plug in here; the command core below them knows none of them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "bot/config.h"
#include "net/http_message.h"
#include "storage/model.h"

namespace scribe {

class Service {
 public:
  // What time it is; injectable so the demo (and reminders' tests) can run on their own time.
  using Clock = std::function<Timestamp()>;
  static Timestamp system_now();

  // Throws ConfigError, StoreError or std::runtime_error when it cannot start.
  explicit Service(const Config& config, Clock clock = &Service::system_now);
  // Stops what still runs (the outbox's and the scheduler's threads) before destroying
  // any part, so no thread uses a destroyed one. Call after run() has returned (or never
  // called), not concurrently with it.
  ~Service();

  std::uint16_t port() const;
  // Blocks until stopped: serves requests, delivers the outbox and sends reminders. When
  // it returns, also by an exception, every thread it started has stopped.
  void run(bool handle_signals);
  void stop();  // thread-safe, graceful: from any thread, e.g. a signal handler's

  // Routes one request; answers through `respond` (at once, or from the store's writer or
  // the read pool once the work is done). Never blocks: called on the listener's threads.
  void route(HttpRequest request, Respond respond);

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace scribe
