// SocketMode: Slack's Socket Mode, for a Scribe that Slack cannot reach (no public URL).
// Scribe opens outbound TLS WebSockets (`apps.connections.open` with the app-level token
// `xapp-…`, then wss:// to the URL it returns) and Slack sends over them what it would
// otherwise POST to /slack/*: slash commands, Events API events and interactions.
//
// One behaviour for both modes: each envelope's payload is turned back into the request
// the HTTP endpoint would get and handed to that endpoint (handle_authenticated: the socket
// is authenticated by the token, so there is no signature to check). An envelope is
// acknowledged ({"envelope_id": …}) only when the endpoint answers, i.e. once its effect is
// committed; a slash command's acknowledgement carries as `payload` the reply the HTTP mode
// returns. An answer the HTTP mode gives as a 5xx (nothing was stored) is not acknowledged,
// so Slack delivers the envelope again. A redelivered envelope changes nothing: commands
// and interactions are keyed by envelope id and trigger_id, events by their message (all
// durable, the keys the HTTP mode uses).
//
// Connections: `connections` (2) are kept open so that one is always there while the other
// is refreshed. On `disconnect` (warning, refresh_requested) the replacement is opened
// before the old one is closed; a dropped connection is reopened at once, failures back off
// exponentially with full jitter. Beast answers pings; Scribe pings a connection idle for
// half of `idle_timeout` and replaces one that sends nothing back within it (half-open).
// `link_disabled` (Socket Mode switched off for the app) stops reconnecting that slot.
// TLS certificates are verified against OpenSSL's default store (SSL_CERT_FILE /
// SSL_CERT_DIR where set) with the URL's host name or IP address.
//
// Threads: all network work runs on one thread of its own; apps.connections.open (a
// blocking HttpClient call) on another. Endpoints are called on the network thread and answer
// from any thread. start() and stop() from one controlling thread; the accessors from any.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace scribe::slack {

class CommandsEndpoint;
class EventsEndpoint;
class InteractivityEndpoint;

class SocketMode {
 public:
  struct Options {
    std::string api_url = "https://slack.com/api";  // apps.connections.open lives here
    std::string app_token;                          // xapp-…
    int connections = 2;
    std::chrono::seconds idle_timeout{60};
    std::chrono::milliseconds backoff_initial{500};
    std::chrono::milliseconds backoff_max{std::chrono::seconds(60)};
    // On stop, envelopes being handled get this long to be acknowledged.
    std::chrono::milliseconds drain_timeout{std::chrono::seconds(5)};
  };
  struct Endpoints {
    CommandsEndpoint& commands;
    EventsEndpoint& events;
    InteractivityEndpoint& interactivity;
  };

  SocketMode(Options options, Endpoints endpoints);
  ~SocketMode();  // stop()
  SocketMode(const SocketMode&) = delete;
  SocketMode& operator=(const SocketMode&) = delete;

  // Starts opening connections; returns at once.
  void start();
  // Waits (at most drain_timeout) for the envelopes in hand to be acknowledged, closes every
  // connection and joins the threads. Idempotent.
  void stop();

  struct Stats {
    int connected = 0;                  // connections that said hello and are open
    std::uint64_t opened_total = 0;     // connections that said hello, ever
    std::uint64_t envelopes_total = 0;  // envelopes received (hello and disconnect excluded)
    std::uint64_t acks_total = 0;       // acknowledgements sent
  };
  Stats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace scribe::slack
