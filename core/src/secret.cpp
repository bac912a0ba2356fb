#include <coffer/secret.hpp>

#include <openssl/crypto.h>

#include <cstring>
#include <utility>

#include "secure_memory.hpp"

namespace coffer {

Secret Secret::copy_of(std::string_view bytes, std::string version) {
  return copy_of(std::span(reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size()),
                 std::move(version));
}

Secret Secret::copy_of(std::span<const unsigned char> bytes, std::string version) {
  Secret secret;
  secret.data_ = detail::secure_allocate(bytes.size(), &secret.capacity_);
  if (!bytes.empty()) std::memcpy(secret.data_, bytes.data(), bytes.size());
  secret.size_ = bytes.size();
  secret.version_ = std::move(version);
  return secret;
}

Secret Secret::clone() const {
  return copy_of(bytes(), version_);
}

bool Secret::equals(const Secret &other) const noexcept {
  if (size_ != other.size_) return false;
  if (size_ == 0) return true;
  return CRYPTO_memcmp(data_, other.data_, size_) == 0;
}

std::string Secret::redacted() const {
  return "<redacted: " + std::to_string(size_) + " bytes>";
}

void Secret::clear() noexcept {
  detail::secure_free(data_, capacity_);
  data_ = nullptr;
  size_ = 0;
  capacity_ = 0;
  version_.clear();
}

}  // namespace coffer
