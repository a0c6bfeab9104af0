// Secrets and digests for verifying senders (bearer tokens, the Matrix hs_token, Slack,
// tracker and alert webhook signatures), one copy each, on OpenSSL.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace scribe {

// Constant-time equality: both sides are hashed (SHA-256) and the digests compared with
// OpenSSL's CRYPTO_memcmp, so the time depends neither on where the first difference is
// nor on whether, or by how much, the lengths differ.
bool secret_equals(std::string_view a, std::string_view b);

// Constant-time equality of two values whose length is public (a signature of a fixed
// format): different lengths are unequal at once, equal lengths are compared with
// CRYPTO_memcmp. Cheaper than secret_equals, which hashes both sides first.
bool same_length_secret_equals(std::string_view a, std::string_view b);

// Lower-case hex of HMAC-SHA256(key, data); empty only if libcrypto fails (then nothing
// can verify against it). An empty key is a valid (if useless) key.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// The same over the concatenation of `parts`, without building it, written to `out` (64
// characters). False only if libcrypto fails.
bool hmac_sha256_hex_into(std::string_view key, std::initializer_list<std::string_view> parts,
                          std::span<char, 64> out);

// Lower-case hex of SHA-256(data).
std::string sha256_hex(std::string_view data);

}  // namespace scribe
