#include <coffer/secret.hpp>

#include <openssl/crypto.h>

#include <cstring>
#include <utility>

#include "base/secure_memory.hpp"

namespace coffer {

Secret Secret::copy_of(std::string_view bytes, std::string_view version,
                       std::int64_t created_unix_ms) {
  return copy_of(std::span(reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size()),
                 version, created_unix_ms);
}

// One block: the value, then the version and its NUL (when there is one).
Secret Secret::copy_of(std::span<const unsigned char> bytes, std::string_view version,
                       std::int64_t created_unix_ms) {
  Secret secret;
  std::size_t need = bytes.size() + (version.empty() ? 0 : version.size() + 1);
  secret.data_ = detail::secure_allocate(need, &secret.capacity_);
  auto *out = static_cast<unsigned char *>(secret.data_);
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
  if (!version.empty()) {
    std::memcpy(out + bytes.size(), version.data(), version.size());
    out[bytes.size() + version.size()] = 0;
  }
  secret.size_ = bytes.size();
  secret.version_size_ = version.size();
  secret.created_unix_ms_ = created_unix_ms;
  provider::clear_vector_registers();  // memcpy carried the value through them
  return secret;
}

// The used part of the block in one copy.
Secret Secret::clone() const {
  Secret copy;
  std::size_t used = size_ + (version_size_ == 0 ? 0 : version_size_ + 1);
  copy.data_ = detail::secure_allocate(used, &copy.capacity_);
  if (used != 0) std::memcpy(copy.data_, data_, used);
  provider::clear_vector_registers();  // memcpy carried the value through them
  copy.size_ = size_;
  copy.version_size_ = version_size_;
  copy.created_unix_ms_ = created_unix_ms_;
  return copy;
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
  version_size_ = 0;
  created_unix_ms_ = 0;
}

}  // namespace coffer
