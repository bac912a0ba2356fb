// SecretBuffer: a fixed-size buffer for key material and plaintexts.
//
// The bytes live in the SDK's secret memory (coffer::provider::secret_allocate:
// the core's, excluded from core dumps, locked where the system allows) and
// are wiped when the buffer is destroyed, cleared, reassigned or truncated.
// Move-only; copies must be explicit (clone()). Not thread-safe; share it
// read-only or through a shared_ptr<const>.
#ifndef COFFER_DATABASE_CRYPTO_SECRET_BUFFER_HPP
#define COFFER_DATABASE_CRYPTO_SECRET_BUFFER_HPP

#include <cstddef>
#include <span>
#include <string_view>

namespace coffer::database {

class SecretBuffer {
 public:
  SecretBuffer() noexcept = default;
  // `size` zero bytes; throws std::bad_alloc.
  explicit SecretBuffer(std::size_t size);
  // A copy of `bytes`.
  explicit SecretBuffer(std::span<const unsigned char> bytes);
  SecretBuffer(SecretBuffer &&other) noexcept;
  SecretBuffer &operator=(SecretBuffer &&other) noexcept;
  SecretBuffer(const SecretBuffer &) = delete;
  SecretBuffer &operator=(const SecretBuffer &) = delete;
  ~SecretBuffer();

  [[nodiscard]] SecretBuffer clone() const { return SecretBuffer(bytes()); }
  // Forgets the bytes past `size` (wiping them); `size` must not exceed size().
  void truncate(std::size_t size) noexcept;
  void clear() noexcept;

  [[nodiscard]] unsigned char *data() noexcept { return data_; }
  [[nodiscard]] const unsigned char *data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::span<const unsigned char> bytes() const noexcept { return {data_, size_}; }
  [[nodiscard]] std::span<unsigned char> writable() noexcept { return {data_, size_}; }
  [[nodiscard]] std::string_view view() const noexcept {
    return {reinterpret_cast<const char *>(data_), size_};
  }
  // Constant-time comparison of contents.
  [[nodiscard]] bool equals(std::span<const unsigned char> other) const noexcept;

 private:
  unsigned char *data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace coffer::database

#endif  // COFFER_DATABASE_CRYPTO_SECRET_BUFFER_HPP
