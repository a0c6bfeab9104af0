#include "support/test_ca.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace scribe::testing {
namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("throwaway CA: ") + what);
}

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `common_name` with `key`, signed by `issuer_key` (issuer: `issuer`, or
// itself when null), valid from 30 years ago until a day from now: a test may hold the
// client's clock years in the past (libfaketime), and a real Slack certificate is valid then.
Cert make_cert(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key,
               bool ca) {
  Cert cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  static std::atomic<long> serial{1};
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial.fetch_add(1));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -30L * 365 * 24 * 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  if (ca) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
  }
  check(X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

}  // namespace

ThrowawayCa::ThrowawayCa() {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  // A name of its own: two CAs of one name would be taken for each other when a chain is
  // checked, and the refusal would read as a bad signature instead of an unknown issuer.
  static std::atomic<int> made{0};
  const std::string name = fmt::format("Scribe test CA (throwaway) {}-{}", ::getpid(), ++made);
  Cert ca = make_cert(key.get(), name.c_str(), nullptr, key.get(), true);
  dir_ = std::filesystem::temp_directory_path() /
         fmt::format("scribe-test-ca-{}-{}", ::getpid(), std::random_device{}());
  std::filesystem::create_directories(dir_);
  ca_path_ = (dir_ / "ca.pem").string();
  FILE* f = std::fopen(ca_path_.c_str(), "w");
  check(f != nullptr, "cannot write the CA file");
  const int written = PEM_write_X509(f, ca.get());
  std::fclose(f);
  check(written == 1, "PEM_write_X509");
  ca_ = ca.release();
  ca_key_ = key.release();
}

ThrowawayCa::~ThrowawayCa() {
  X509_free(static_cast<X509*>(ca_));
  EVP_PKEY_free(static_cast<EVP_PKEY*>(ca_key_));
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void ThrowawayCa::serve_with(SSL_CTX* server) const {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  Cert cert = make_cert(key.get(), "127.0.0.1", static_cast<X509*>(ca_),
                        static_cast<EVP_PKEY*>(ca_key_), false);
  check(SSL_CTX_use_certificate(server, cert.get()) == 1, "use_certificate");
  check(SSL_CTX_use_PrivateKey(server, key.get()) == 1, "use_PrivateKey");
}

}  // namespace scribe::testing
