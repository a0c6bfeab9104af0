// RawConnection: a loopback TCP connection for tests that must send exact bytes (request
// smuggling, pipelining, half-sent requests) and read exactly what comes back, which an
// HTTP client library would normalise away. Blocking I/O with poll() deadlines.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "util/strings.h"

namespace scribe::testing {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed: errno " + std::to_string(errno));
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed: errno " + std::to_string(errno));
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // One response: status line, headers, and a body of Content-Length bytes (none after
  // a HEAD request: `head`). nullopt when the connection ends or `timeout` passes first.
  std::optional<RawResponse> read_response(bool head = false,
                                           std::chrono::milliseconds timeout = kTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(deadline)) return std::nullopt;
    }
    RawResponse r;
    const std::string head_text = pending_.substr(0, end + 2);
    pending_.erase(0, end + 4);
    std::size_t line_end = head_text.find("\r\n");
    const std::string status_line = head_text.substr(0, line_end);
    if (!status_line.starts_with("HTTP/1.")) return std::nullopt;
    r.status = std::atoi(status_line.c_str() + 9);
    for (std::size_t at = line_end + 2; at < head_text.size(); at = line_end + 2) {
      line_end = head_text.find("\r\n", at);
      const std::string line = head_text.substr(at, line_end - at);
      const auto colon = line.find(':');
      const std::string name = scribe::lower(line.substr(0, colon));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
    }
    const std::size_t length =
        head ? 0 : static_cast<std::size_t>(std::atoll(r.header("content-length").c_str()));
    while (pending_.size() < length) {
      if (!fill(deadline)) return std::nullopt;
    }
    r.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return r;
  }

  // True when the peer closes the connection (FIN or reset) before `timeout`; bytes that
  // arrive first are kept for read_response.
  bool closed_by_peer(std::chrono::milliseconds timeout = kTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!fill(deadline)) return eof_;
    }
    return eof_;
  }

  // True when the connection is still open with nothing to read, checked without waiting.
  bool open_and_quiet() const {
    char byte;
    const ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  // True when nothing at all (no byte, no close) arrives within `window`.
  bool silent_for(std::chrono::milliseconds window) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(window.count())) == 0;
  }

 private:
  static constexpr std::chrono::milliseconds kTimeout{10000};

  // Reads what is there (waiting until `deadline`); false on end of stream or timeout.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (eof_) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string pending_;
  bool eof_ = false;
};

}  // namespace scribe::testing
