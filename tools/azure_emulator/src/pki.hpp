// A throw-away certificate authority for the emulator's TLS: an EC P-256 CA
// generated in memory at start, which issues server certificates for any list
// of subjectAltNames. Built with OpenSSL 3 EVP calls only. Not thread-safe.
#ifndef COFFER_AZURE_EMULATOR_PKI_HPP
#define COFFER_AZURE_EMULATOR_PKI_HPP

#include <memory>
#include <string>
#include <vector>

namespace coffer::emulator {

// What a TLS server presents: its certificate chain (leaf first, then the CA)
// and the leaf's private key, both PEM.
struct TlsIdentity {
  std::string certificate_chain_pem;
  std::string private_key_pem;
};

class CertificateAuthority {
 public:
  // Generates the CA key and its self-signed certificate. Throws
  // std::runtime_error with OpenSSL's reason when anything fails.
  explicit CertificateAuthority(const std::string &common_name);
  ~CertificateAuthority();
  CertificateAuthority(const CertificateAuthority &) = delete;
  CertificateAuthority &operator=(const CertificateAuthority &) = delete;

  [[nodiscard]] const std::string &certificate_pem() const { return certificate_pem_; }

  // A new server certificate (key freshly generated) with these
  // subjectAltNames: IPv4/IPv6 literals become IP entries, the rest DNS.
  [[nodiscard]] TlsIdentity issue_server_identity(const std::vector<std::string> &alt_names) const;

 private:
  struct Keys;
  std::unique_ptr<Keys> keys_;
  std::string certificate_pem_;
};

}  // namespace coffer::emulator

#endif
