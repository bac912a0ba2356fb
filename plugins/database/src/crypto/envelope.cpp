#include "crypto/envelope.hpp"

#include <algorithm>

namespace coffer::database {

namespace {

void put_u32(Bytes &out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<unsigned char>(value >> shift));
}

void put_u64(Bytes &out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<unsigned char>(value >> shift));
}

void put_field(Bytes &out, ByteView field) {
  put_u32(out, static_cast<uint32_t>(field.size()));
  out.insert(out.end(), field.begin(), field.end());
}

}  // namespace

Bytes record_aad(const RecordIdentity &identity) {
  Bytes aad;
  aad.reserve(64 + identity.key.size());
  put_field(aad, as_bytes("coffer-record"));
  put_u32(aad, envelope_format);
  put_field(aad, identity.store_id);
  put_field(aad, as_bytes(identity.key));
  put_u64(aad, identity.version);
  put_u64(aad, static_cast<uint64_t>(identity.data_key_id));
  return aad;
}

RecordAad::RecordAad(const RecordIdentity &identity) {
  const std::size_t size = 4 + 13 + 4 + 4 + identity.store_id.size() + 4 + identity.key.size() + 16;
  if (size > inline_.size()) {
    heap_ = record_aad(identity);
    return;
  }
  unsigned char *out = inline_.data();
  auto u32 = [&](uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8)
      *out++ = static_cast<unsigned char>(value >> shift);
  };
  auto u64 = [&](uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8)
      *out++ = static_cast<unsigned char>(value >> shift);
  };
  auto field = [&](ByteView bytes) {
    u32(static_cast<uint32_t>(bytes.size()));
    out = std::copy(bytes.begin(), bytes.end(), out);
  };
  field(as_bytes("coffer-record"));
  u32(envelope_format);
  field(identity.store_id);
  field(as_bytes(identity.key));
  u64(identity.version);
  u64(static_cast<uint64_t>(identity.data_key_id));
  size_ = static_cast<std::size_t>(out - inline_.data());
}

Bytes data_key_aad(const DataKeyIdentity &identity) {
  Bytes aad;
  aad.reserve(80);
  put_field(aad, as_bytes("coffer-data-key"));
  put_u32(aad, envelope_format);
  put_field(aad, identity.store_id);
  put_u64(aad, static_cast<uint64_t>(identity.data_key_id));
  put_field(aad, identity.slot_id);
  return aad;
}

Sealed seal_record(const AeadKey &data_key, const RecordIdentity &identity, ByteView plaintext) {
  Bytes nonce = random_bytes(Aes256Gcm::nonce_size);
  return seal_record_with_nonce(data_key, identity, nonce, plaintext);
}

Sealed seal_record_with_nonce(const AeadKey &data_key, const RecordIdentity &identity,
                              ByteView nonce, ByteView plaintext) {
  Sealed sealed;
  sealed.nonce.assign(nonce.begin(), nonce.end());
  sealed.ciphertext = data_key.seal(nonce, RecordAad(identity).bytes(), plaintext);
  return sealed;
}

std::optional<SecretBuffer> open_record(const AeadKey &data_key, const RecordIdentity &identity,
                                        ByteView nonce, ByteView ciphertext) {
  if (nonce.size() != Aes256Gcm::nonce_size) return std::nullopt;
  return data_key.open(nonce, RecordAad(identity).bytes(), ciphertext);
}

Sealed wrap_data_key(const Aes256Gcm &aead, ByteView master_key, const DataKeyIdentity &identity,
                     ByteView data_key) {
  Sealed sealed;
  sealed.nonce = random_bytes(Aes256Gcm::nonce_size);
  sealed.ciphertext = aead.seal(master_key, sealed.nonce, data_key_aad(identity), data_key);
  return sealed;
}

std::optional<SecretBuffer> unwrap_data_key(const Aes256Gcm &aead, ByteView master_key,
                                            const DataKeyIdentity &identity, ByteView nonce,
                                            ByteView wrapped) {
  if (nonce.size() != Aes256Gcm::nonce_size) return std::nullopt;
  auto key = aead.open(master_key, nonce, data_key_aad(identity), wrapped);
  if (!key || key->size() != data_key_size) return std::nullopt;
  return key;
}

}  // namespace coffer::database
