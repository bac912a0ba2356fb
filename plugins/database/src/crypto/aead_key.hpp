// AeadKey: one AES-256-GCM key (a data key), ready for many seals and opens.
//
// Setting up a key in OpenSSL (key schedule and GHASH tables) costs more than
// sealing a short secret, so an AeadKey keeps the contexts it has prepared
// and only sets a fresh nonce for each use. The key bytes and the contexts'
// key schedules are wiped when the AeadKey is destroyed. Thread-safe: many
// threads may seal and open at once (each takes its own context).
#ifndef COFFER_DATABASE_CRYPTO_AEAD_KEY_HPP
#define COFFER_DATABASE_CRYPTO_AEAD_KEY_HPP

#include <mutex>
#include <optional>
#include <vector>

#include "crypto/aead.hpp"

struct evp_cipher_ctx_st;

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
  using Context = evp_cipher_ctx_st;
  Context *take(bool encrypt) const;
  void give_back(Context *context, bool encrypt) const;

  const Aes256Gcm &aead_;
  SecretBuffer key_;
  mutable std::mutex mutex_;
  mutable std::vector<Context *> encrypting_;
  mutable std::vector<Context *> decrypting_;
};

}  // namespace coffer::database

#endif  // COFFER_DATABASE_CRYPTO_AEAD_KEY_HPP
