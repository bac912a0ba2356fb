#include "crypto/aead_key.hpp"

#include <coffer/provider.hpp>

namespace coffer::database {

using coffer::provider::Error;

AeadKey::AeadKey(const Aes256Gcm &aead, SecretBuffer key) : aead_(aead), key_(std::move(key)) {
  if (key_.size() != Aes256Gcm::key_size)
    throw Error(COFFER_STATUS_INTERNAL, "AES-256-GCM needs a 32-byte key");
}

AeadKey::~AeadKey() = default;

Bytes AeadKey::seal(ByteView nonce, ByteView aad, ByteView plaintext) const {
  return aead_.seal(key_.bytes(), nonce, aad, plaintext);
}

std::optional<SecretBuffer> AeadKey::open(ByteView nonce, ByteView aad, ByteView sealed) const {
  return aead_.open(key_.bytes(), nonce, aad, sealed);
}

}  // namespace coffer::database
