// AES-256-GCM through OpenSSL 3, and the random numbers the store needs.
//
// Aes256Gcm fetches the cipher once and calls its provider's functions
// (provider-cipher(7)) directly: the EVP_CIPHER_CTX layer would ask the
// provider for the key and nonce lengths on every initialisation, which cost
// about a tenth of an uncached get (bench/README.md). Construction holds that
// path to the GCM specification's test case 16 (the sealed value, the opened
// one, an altered tag and altered associated data refused) and throws if it
// disagrees.
// Each seal and open makes its own provider context and frees it, wiped,
// before returning: the key schedule lives in the ordinary heap, which a core
// dump holds, only for the length of one operation. The const methods may be
// called from many threads at once. Nonces are 96 bits, tags 128 bits. A
// sealed value is ciphertext || tag. open() never releases plaintext whose tag
// does not verify. Failures of OpenSSL itself throw
// coffer::provider::Error(INTERNAL).
#ifndef COFFER_DATABASE_CRYPTO_AEAD_HPP
#define COFFER_DATABASE_CRYPTO_AEAD_HPP

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "crypto/bytes.hpp"
#include "crypto/secret_buffer.hpp"

namespace coffer::database {

class Aes256Gcm {
 public:
  static constexpr std::size_t key_size = 32;
  static constexpr std::size_t nonce_size = 12;
  static constexpr std::size_t tag_size = 16;

  Aes256Gcm();
  ~Aes256Gcm();
  Aes256Gcm(const Aes256Gcm &) = delete;
  Aes256Gcm &operator=(const Aes256Gcm &) = delete;

  // Encrypts `plaintext` under `key` (32 bytes) and `nonce` (12 bytes),
  // authenticating `aad` as well; returns ciphertext || tag.
  [[nodiscard]] Bytes seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext) const;
  // Decrypts ciphertext || tag. Returns std::nullopt when the tag does not
  // verify (wrong key, nonce, AAD or any altered byte) or the nonce is not 12
  // bytes.
  [[nodiscard]] std::optional<SecretBuffer> open(ByteView key, ByteView nonce, ByteView aad,
                                                 ByteView sealed) const;

 private:
  struct Cipher;
  std::unique_ptr<const Cipher> cipher_;
};

// Fills `out` from OpenSSL's CSPRNG (RAND_bytes); throws Error(INTERNAL).
void fill_random(std::span<unsigned char> out);
[[nodiscard]] Bytes random_bytes(std::size_t size);

// The text of OpenSSL's error queue (which never holds key material), and
// clears the queue.
[[nodiscard]] std::string take_openssl_errors();

}  // namespace coffer::database

#endif  // COFFER_DATABASE_CRYPTO_AEAD_HPP
