// ThrowawayCa: a certificate authority made with OpenSSL when a test runs (nothing read from
// or kept in the repository), for TLS stand-ins on 127.0.0.1. ca_file() is its certificate
// in PEM, for the client's SSL_CERT_FILE; serve_with() gives a server context a certificate
// it issued for the IP address 127.0.0.1 (and no DNS name). The file is removed with it.
#pragma once

#include <filesystem>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace scribe::testing {

class ThrowawayCa {
 public:
  ThrowawayCa();
  ~ThrowawayCa();
  ThrowawayCa(const ThrowawayCa&) = delete;
  ThrowawayCa& operator=(const ThrowawayCa&) = delete;

  const std::string& ca_file() const { return ca_path_; }
  // Installs a fresh key and a certificate for 127.0.0.1 issued by this CA on `server`.
  void serve_with(SSL_CTX* server) const;

 private:
  std::filesystem::path dir_;
  std::string ca_path_;
  void* ca_ = nullptr;      // X509*
  void* ca_key_ = nullptr;  // EVP_PKEY*
};

}  // namespace scribe::testing
