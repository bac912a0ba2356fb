#include "crypto/aead.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <coffer/provider.hpp>

#include <algorithm>
#include <climits>
#include <memory>

namespace coffer::database {

using coffer::provider::Error;

std::string take_openssl_errors() {
  std::string text;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "no detail from OpenSSL" : text;
}

namespace {

[[noreturn]] void fail(const char *what) {
  throw Error(COFFER_STATUS_INTERNAL, std::string(what) + ": " + take_openssl_errors());
}

struct ContextDeleter {
  void operator()(EVP_CIPHER_CTX *ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using Context = std::unique_ptr<EVP_CIPHER_CTX, ContextDeleter>;

Context new_context() {
  Context ctx(EVP_CIPHER_CTX_new());
  if (!ctx) fail("EVP_CIPHER_CTX_new failed");
  return ctx;
}

void check_sizes(ByteView key, ByteView nonce) {
  if (key.size() != Aes256Gcm::key_size || nonce.size() != Aes256Gcm::nonce_size)
    throw Error(COFFER_STATUS_INTERNAL, "AES-256-GCM needs a 32-byte key and a 12-byte nonce");
}

int as_int(std::size_t size) {
  if (size > static_cast<std::size_t>(INT_MAX))
    throw Error(COFFER_STATUS_INVALID_ARGUMENT, "value too large to encrypt");
  return static_cast<int>(size);
}

}  // namespace

Aes256Gcm::Aes256Gcm() {
  cipher_ = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher_ == nullptr) fail("OpenSSL has no AES-256-GCM");
}

Aes256Gcm::~Aes256Gcm() {
  EVP_CIPHER_free(cipher_);
}

Bytes Aes256Gcm::seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext) const {
  check_sizes(key, nonce);
  Context ctx = new_context();
  if (EVP_EncryptInit_ex2(ctx.get(), cipher_, key.data(), nonce.data(), nullptr) != 1)
    fail("AES-256-GCM encryption setup failed");
  int length = 0;
  if (!aad.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &length, aad.data(), as_int(aad.size())) != 1)
    fail("AES-256-GCM failed on the associated data");
  Bytes out(plaintext.size() + tag_size);
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), out.data(), &length, plaintext.data(),
                          as_int(plaintext.size())) != 1)
      fail("AES-256-GCM encryption failed");
    written = length;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + written, &length) != 1)
    fail("AES-256-GCM encryption failed");
  written += length;
  if (static_cast<std::size_t>(written) != plaintext.size())
    throw Error(COFFER_STATUS_INTERNAL, "AES-256-GCM produced an unexpected length");
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_size),
                          out.data() + written) != 1)
    fail("AES-256-GCM did not give a tag");
  return out;
}

std::optional<SecretBuffer> Aes256Gcm::open(ByteView key, ByteView nonce, ByteView aad,
                                            ByteView sealed) const {
  check_sizes(key, nonce);
  if (sealed.size() < tag_size) return std::nullopt;
  const std::size_t text_size = sealed.size() - tag_size;
  Context ctx = new_context();
  if (EVP_DecryptInit_ex2(ctx.get(), cipher_, key.data(), nonce.data(), nullptr) != 1)
    fail("AES-256-GCM decryption setup failed");
  int length = 0;
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &length, aad.data(), as_int(aad.size())) != 1)
    fail("AES-256-GCM failed on the associated data");
  // Room for at least one byte, so that an empty plaintext still has a buffer to point at.
  SecretBuffer plain(text_size == 0 ? 1 : text_size);
  int written = 0;
  if (text_size > 0) {
    if (EVP_DecryptUpdate(ctx.get(), plain.data(), &length, sealed.data(), as_int(text_size)) != 1)
      fail("AES-256-GCM decryption failed");
    written = length;
  }
  // The expected tag goes in before Final; OpenSSL copies it.
  unsigned char tag[tag_size];
  std::copy(sealed.begin() + static_cast<std::ptrdiff_t>(text_size), sealed.end(), tag);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_size), tag) != 1)
    fail("AES-256-GCM refused the tag");
  if (EVP_DecryptFinal_ex(ctx.get(), plain.data() + written, &length) != 1) {
    ERR_clear_error();
    return std::nullopt;  // `plain` is wiped by its destructor
  }
  plain.truncate(text_size);
  return plain;
}

void fill_random(std::span<unsigned char> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), as_int(out.size())) != 1) fail("RAND_bytes failed");
}

Bytes random_bytes(std::size_t size) {
  Bytes out(size);
  fill_random(out);
  return out;
}

}  // namespace coffer::database
