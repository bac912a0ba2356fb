// scrypt (RFC 7914) through OpenSSL 3's EVP_KDF, for master keys derived from
// a passphrase. Thread-safe (no shared state).
#ifndef COFFER_DATABASE_CRYPTO_SCRYPT_HPP
#define COFFER_DATABASE_CRYPTO_SCRYPT_HPP

#include <cstddef>
#include <cstdint>
#include <string>

#include "crypto/bytes.hpp"
#include "crypto/secret_buffer.hpp"

namespace coffer::database {

struct ScryptParams {
  uint64_t n = uint64_t{1} << 17;  // CPU/memory cost, a power of two > 1
  uint32_t r = 8;                  // block size
  uint32_t p = 1;                  // parallelism

  // The memory scrypt needs with these parameters, as OpenSSL counts it;
  // UINT64_MAX when that does not fit in 64 bits.
  [[nodiscard]] uint64_t memory_bytes() const noexcept;
  // The work of one derivation in units of one block mix (n * r * p);
  // UINT64_MAX when that does not fit in 64 bits.
  [[nodiscard]] uint64_t work() const noexcept;
};

// The store refuses passphrase parameters weaker than this (N >= 2^15),
// needing more memory than this (2 GiB), or more work than this: 16 times
// the default n = 2^17, r = 8, p = 1, as much as the largest derivation the
// memory bound allows with p = 1.
// The parameters come from the store as well as from the admin arguments,
// so both bounds also keep a tampered store from stalling or exhausting the
// host.
inline constexpr uint64_t minimum_scrypt_n = uint64_t{1} << 15;
inline constexpr uint64_t maximum_scrypt_memory = uint64_t{2} << 30;
inline constexpr uint64_t maximum_scrypt_work = uint64_t{1} << 24;

// r or p as read back from the store's integer column: a value that does not
// fit becomes UINT32_MAX, which check_master_key_params refuses, instead of
// wrapping around to an acceptable one.
[[nodiscard]] uint32_t stored_scrypt_factor(int64_t stored) noexcept;

// An empty string when `params` are acceptable for a master key, otherwise
// why not (names the parameter).
[[nodiscard]] std::string check_master_key_params(const ScryptParams &params);

// Derives `length` bytes. Passes an explicit maxmem (OpenSSL's legacy default
// of 32 MB would refuse N >= 2^15 with r = 8). Throws Error(INTERNAL) when
// OpenSSL refuses the parameters.
[[nodiscard]] SecretBuffer scrypt(ByteView passphrase, ByteView salt, const ScryptParams &params,
                                  std::size_t length);

}  // namespace coffer::database

#endif  // COFFER_DATABASE_CRYPTO_SCRYPT_HPP
