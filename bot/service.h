// Service: the running Scribe. Opens the store, builds the command handler and the
// endpoints enabled by the configuration, and routes the listener's requests to them.
// Platform adapters plug in here; the command core below them knows none of them.
#pragma once

#include <cstdint>
#include <memory>

#include "bot/config.h"
#include "bot/http_message.h"

namespace scribe {

class Service {
 public:
  // Throws ConfigError, StoreError or std::runtime_error when it cannot start.
  explicit Service(const Config& config);
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
