// Slack request verification ("Verifying requests from Slack", signature version v0).
// Slack signs "v0:<X-Slack-Request-Timestamp>:<raw body>" with HMAC-SHA256 keyed by the
// app's signing secret and sends "v0=<lowercase hex>" in X-Slack-Signature. A request is
// accepted only when the signature matches (compared in constant time) and the timestamp
// is within five minutes of `now`, which bounds how long a captured request can be replayed.
// Nothing here logs or returns the secret.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace scribe::slack {

// Header names as the HTTP listener hands them over (lower-cased).
inline constexpr std::string_view kTimestampHeader = "x-slack-request-timestamp";
inline constexpr std::string_view kSignatureHeader = "x-slack-signature";

// How far the request timestamp may be from the server clock, either way.
inline constexpr std::chrono::seconds kMaxClockSkew{300};

// "v0=" followed by 64 lowercase hex digits.
std::string compute_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body);

enum class VerifyResult {
  kOk,
  kMissingHeaders,  // timestamp or signature header absent/empty
  kBadTimestamp,    // not a plain decimal count of Unix seconds
  kStale,           // more than kMaxClockSkew away from `now` (replay or clock skew)
  kBadSignature,    // wrong version, wrong length, mismatch, or no secret configured
};

// `body` must be the raw bytes as received, before any form or JSON parsing.
// An empty `secret` never verifies: an unconfigured app fails closed.
VerifyResult verify_request(std::string_view secret, std::string_view timestamp_header,
                            std::string_view signature_header, std::string_view body,
                            std::chrono::system_clock::time_point now);

// A short message safe to log or send back; it never contains secrets or signatures.
std::string_view describe(VerifyResult result);

}  // namespace scribe::slack
