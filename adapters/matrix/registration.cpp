#include "adapters/matrix/registration.h"

#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <openssl/rand.h>

namespace scribe::matrix {

std::string yaml_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (u < 0x20 || u == 0x7F) {
          out += fmt::format("\\x{:02X}", u);
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string regex_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view(".^$*+?()[]{}|\\/-").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string bot_user_id(std::string_view sender_localpart, std::string_view homeserver_domain) {
  return fmt::format("@{}:{}", sender_localpart, homeserver_domain);
}

std::string registration_yaml(const RegistrationOptions& o) {
  const std::string user_regex =
      "^@" + regex_escape(o.sender_localpart) + ":" + regex_escape(o.homeserver_domain) + "$";
  std::string y;
  y += "# Matrix application-service registration for Scribe (" +
       bot_user_id(o.sender_localpart, o.homeserver_domain) + ").\n";
  y += "# Keep it secret: the tokens authenticate Scribe and the homeserver to each other.\n";
  y += "id: " + yaml_quote(o.id) + "\n";
  y += "url: " + yaml_quote(o.url) + "\n";
  y += "as_token: " + yaml_quote(o.as_token) + "\n";
  y += "hs_token: " + yaml_quote(o.hs_token) + "\n";
  y += "sender_localpart: " + yaml_quote(o.sender_localpart) + "\n";
  y += "rate_limited: false\n";
  y += "receive_ephemeral: false\n";
  y += "namespaces:\n";
  y += "  users:\n";
  y += "    - exclusive: true\n";
  y += "      regex: " + yaml_quote(user_regex) + "\n";
  y += "  aliases: []\n";
  y += "  rooms: []\n";
  return y;
}

std::string random_token(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (bytes > 0 && RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    throw std::runtime_error("the random generator failed");
  }
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char b : buf) out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace scribe::matrix
