#include "crypto/scrypt.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <coffer/provider.hpp>

#include <memory>

#include "crypto/aead.hpp"

namespace coffer::database {

using coffer::provider::Error;

namespace {

// a * b, or UINT64_MAX when it does not fit.
uint64_t saturating_multiply(uint64_t a, uint64_t b) noexcept {
  uint64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? UINT64_MAX : product;
}

uint64_t saturating_add(uint64_t a, uint64_t b) noexcept {
  uint64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? UINT64_MAX : sum;
}

}  // namespace

uint64_t ScryptParams::memory_bytes() const noexcept {
  // OpenSSL: B = 128 r p bytes, V = 128 r (N + 2) bytes.
  const uint64_t block = saturating_multiply(128, r);
  return saturating_add(saturating_multiply(block, p),
                        saturating_multiply(block, saturating_add(n, 2)));
}

uint64_t ScryptParams::work() const noexcept {
  return saturating_multiply(saturating_multiply(n, r), p);
}

uint32_t stored_scrypt_factor(int64_t stored) noexcept {
  return stored < 0 || stored > int64_t{UINT32_MAX} ? UINT32_MAX : static_cast<uint32_t>(stored);
}

std::string check_master_key_params(const ScryptParams &params) {
  if (params.n < 2 || (params.n & (params.n - 1)) != 0)
    return "scrypt n must be a power of two (e.g. 131072 = 2^17)";
  if (params.n < minimum_scrypt_n) return "scrypt n must be at least 32768 (2^15)";
  if (params.r < 1 || params.r > 64) return "scrypt r must be between 1 and 64";
  if (params.p < 1 || params.p > 16) return "scrypt p must be between 1 and 16";
  // n first: memory_bytes() would wrap around for a huge n (a stored slot may hold any).
  if (params.n > maximum_scrypt_memory / (128ull * params.r) ||
      params.memory_bytes() > maximum_scrypt_memory)
    return "scrypt parameters need more than 2 GiB of memory (128 * n * r)";
  if (params.work() > maximum_scrypt_work)
    return "scrypt parameters need more work than 16 times the default (n * r * p above 2^24)";
  return {};
}

SecretBuffer scrypt(ByteView passphrase, ByteView salt, const ScryptParams &params,
                    std::size_t length) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr),
                                                        &EVP_KDF_free);
  if (!kdf) throw Error(COFFER_STATUS_INTERNAL, "OpenSSL has no scrypt: " + take_openssl_errors());
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()),
                                                                &EVP_KDF_CTX_free);
  if (!ctx) throw Error(COFFER_STATUS_INTERNAL, "EVP_KDF_CTX_new failed: " + take_openssl_errors());

  uint64_t n = params.n;
  uint32_t r = params.r;
  uint32_t p = params.p;
  uint64_t maxmem = params.memory_bytes() + (1u << 16);
  // OpenSSL copies the parameters; the casts drop const only for the API's sake.
  OSSL_PARAM list[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                        const_cast<unsigned char *>(passphrase.data()),
                                        passphrase.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                        const_cast<unsigned char *>(salt.data()), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  SecretBuffer out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), list) != 1)
    throw Error(COFFER_STATUS_INTERNAL,
                "scrypt refused its parameters (n=" + std::to_string(params.n) +
                    ", r=" + std::to_string(params.r) + ", p=" + std::to_string(params.p) +
                    "): " + take_openssl_errors());
  return out;
}

}  // namespace coffer::database
