#include "crypto/aead_key.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <coffer/provider.hpp>

#include <algorithm>
#include <climits>
#include <memory>

namespace coffer::database {

using coffer::provider::Error;

namespace {

[[noreturn]] void fail(const char *what) {
  throw Error(COFFER_STATUS_INTERNAL, std::string(what) + ": " + take_openssl_errors());
}

int as_int(std::size_t size) {
  if (size > static_cast<std::size_t>(INT_MAX))
    throw Error(COFFER_STATUS_INVALID_ARGUMENT, "value too large to encrypt");
  return static_cast<int>(size);
}

struct ContextDeleter {
  // EVP_CIPHER_CTX_free wipes the key schedule and GCM state it holds.
  void operator()(EVP_CIPHER_CTX *context) const noexcept { EVP_CIPHER_CTX_free(context); }
};
using Context = std::unique_ptr<EVP_CIPHER_CTX, ContextDeleter>;

}  // namespace

AeadKey::AeadKey(const Aes256Gcm &aead, SecretBuffer key) : aead_(aead), key_(std::move(key)) {
  if (key_.size() != Aes256Gcm::key_size)
    throw Error(COFFER_STATUS_INTERNAL, "AES-256-GCM needs a 32-byte key");
}

AeadKey::~AeadKey() = default;

Bytes AeadKey::seal(ByteView nonce, ByteView aad, ByteView plaintext) const {
  if (nonce.size() != Aes256Gcm::nonce_size)
    throw Error(COFFER_STATUS_INTERNAL, "AES-256-GCM needs a 12-byte nonce");
  Context context(EVP_CIPHER_CTX_new());
  if (!context) fail("EVP_CIPHER_CTX_new failed");
  EVP_CIPHER_CTX *ctx = context.get();
  if (EVP_EncryptInit_ex2(ctx, aead_.cipher_, key_.data(), nonce.data(), nullptr) != 1)
    fail("AES-256-GCM encryption setup failed");
  int length = 0;
  if (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &length, aad.data(), as_int(aad.size())) != 1)
    fail("AES-256-GCM failed on the associated data");
  Bytes out(plaintext.size() + Aes256Gcm::tag_size);
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx, out.data(), &length, plaintext.data(), as_int(plaintext.size())) !=
        1)
      fail("AES-256-GCM encryption failed");
    written = length;
  }
  if (EVP_EncryptFinal_ex(ctx, out.data() + written, &length) != 1)
    fail("AES-256-GCM encryption failed");
  written += length;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(Aes256Gcm::tag_size),
                          out.data() + written) != 1)
    fail("AES-256-GCM did not give a tag");
  return out;
}

std::optional<SecretBuffer> AeadKey::open(ByteView nonce, ByteView aad, ByteView sealed) const {
  if (nonce.size() != Aes256Gcm::nonce_size || sealed.size() < Aes256Gcm::tag_size)
    return std::nullopt;
  const std::size_t text_size = sealed.size() - Aes256Gcm::tag_size;
  Context context(EVP_CIPHER_CTX_new());
  if (!context) fail("EVP_CIPHER_CTX_new failed");
  EVP_CIPHER_CTX *ctx = context.get();
  // The expected tag goes in with the key and nonce (one call into the
  // provider instead of two); OpenSSL copies it.
  unsigned char tag[Aes256Gcm::tag_size];
  std::copy(sealed.begin() + static_cast<std::ptrdiff_t>(text_size), sealed.end(), tag);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, sizeof tag),
      OSSL_PARAM_construct_end()};
  if (EVP_DecryptInit_ex2(ctx, aead_.cipher_, key_.data(), nonce.data(), params) != 1)
    fail("AES-256-GCM decryption setup failed");
  int length = 0;
  if (!aad.empty() && EVP_DecryptUpdate(ctx, nullptr, &length, aad.data(), as_int(aad.size())) != 1)
    fail("AES-256-GCM failed on the associated data");
  SecretBuffer plain(text_size == 0 ? 1 : text_size);
  int written = 0;
  if (text_size > 0) {
    if (EVP_DecryptUpdate(ctx, plain.data(), &length, sealed.data(), as_int(text_size)) != 1)
      fail("AES-256-GCM decryption failed");
    written = length;
  }
  if (EVP_DecryptFinal_ex(ctx, plain.data() + written, &length) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  plain.truncate(text_size);
  return plain;
}

}  // namespace coffer::database
