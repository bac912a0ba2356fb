// The panel's TLS server settings (--admin-tls-cert, --admin-tls-key): TLS
// 1.2 at least, ECDHE with AES-GCM or ChaCha20-Poly1305 for TLS 1.2 (OpenSSL's
// TLS 1.3 suites, all AEAD, for 1.3), no renegotiation, the certificate chain
// and its key from PEM files. Both are read once, at start: a renewed
// certificate takes effect when the agent restarts.
//
// Threading: build on one thread; the context is then shared read-only by
// every connection.
#ifndef COFFER_ADMIN_TLS_CONTEXT_HPP
#define COFFER_ADMIN_TLS_CONTEXT_HPP

#include <openssl/ssl.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace coffer::admin {

struct TlsFiles {
  // PEM: the server's certificate first, then the intermediates that lead to
  // its root (the root itself may be left out).
  std::filesystem::path certificate_chain;
  // PEM: the certificate's private key, unencrypted, in a file only the
  // agent's user (or root) owns and only its owner may read (0600 or 0400).
  std::filesystem::path private_key;
};

struct SslContextFree {
  void operator()(SSL_CTX *context) const noexcept { SSL_CTX_free(context); }
};
using SslContextPtr = std::unique_ptr<SSL_CTX, SslContextFree>;

// A server context with the settings above. The key is read into secret
// memory, which is wiped once OpenSSL holds the key. Throws
// Error(invalid_config) naming the option and the file at fault: a key file
// others may read or that another user owns (with the fix), a file that
// holds no certificate or key, a key that does not match the certificate.
SslContextPtr make_tls_context(const TlsFiles &files);

// The names the context's certificate is valid for: its subjectAltName DNS
// names (wildcards left out) and IP addresses, as the Host header writes them
// ("panel.example.com", "192.0.2.10", "[2001:db8::1]").
std::vector<std::string> certificate_host_names(SSL_CTX *context);

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_TLS_CONTEXT_HPP
