#include "crypto/secret_buffer.hpp"

#include <openssl/crypto.h>
#include <coffer/provider.hpp>

#include <cstring>
#include <utility>

namespace coffer::database {

SecretBuffer::SecretBuffer(std::size_t size) {
  if (size == 0) return;
  data_ = static_cast<unsigned char *>(coffer::provider::secret_allocate(size));
  std::memset(data_, 0, size);
  size_ = capacity_ = size;
}

SecretBuffer::SecretBuffer(std::span<const unsigned char> bytes) : SecretBuffer(bytes.size()) {
  if (!bytes.empty()) std::memcpy(data_, bytes.data(), bytes.size());
}

SecretBuffer::SecretBuffer(SecretBuffer &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

SecretBuffer &SecretBuffer::operator=(SecretBuffer &&other) noexcept {
  if (this != &other) {
    clear();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

SecretBuffer::~SecretBuffer() {
  clear();
}

void SecretBuffer::truncate(std::size_t size) noexcept {
  if (size >= size_) return;
  coffer::provider::wipe(data_ + size, size_ - size);
  size_ = size;
}

void SecretBuffer::clear() noexcept {
  coffer::provider::secret_free(data_, capacity_);  // wipes
  data_ = nullptr;
  size_ = capacity_ = 0;
}

bool SecretBuffer::equals(std::span<const unsigned char> other) const noexcept {
  return other.size() == size_ && (size_ == 0 || CRYPTO_memcmp(data_, other.data(), size_) == 0);
}

}  // namespace coffer::database
