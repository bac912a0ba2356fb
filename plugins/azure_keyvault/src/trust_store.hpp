// The certificates an instance trusts: the system's CAs (as OpenSSL's default
// paths and SSL_CERT_FILE / SSL_CERT_DIR name them) plus the configured
// `ca_file`. A hashed CA directory is read lazily, by subject hash, when a
// chain needs a certificate; a CA bundle file is parsed once per process,
// because parsing one costs tens of milliseconds with OpenSSL 3. Instances
// whose `ca_file` holds the same bytes (or that have none) share one store.
// Thread-safe.
#ifndef COFFER_AZURE_TRUST_STORE_HPP
#define COFFER_AZURE_TRUST_STORE_HPP

#include <openssl/x509_vfy.h>

#include <string>

namespace coffer::azure {

// The store for `ca_file` (its content as it is now), with one reference
// owned by the caller (e.g. handed to SSL_CTX_set_cert_store); other
// instances may hold the same store. Throws coffer::provider::Error
// (COFFER_STATUS_INVALID_CONFIG) when `ca_file` cannot be loaded.
X509_STORE *trust_store(const std::string &ca_file);

// Throws Error(INVALID_CONFIG) naming `ca_file` when it cannot be loaded as
// PEM certificates; reads nothing else (cheap, for open()).
void check_ca_file(const std::string &ca_file);

// The first queued OpenSSL error as text ("unknown error" when there is
// none); clears the calling thread's queue.
std::string take_openssl_error();

}  // namespace coffer::azure

#endif  // COFFER_AZURE_TRUST_STORE_HPP
