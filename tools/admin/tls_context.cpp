#include "tls_context.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <coffer/error.hpp>

#include "token_auth.hpp"

namespace coffer::admin {
namespace {

constexpr const char *kTls12Ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20";
constexpr std::size_t kMaxKeyFile = 64 * 1024;

// OpenSSL's reason for the last failure, and its error queue cleared.
std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown reason";
  const char *reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "unknown reason";
}

[[noreturn]] void refuse(std::string_view option, const std::filesystem::path &file,
                         const std::string &why) {
  throw Error(Code::invalid_config, std::string(option) + " " + file.string() + ": " + why);
}

void use_private_key(SSL_CTX *context, const std::filesystem::path &file) {
  Secret pem =
      agent::read_private_file(file, {.what = "--admin-tls-key", .max_bytes = kMaxKeyFile});
  BIO *bio = BIO_new_mem_buf(pem.bytes().data(), static_cast<int>(pem.size()));
  if (bio == nullptr) throw Error(Code::internal, "cannot allocate a memory BIO");
  // A null password callback: an encrypted key is refused, not prompted for.
  EVP_PKEY *key = PEM_read_bio_PrivateKey(
      bio, nullptr, [](char *, int, int, void *) { return 0; }, nullptr);
  BIO_free(bio);
  if (key == nullptr)
    refuse("--admin-tls-key", file,
           "holds no unencrypted PEM private key (" + openssl_reason() + ")");
  int used = SSL_CTX_use_PrivateKey(context, key);
  EVP_PKEY_free(key);
  if (used != 1) refuse("--admin-tls-key", file, "the key cannot be used: " + openssl_reason());
  if (SSL_CTX_check_private_key(context) != 1)
    refuse("--admin-tls-key", file, "is not the key of the certificate in --admin-tls-cert");
}

std::string ip_text(const ASN1_OCTET_STRING *ip) {
  char text[INET6_ADDRSTRLEN] = {};
  int length = ASN1_STRING_length(ip);
  const unsigned char *bytes = ASN1_STRING_get0_data(ip);
  if (length == 4 && inet_ntop(AF_INET, bytes, text, sizeof text) != nullptr) return text;
  if (length == 16 && inet_ntop(AF_INET6, bytes, text, sizeof text) != nullptr)
    return "[" + std::string(text) + "]";
  return {};
}

}  // namespace

SslContextPtr make_tls_context(const TlsFiles &files) {
  SslContextPtr context(SSL_CTX_new(TLS_server_method()));
  if (!context) throw Error(Code::internal, "cannot create a TLS context: " + openssl_reason());
  SSL_CTX *raw = context.get();
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  // Requests carry the admin token and entered values: OpenSSL wipes its
  // copy of received plaintext once delivered.
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION | SSL_OP_CLEANSE_PLAINTEXT);
  if (SSL_CTX_set_cipher_list(raw, kTls12Ciphers) != 1)
    throw Error(Code::internal, "the TLS 1.2 cipher list is refused: " + openssl_reason());
  if (SSL_CTX_use_certificate_chain_file(raw, files.certificate_chain.c_str()) != 1)
    refuse("--admin-tls-cert", files.certificate_chain,
           "holds no usable PEM certificate chain (" + openssl_reason() + ")");
  use_private_key(raw, files.private_key);
  return context;
}

std::vector<std::string> certificate_host_names(SSL_CTX *context) {
  std::vector<std::string> names;
  X509 *certificate = SSL_CTX_get0_certificate(context);
  if (certificate == nullptr) return names;
  auto *alt_names = static_cast<GENERAL_NAMES *>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (alt_names == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(alt_names); ++i) {
    const GENERAL_NAME *name = sk_GENERAL_NAME_value(alt_names, i);
    std::string text;
    if (name->type == GEN_DNS) {
      text.assign(reinterpret_cast<const char *>(ASN1_STRING_get0_data(name->d.dNSName)),
                  static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName)));
      if (text.find_first_of("*\0", 0, 2) != std::string::npos) text.clear();
    } else if (name->type == GEN_IPADD) {
      text = ip_text(name->d.iPAddress);
    }
    if (!text.empty()) names.push_back(std::move(text));
  }
  GENERAL_NAMES_free(alt_names);
  return names;
}

}  // namespace coffer::admin
