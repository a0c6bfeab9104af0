// A throwaway RSA key pair made when a test runs (never a key file in the repository), and
// a Google service-account key file around it, for tests of the Google Docs destination.
#pragma once

#include <stdexcept>
#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <nlohmann/json.hpp>

namespace scribe::testing {

struct RsaKeyPair {
  std::string private_pem;  // PKCS #8, as Google's key files carry it
  std::string public_pem;   // SubjectPublicKeyInfo
};

inline RsaKeyPair make_rsa_key(unsigned bits = 2048) {
  EVP_PKEY* key = EVP_RSA_gen(bits);
  if (!key) throw std::runtime_error("EVP_RSA_gen failed");
  auto pem = [&](bool is_private) {
    BIO* bio = BIO_new(BIO_s_mem());
    const int ok = is_private
                       ? PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr)
                       : PEM_write_bio_PUBKEY(bio, key);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out = ok == 1 && n > 0 ? std::string(data, static_cast<std::size_t>(n)) : "";
    BIO_free(bio);
    return out;
  };
  RsaKeyPair pair{pem(true), pem(false)};
  EVP_PKEY_free(key);
  if (pair.private_pem.empty() || pair.public_pem.empty()) {
    throw std::runtime_error("writing the RSA key as PEM failed");
  }
  return pair;
}

// The JSON of a service-account key file as Google hands it out, for `key`.
inline std::string service_account_json(const RsaKeyPair& key, const std::string& email,
                                        const std::string& token_uri) {
  return nlohmann::json{{"type", "service_account"},
                        {"project_id", "scribe-test"},
                        {"private_key_id", "0123456789abcdef"},
                        {"private_key", key.private_pem},
                        {"client_email", email},
                        {"client_id", "100000000000000000001"},
                        {"token_uri", token_uri}}
      .dump(2);
}

}  // namespace scribe::testing
