// The database provider's stored records: sealed records and wrapped data
// keys as read back from a (possibly tampered) store, master key files, and
// the scrypt parameters of a stored master key slot. Input: a mode byte, then
// the mode's fields (see each check). Properties: a record or wrapped key
// opens exactly when not one of its bytes or of its identity changed, and
// then to the sealed bytes; a master key decodes to 32 bytes; accepted scrypt
// parameters need at most the documented memory, computed without overflow.
#include <array>
#include <string>

#include "crypto/aead.hpp"
#include "crypto/aead_key.hpp"
#include "crypto/envelope.hpp"
#include "crypto/scrypt.hpp"
#include "fuzz_support.hpp"
#include "keys/master_key.hpp"

namespace {

using namespace coffer::database;
using coffer::fuzz::Input;
using coffer::fuzz::require;

const Aes256Gcm &aead() {
  static const Aes256Gcm instance;
  return instance;
}

const AeadKey &data_key() {
  static const AeadKey key(aead(), SecretBuffer(Bytes(data_key_size, 0x11)));
  return key;
}

const Bytes kMasterKey(master_key_size, 0x22);
const Bytes kStoreId(store_id_size, 0x33);
const Bytes kSlotId(slot_id_size, 0x44);

// A stored row and where it belongs, as a tamperer may change them.
struct StoredRow {
  Bytes nonce;
  Bytes ciphertext;
  Bytes store_id;
  std::string key;
  std::uint64_t version = 0;
  std::int64_t data_key_id = 0;
  Bytes slot_id;
  friend bool operator==(const StoredRow &, const StoredRow &) = default;
};

// Applies edits, three bytes each (what, where, how), until the input ends.
void tamper(StoredRow &row, Input &input) {
  while (!input.empty()) {
    const std::uint8_t what = input.byte();
    const std::uint8_t where = input.byte();
    const auto flip = static_cast<std::uint8_t>(input.byte() | 1);
    auto flip_in = [&](Bytes &bytes) {
      if (!bytes.empty()) bytes[where % bytes.size()] ^= flip;
    };
    switch (what % 9) {
      case 0:
        flip_in(row.ciphertext);
        break;
      case 1:
        flip_in(row.nonce);
        break;
      case 2:
        row.ciphertext.resize(row.ciphertext.size() - where % (row.ciphertext.size() + 1));
        break;
      case 3:
        row.ciphertext.push_back(flip);
        break;
      case 4:
        row.nonce.resize(where % 24);
        break;
      case 5:
        row.version += flip;
        break;
      case 6:
        row.data_key_id ^= flip;
        break;
      case 7:
        row.key.push_back(static_cast<char>(flip));
        break;
      default:
        flip_in(where % 2 == 0 ? row.store_id : row.slot_id);
        break;
    }
  }
}

// Mode 0: the canonical key, NUL, the plaintext, NUL, edits.
void check_record(Input &input) {
  StoredRow sealed;
  sealed.key = std::string(input.field());
  const std::string plaintext(input.field());
  sealed.store_id = kStoreId;
  sealed.version = 7;
  sealed.data_key_id = 3;
  const Bytes nonce(Aes256Gcm::nonce_size, 0x55);
  auto seal = seal_record_with_nonce(data_key(), {sealed.store_id, sealed.key, 7, 3}, nonce,
                                     as_bytes(plaintext));
  sealed.nonce = seal.nonce;
  sealed.ciphertext = seal.ciphertext;
  StoredRow read = sealed;
  tamper(read, input);
  read.slot_id = sealed.slot_id;  // not part of a record's identity
  auto opened = open_record(data_key(), {read.store_id, read.key, read.version, read.data_key_id},
                            read.nonce, read.ciphertext);
  require(opened.has_value() == (read == sealed), "a record opens exactly when untouched");
  if (opened) require(opened->view() == plaintext, "a record opens to what was sealed");
}

// Mode 1: edits of a wrapped data key.
void check_wrapped_key(Input &input) {
  StoredRow sealed;
  sealed.store_id = kStoreId;
  sealed.data_key_id = 9;
  sealed.slot_id = kSlotId;
  const Bytes key(data_key_size, 0x66);
  auto wrapped = wrap_data_key(aead(), kMasterKey, {sealed.store_id, 9, sealed.slot_id}, key);
  sealed.nonce = wrapped.nonce;
  sealed.ciphertext = wrapped.ciphertext;
  StoredRow read = sealed;
  tamper(read, input);
  read.key = sealed.key;  // neither is part of a wrapped key's identity
  read.version = sealed.version;
  auto opened = unwrap_data_key(aead(), kMasterKey, {read.store_id, read.data_key_id, read.slot_id},
                                read.nonce, read.ciphertext);
  require(opened.has_value() == (read == sealed), "a wrapped key opens exactly when untouched");
  if (opened) require(opened->equals(key), "a wrapped key opens to the data key");
}

// Mode 2: a master key file's content (bit 4 of the mode byte: raw bytes allowed).
void check_master_key(std::uint8_t mode, Input &input) {
  const std::string_view content = input.rest();
  const bool allow_raw = (mode & 0x10) != 0;
  auto key = decode_master_key(as_bytes(content), allow_raw);
  if (!key) return;
  require(key->size() == master_key_size, "a master key is 32 bytes");
  if (allow_raw && content.size() == master_key_size)
    require(key->equals(as_bytes(content)), "a raw master key is the file");
}

// Mode 3: n (8 bytes), r (4), p (4), big-endian, as a stored slot holds them.
void check_scrypt_params(Input &input) {
  auto number = [&](int bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value = (value << 8) | input.byte();
    return value;
  };
  ScryptParams params;
  params.n = number(8);
  params.r = static_cast<std::uint32_t>(number(4));
  params.p = static_cast<std::uint32_t>(number(4));
  if (!check_master_key_params(params).empty()) return;
  // OpenSSL's count, 128 r p + 128 r (n + 2), without wrapping around.
  std::uint64_t blocks = 0, n_plus_2 = 0, table = 0, memory = 0;
  const bool overflow = __builtin_mul_overflow(std::uint64_t{128} * params.r, params.p, &blocks) ||
                        __builtin_add_overflow(params.n, 2, &n_plus_2) ||
                        __builtin_mul_overflow(std::uint64_t{128} * params.r, n_plus_2, &table) ||
                        __builtin_add_overflow(blocks, table, &memory);
  require(!overflow && memory <= maximum_scrypt_memory,
          "accepted scrypt parameters fit the memory cap");
  require(params.memory_bytes() == memory, "the memory of accepted parameters is exact");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  Input input(data, size);
  const std::uint8_t mode = input.byte();
  switch (mode % 4) {
    case 0:
      check_record(input);
      break;
    case 1:
      check_wrapped_key(input);
      break;
    case 2:
      check_master_key(mode, input);
      break;
    default:
      check_scrypt_params(input);
      break;
  }
  return 0;
}
