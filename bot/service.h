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
  ~Service();

  std::uint16_t port() const;
  void run(bool handle_signals);  // blocks until stopped
  void stop();                    // thread-safe, graceful

  HttpResponse route(const HttpRequest& request);

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace scribe
