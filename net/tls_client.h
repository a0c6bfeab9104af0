// TLS client settings shared by every outbound connection (HttpClient and Slack Socket Mode):
// one copy, on OpenSSL's own types so that callers need not include Asio's SSL headers.
#pragma once

#include <string>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace scribe {

// Peers are verified against the system's trust store (SSL_CERT_FILE and SSL_CERT_DIR
// override it, as OpenSSL reads them here); a chain that does not verify fails the
// handshake.
void configure_tls_client(SSL_CTX* context);

// Before the handshake: the certificate must name `host` (a DNS name, or an IP address
// matched against the certificate's IP entries), and a DNS name is sent as SNI.
void expect_tls_peer(SSL* connection, const std::string& host);

// After a failed handshake: why the peer's certificate was refused ("Hostname mismatch",
// "unable to get local issuer certificate", …), or empty when verification was not the
// reason.
std::string tls_verify_failure(SSL* connection);

}  // namespace scribe
