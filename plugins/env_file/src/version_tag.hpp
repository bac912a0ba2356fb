// Version identifiers for values: HMAC-SHA256 under a random key that lives
// only in this instance's secret memory, so a version changes when the value changes
// and reveals nothing about it. Versions are stable for the life of an
// instance (not across restarts).
//
// Threading: const methods may be called from many threads at once.
#ifndef COFFER_ENV_FILE_VERSION_TAG_HPP
#define COFFER_ENV_FILE_VERSION_TAG_HPP

#include <openssl/types.h>
#include <coffer/provider.hpp>

#include <array>
#include <string>
#include <string_view>

namespace coffer::env_file {

class VersionTagger {
 public:
  VersionTagger();  // draws the key from the OpenSSL random generator
  ~VersionTagger();
  VersionTagger(const VersionTagger &) = delete;
  VersionTagger &operator=(const VersionTagger &) = delete;

  // 32 hex digits (128 bits) identifying `value` stored under `name`.
  [[nodiscard]] std::string tag(std::string_view name, std::string_view value) const;

  // A keyed digest of a whole file's content, to tell whether it changed.
  [[nodiscard]] std::array<unsigned char, 32> content_digest(std::string_view content) const;

 private:
  std::array<unsigned char, 32> mac(std::string_view domain, std::string_view first,
                                    std::string_view second) const;
  static constexpr std::size_t kKeySize = 32;
  coffer::provider::SecretBytes key_;  // in secret memory: it could test guesses against tags
  EVP_MAC *mac_ = nullptr;             // fetched once; usable from many threads
};

}  // namespace coffer::env_file

#endif  // COFFER_ENV_FILE_VERSION_TAG_HPP
