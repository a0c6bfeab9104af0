// Comparing secrets (bearer tokens, the Matrix hs_token, Slack request signatures)
// without leaking through timing how much of a guess was right.
#pragma once

#include <string_view>

namespace scribe {

// Constant-time equality: both sides are hashed (SHA-256) and the digests compared with
// OpenSSL's CRYPTO_memcmp, so the time depends neither on where the first difference is
// nor on whether, or by how much, the lengths differ.
bool secret_equals(std::string_view a, std::string_view b);

}  // namespace scribe
