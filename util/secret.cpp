#include "util/secret.h"

#include <array>
#include <memory>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

namespace scribe {
namespace {

std::string hex(const unsigned char* data, unsigned int size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::size_t{size} * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0x0f]);
  }
  return out;
}

}  // namespace

// OpenSSL 3 looks algorithms up by name on each one-shot call (HMAC(), EVP_Digest with
// EVP_sha256()): a measurable share of a listener's time per signed request. So the
// algorithms are fetched once per process and each thread keeps one HMAC context with its
// digest set, re-keyed per call; libcrypto computes every byte as before.
namespace {

struct MacContextDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

const EVP_MD* sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

bool sha256_of(std::string_view data, unsigned char (&out)[SHA256_DIGEST_LENGTH]) {
  unsigned int size = 0;
  const EVP_MD* md = sha256();
  return md != nullptr && EVP_Digest(data.data(), data.size(), out, &size, md, nullptr) == 1 &&
         size == SHA256_DIGEST_LENGTH;
}

// This thread's HMAC-SHA256 context; null if libcrypto could not make one.
EVP_MAC_CTX* hmac_context() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  thread_local std::unique_ptr<EVP_MAC_CTX, MacContextDeleter> ctx = [] {
    std::unique_ptr<EVP_MAC_CTX, MacContextDeleter> made(mac ? EVP_MAC_CTX_new(mac) : nullptr);
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (made && EVP_MAC_CTX_set_params(made.get(), params) != 1) made.reset();
    return made;
  }();
  return ctx.get();
}

}  // namespace

// Every signed request compares its signature here: the one-shot SHA256() looked the
// algorithm up by name twice per call (2.7% of the server's samples under load).
bool secret_equals(std::string_view a, std::string_view b) {
  unsigned char da[SHA256_DIGEST_LENGTH];
  unsigned char db[SHA256_DIGEST_LENGTH];
  // Without libcrypto's digest nothing can be shown equal: refuse.
  if (!sha256_of(a, da) || !sha256_of(b, db)) return false;
  return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

bool same_length_secret_equals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool hmac_sha256_hex_into(std::string_view key, std::initializer_list<std::string_view> parts,
                          std::span<char, 64> out) {
  static constexpr char kHex[] = "0123456789abcdef";
  // OpenSSL wants a non-null key pointer even for an empty key.
  static constexpr unsigned char kEmptyKey[1] = {0};
  const auto* k = key.empty() ? kEmptyKey : reinterpret_cast<const unsigned char*>(key.data());
  EVP_MAC_CTX* ctx = hmac_context();
  if (ctx == nullptr || EVP_MAC_init(ctx, k, key.size(), nullptr) != 1) return false;
  for (const std::string_view part : parts) {
    if (EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size()) !=
        1) {
      return false;
    }
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t size = 0;
  if (EVP_MAC_final(ctx, mac.data(), &size, mac.size()) != 1 || size != SHA256_DIGEST_LENGTH) {
    return false;
  }
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[mac[i] >> 4];
    out[2 * i + 1] = kHex[mac[i] & 0x0f];
  }
  return true;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::string out(64, '\0');
  if (!hmac_sha256_hex_into(key, {data}, std::span<char, 64>(out.data(), 64))) return {};
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  const EVP_MD* digest = sha256();
  if (digest == nullptr ||
      EVP_Digest(data.data(), data.size(), md.data(), &size, digest, nullptr) != 1) {
    return {};
  }
  return hex(md.data(), size);
}

}  // namespace scribe
