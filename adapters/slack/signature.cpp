#include "adapters/slack/signature.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <span>

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

// The signature into `out`: "v0=" and 64 hex digits, HMAC'd over the parts of the
// basestring in turn (no copy of the body). False only if libcrypto fails.
bool signature_into(std::string_view secret, std::string_view timestamp, std::string_view body,
                    char (&out)[kSignatureSize]) {
  std::copy(kVersionPrefix.begin(), kVersionPrefix.end(), out);
  return hmac_sha256_hex_into(
      secret, {"v0:", timestamp, ":", body},
      std::span<char, 2 * kSha256Size>(out + kVersionPrefix.size(), 2 * kSha256Size));
}

}  // namespace

std::string compute_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body) {
  char signature[kSignatureSize];
  // Cannot fail with a working libcrypto; an empty result can never verify.
  if (!signature_into(secret, timestamp, body, signature)) return {};
  return std::string(signature, sizeof signature);
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
  char expected[kSignatureSize];
  // Both are kSignatureSize long (checked above, and the length is no secret): compared in
  // constant time without hashing them first.
  if (!signature_into(secret, timestamp_header, body, expected) ||
      !same_length_secret_equals(std::string_view(expected, sizeof expected), signature_header)) {
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
