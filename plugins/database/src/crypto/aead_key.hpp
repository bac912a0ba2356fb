// AeadKey: one AES-256-GCM key (a data key), for many seals and opens.
//
// The key bytes live in secret memory. Each seal and open prepares its own
// OpenSSL context (key schedule and GHASH tables) and frees it, wiped, before
// returning (Aes256Gcm): OpenSSL allocates those from the ordinary heap, which
// a core dump holds, so no prepared context is kept between operations (it
// would cost about a microsecond less per operation; see bench/README.md).
// Thread-safe: many threads may seal and open at once.
#ifndef COFFER_DATABASE_CRYPTO_AEAD_KEY_HPP
#define COFFER_DATABASE_CRYPTO_AEAD_KEY_HPP

#include <optional>

#include "crypto/aead.hpp"

namespace coffer::database {

class AeadKey {
 public:
  // `aead` must outlive the key. Throws Error(INTERNAL) for a key that is not 32 bytes.
  AeadKey(const Aes256Gcm &aead, SecretBuffer key);
  AeadKey(const AeadKey &) = delete;
  AeadKey &operator=(const AeadKey &) = delete;
  ~AeadKey();

  // As Aes256Gcm::seal and ::open, with this key.
  [[nodiscard]] Bytes seal(ByteView nonce, ByteView aad, ByteView plaintext) const;
  [[nodiscard]] std::optional<SecretBuffer> open(ByteView nonce, ByteView aad,
                                                 ByteView sealed) const;
  // The key itself (to wrap it under a master key).
  [[nodiscard]] ByteView bytes() const noexcept { return key_.bytes(); }

 private:
  const Aes256Gcm &aead_;
  SecretBuffer key_;
};

}  // namespace coffer::database

#endif  // COFFER_DATABASE_CRYPTO_AEAD_KEY_HPP
