// The store's envelope encryption: records are sealed with a data key, data
// keys are sealed ("wrapped") with a master key, both with AES-256-GCM and a
// fresh random 96-bit nonce per seal.
//
// The associated data binds every ciphertext to where it belongs, so that a
// ciphertext copied to another store, key, version, data key or master-key
// slot fails to open. Fields are length-prefixed (big-endian), never plainly
// concatenated:
//   record:   lp("coffer-record")   u32 format  lp(store id)  lp(key)  u64 version  u64 data key id
//   data key: lp("coffer-data-key") u32 format  lp(store id)  u64 data key id  lp(master key slot
//   id)
// where lp(x) = u32 length || x. Changing this encoding makes every stored
// record unreadable: bump `envelope_format` and keep the old one readable.
//
// Stateless; thread-safe.
#ifndef COFFER_DATABASE_CRYPTO_ENVELOPE_HPP
#define COFFER_DATABASE_CRYPTO_ENVELOPE_HPP

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "crypto/aead.hpp"
#include "crypto/aead_key.hpp"
#include "crypto/bytes.hpp"
#include "crypto/secret_buffer.hpp"

namespace coffer::database {

inline constexpr uint32_t envelope_format = 1;
inline constexpr std::size_t data_key_size = 32;
inline constexpr std::size_t store_id_size = 16;
inline constexpr std::size_t slot_id_size = 16;

// Where a record's ciphertext belongs.
struct RecordIdentity {
  ByteView store_id;
  std::string_view key;
  uint64_t version = 0;
  int64_t data_key_id = 0;
};

// Where a wrapped data key belongs.
struct DataKeyIdentity {
  ByteView store_id;
  int64_t data_key_id = 0;
  ByteView slot_id;
};

struct Sealed {
  Bytes nonce;       // 12 bytes
  Bytes ciphertext;  // ciphertext || 16-byte tag
};

[[nodiscard]] Bytes record_aad(const RecordIdentity &identity);

// The same bytes, built on the stack when they fit (canonical keys always do).
class RecordAad {
 public:
  explicit RecordAad(const RecordIdentity &identity);
  [[nodiscard]] ByteView bytes() const noexcept {
    return heap_.empty() ? ByteView(inline_.data(), size_) : ByteView(heap_);
  }

 private:
  std::array<unsigned char, 384> inline_;
  std::size_t size_ = 0;
  Bytes heap_;
};
[[nodiscard]] Bytes data_key_aad(const DataKeyIdentity &identity);

// Seals with a fresh random nonce.
[[nodiscard]] Sealed seal_record(const AeadKey &data_key, const RecordIdentity &identity,
                                 ByteView plaintext);
// As seal_record, with a given nonce: for known-answer tests only.
[[nodiscard]] Sealed seal_record_with_nonce(const AeadKey &data_key, const RecordIdentity &identity,
                                            ByteView nonce, ByteView plaintext);
// std::nullopt when the record fails authentication.
[[nodiscard]] std::optional<SecretBuffer> open_record(const AeadKey &data_key,
                                                      const RecordIdentity &identity,
                                                      ByteView nonce, ByteView ciphertext);

[[nodiscard]] Sealed wrap_data_key(const Aes256Gcm &aead, ByteView master_key,
                                   const DataKeyIdentity &identity, ByteView data_key);
// std::nullopt when the wrapped key fails authentication (usually: another
// master key) or does not hold a 32-byte key.
[[nodiscard]] std::optional<SecretBuffer> unwrap_data_key(const Aes256Gcm &aead,
                                                          ByteView master_key,
                                                          const DataKeyIdentity &identity,
                                                          ByteView nonce, ByteView wrapped);

}  // namespace coffer::database

#endif  // COFFER_DATABASE_CRYPTO_ENVELOPE_HPP
