#include "pki.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace coffer::emulator {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509 *p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO *p) const { BIO_free(p); }
};
struct ExtFree {
  void operator()(X509_EXTENSION *p) const { X509_EXTENSION_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

[[noreturn]] void fail(const char *what) {
  char reason[256] = "unknown";
  const unsigned long code = ERR_get_error();
  if (code != 0) ERR_error_string_n(code, reason, sizeof reason);
  ERR_clear_error();
  throw std::runtime_error(std::string("test PKI: ") + what + ": " + reason);
}

void check(int ok, const char *what) {
  if (ok != 1) fail(what);
}

PkeyPtr generate_key() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) fail("EC P-256 key generation");
  return key;
}

void add_extension(X509 *cert, X509 *issuer, int nid, const std::string &value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(
      X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) fail(("extension " + value).c_str());
  check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

X509Ptr new_certificate(EVP_PKEY *key, const std::string &common_name, long valid_days) {
  X509Ptr cert(X509_new());
  if (!cert) fail("X509_new");
  check(X509_set_version(cert.get(), 2), "X509_set_version");
  unsigned char serial[16];
  check(RAND_bytes(serial, sizeof serial), "RAND_bytes");
  serial[0] &= 0x7F;  // positive
  BIGNUM *bn = BN_bin2bn(serial, sizeof serial, nullptr);
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) == nullptr) {
    BN_free(bn);
    fail("serial number");
  }
  BN_free(bn);
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), valid_days * 86400L) == nullptr) {
    fail("validity");
  }
  X509_NAME *name = X509_get_subject_name(cert.get());
  check(
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char *>("coffer test"), -1, -1, 0),
      "subject O");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char *>(common_name.c_str()), -1,
                                   -1, 0),
        "subject CN");
  check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");
  return cert;
}

std::string to_pem(X509 *cert) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio) fail("BIO_new");
  check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
  char *data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string to_pem(EVP_PKEY *key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio) fail("BIO_new");
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PrivateKey");
  char *data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

bool is_ip_literal(const std::string &name) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

}  // namespace

struct CertificateAuthority::Keys {
  PkeyPtr key;
  X509Ptr certificate;
};

CertificateAuthority::CertificateAuthority(const std::string &common_name)
    : keys_(std::make_unique<Keys>()) {
  keys_->key = generate_key();
  keys_->certificate = new_certificate(keys_->key.get(), common_name, 30);
  X509 *cert = keys_->certificate.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(cert)), "issuer");
  add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert, cert, NID_subject_key_identifier, "hash");
  if (X509_sign(cert, keys_->key.get(), EVP_sha256()) <= 0) fail("signing the CA");
  certificate_pem_ = to_pem(cert);
}

CertificateAuthority::~CertificateAuthority() = default;

TlsIdentity CertificateAuthority::issue_server_identity(
    const std::vector<std::string> &alt_names) const {
  PkeyPtr key = generate_key();
  const std::string common_name = alt_names.empty() ? std::string("localhost") : alt_names[0];
  X509Ptr cert = new_certificate(key.get(), common_name, 7);
  X509 *ca = keys_->certificate.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(ca)), "issuer");
  add_extension(cert.get(), ca, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), ca, NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), ca, NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), ca, NID_subject_key_identifier, "hash");
  add_extension(cert.get(), ca, NID_authority_key_identifier, "keyid:always");
  if (!alt_names.empty()) {
    std::string san;
    for (const auto &name : alt_names) {
      if (!san.empty()) san += ',';
      san += (is_ip_literal(name) ? "IP:" : "DNS:") + name;
    }
    add_extension(cert.get(), ca, NID_subject_alt_name, san);
  }
  if (X509_sign(cert.get(), keys_->key.get(), EVP_sha256()) <= 0) fail("signing the leaf");
  return TlsIdentity{to_pem(cert.get()) + certificate_pem_, to_pem(key.get())};
}

}  // namespace coffer::emulator
