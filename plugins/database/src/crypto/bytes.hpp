// Plain (non-secret) byte strings and their hex form: ciphertexts, nonces,
// identifiers. Secret bytes live in SecretBuffer instead.
#ifndef COFFER_DATABASE_CRYPTO_BYTES_HPP
#define COFFER_DATABASE_CRYPTO_BYTES_HPP

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::database {

using Bytes = std::vector<unsigned char>;
using ByteView = std::span<const unsigned char>;

inline ByteView as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const unsigned char *>(text.data()), text.size()};
}

// Lower-case hex of `bytes`.
std::string to_hex(ByteView bytes);
// Parses hex digits (either case); std::nullopt for an odd length or a non-hex character.
std::optional<Bytes> from_hex(std::string_view hex);

}  // namespace coffer::database

#endif  // COFFER_DATABASE_CRYPTO_BYTES_HPP
