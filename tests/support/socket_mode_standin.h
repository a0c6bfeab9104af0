// SocketModeStandIn: the WebSocket half of a stand-in Slack in Socket Mode, for tests. A TLS
// WebSocket server on 127.0.0.1 and an ephemeral port, on a thread of its own, whose
// certificate is issued at construction by a throwaway CA made with OpenSSL (nothing read
// from or kept in the repository); ca_file() is that CA's certificate, for the client's
// SSL_CERT_FILE. Each connection gets `hello` first; the test then plays envelopes
// (send_envelope), asks for a refresh (disconnect), cuts the TCP connection (drop) or holds
// back reading (set_read_delay), and reads the acknowledgements the client sent. The HTTP
// half (apps.connections.open) is SlackStandIn::serve_socket_mode with next_url().
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace scribe::testing {

// One acknowledgement the client sent.
struct SocketAck {
  int connection = 0;      // which connection it came on
  nlohmann::json message;  // {"envelope_id": …, "payload": …}
};

class SocketModeStandIn {
 public:
  SocketModeStandIn();
  ~SocketModeStandIn();  // closes every connection, stops the thread, removes ca_file()
  SocketModeStandIn(const SocketModeStandIn&) = delete;
  SocketModeStandIn& operator=(const SocketModeStandIn&) = delete;

  std::uint16_t port() const;
  std::string ca_file() const;  // PEM of the throwaway CA
  // A fresh wss:// URL (its own ticket), as apps.connections.open hands out.
  std::string next_url();

  // Connections whose WebSocket handshake is done and that are not closed, oldest first.
  std::vector<int> open_connections() const;
  // Waits until at least `n` connections are open; false on timeout.
  bool wait_for_open(std::size_t n,
                     std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // Waits until connection `id` is closed (by either side); false on timeout.
  bool wait_for_closed(int id, std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // Connections ever accepted through the WebSocket handshake.
  std::size_t connections_total() const;
  // The fewest connections open at once since reset_min_open() (at first: since the
  // second one opened).
  std::size_t min_open() const;
  void reset_min_open();
  // When connection `id` opened / closed (steady clock); nullopt if it did not (yet).
  std::optional<std::chrono::steady_clock::time_point> opened_at(int id) const;
  std::optional<std::chrono::steady_clock::time_point> closed_at(int id) const;

  // Sends {"type": type, "envelope_id": id, "payload": payload, "accepts_response_payload":
  // …} on connection `connection` (-1: the newest open one); `envelope_id` empty: a new
  // one. Returns the envelope id (empty when the connection is not open).
  std::string send_envelope(int connection, const std::string& type, nlohmann::json payload,
                            std::string envelope_id = "");
  // Sends any text message (e.g. a malformed one).
  bool send_text(int connection, const std::string& text);
  // {"type":"disconnect","reason": reason}: the client should open a replacement, then close.
  bool disconnect(int connection, const std::string& reason);
  // Closes the TCP connection under the WebSocket, without a close frame.
  bool drop(int connection);
  // Connection `id` reads nothing more (nor answers pings): to the client it is half-open.
  bool stop_reading(int connection);
  // Each read of every connection first waits this long (a slow peer: acknowledgements pile
  // up unread).
  void set_read_delay(std::chrono::milliseconds delay);

  std::vector<SocketAck> acks() const;
  std::vector<SocketAck> acks_for(const std::string& envelope_id) const;
  // Waits until `n` acknowledgements of `envelope_id` arrived; the last one, or nullopt.
  std::optional<nlohmann::json> wait_for_ack(
      const std::string& envelope_id, std::size_t n = 1,
      std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

  struct Impl;  // opaque: Beast and OpenSSL stay in the .cpp

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace scribe::testing
