#include "adapters/slack/signature.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include "util/secret.h"

namespace scribe::slack {
namespace {

constexpr std::string_view kVersionPrefix = "v0=";
constexpr std::size_t kSha256Size = 32;
constexpr std::size_t kSignatureSize = kVersionPrefix.size() + 2 * kSha256Size;

// Slack sends a bare decimal; anything else (sign, spaces, fractions) is rejected so
// that one timestamp has exactly one spelling inside the signed basestring.
bool parse_unix_seconds(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string compute_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body) {
  std::string basestring;
  basestring.reserve(3 + timestamp.size() + 1 + body.size());
  basestring.append("v0:").append(timestamp).append(":").append(body);

  const std::string mac = hmac_sha256_hex(secret, basestring);
  // Cannot be empty with a working libcrypto; an empty result can never verify.
  if (mac.size() != 2 * kSha256Size) return {};
  return std::string(kVersionPrefix) + mac;
}

VerifyResult verify_request(std::string_view secret, std::string_view timestamp_header,
                            std::string_view signature_header, std::string_view body,
                            std::chrono::system_clock::time_point now) {
  if (timestamp_header.empty() || signature_header.empty()) {
    return VerifyResult::kMissingHeaders;
  }
  std::int64_t timestamp = 0;
  if (!parse_unix_seconds(timestamp_header, timestamp)) return VerifyResult::kBadTimestamp;

  const std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::int64_t skew = kMaxClockSkew.count();
  // Written as two comparisons so that no subtraction can overflow.
  if (timestamp > now_s + skew || timestamp < now_s - skew) return VerifyResult::kStale;

  if (secret.empty()) return VerifyResult::kBadSignature;
  if (signature_header.size() != kSignatureSize ||
      signature_header.substr(0, kVersionPrefix.size()) != kVersionPrefix) {
    return VerifyResult::kBadSignature;
  }
  const std::string expected = compute_signature(secret, timestamp_header, body);
  if (!secret_equals(expected, signature_header)) {
    return VerifyResult::kBadSignature;
  }
  return VerifyResult::kOk;
}

std::string_view describe(VerifyResult result) {
  switch (result) {
    case VerifyResult::kOk:
      return "signature verified";
    case VerifyResult::kMissingHeaders:
      return "missing X-Slack-Request-Timestamp or X-Slack-Signature header";
    case VerifyResult::kBadTimestamp:
      return "X-Slack-Request-Timestamp is not a Unix time in seconds";
    case VerifyResult::kStale:
      return "request timestamp is more than 5 minutes away from the server clock";
    case VerifyResult::kBadSignature:
      return "request signature does not match";
  }
  return "unknown verification result";
}

}  // namespace scribe::slack
