// coffer::Secret: a secret value that is hard to leak by accident.
//
// Move-only. Its bytes live in memory that is locked against swapping where
// the operating system allows, excluded from core dumps, and wiped when the
// Secret is destroyed or assigned over. It cannot be streamed or formatted:
// reveal() is the one, explicit, way to the bytes. A Secret also carries the
// provider's identifier of the value's version, which is not secret; it is
// kept in the same block as the value, so that a Secret is one allocation.
// Beside the block, and not secret either, is the time the provider says the
// version was written.
//
// Threading: a Secret is a value; distinct Secrets may be used from distinct
// threads without synchronisation.
#ifndef COFFER_SECRET_HPP
#define COFFER_SECRET_HPP

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace coffer {

class Secret {
 public:
  // An empty secret.
  Secret() noexcept = default;
  // Copies `bytes` into protected memory. The caller wipes its own copy.
  // `created_unix_ms`: when the provider wrote this version (0: unknown).
  static Secret copy_of(std::string_view bytes, std::string_view version = {},
                        std::int64_t created_unix_ms = 0);
  static Secret copy_of(std::span<const unsigned char> bytes, std::string_view version = {},
                        std::int64_t created_unix_ms = 0);

  // Moves hand over the protected block; the source is left empty. Inline,
  // as they sit on every cache hit.
  Secret(Secret &&other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)),
        version_size_(std::exchange(other.version_size_, 0)),
        created_unix_ms_(std::exchange(other.created_unix_ms_, 0)) {}
  Secret &operator=(Secret &&other) noexcept {
    if (this != &other) {
      if (data_ != nullptr) clear();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
      version_size_ = std::exchange(other.version_size_, 0);
      created_unix_ms_ = std::exchange(other.created_unix_ms_, 0);
    }
    return *this;
  }
  Secret(const Secret &) = delete;
  Secret &operator=(const Secret &) = delete;
  ~Secret() {
    if (data_ != nullptr) clear();
  }

  // An explicit copy, into new protected memory.
  [[nodiscard]] Secret clone() const;

  // The secret bytes; valid while this Secret lives and is not modified.
  [[nodiscard]] std::string_view reveal() const noexcept {
    return {static_cast<const char *>(data_), size_};
  }
  [[nodiscard]] std::span<const unsigned char> bytes() const noexcept {
    return {static_cast<const unsigned char *>(data_), size_};
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  // The provider's version identifier of this value; empty when it has none.
  // Valid while this Secret lives and is not modified; a non-empty version is
  // followed by a NUL (version().data() is a C string).
  [[nodiscard]] std::string_view version() const noexcept {
    return {static_cast<const char *>(data_) + size_, version_size_};
  }

  // When the provider wrote this version, in milliseconds since the Unix
  // epoch; 0 when the provider does not say (a plugin older than ABI 1.4, a
  // backend that keeps no such time).
  [[nodiscard]] std::int64_t created_unix_ms() const noexcept { return created_unix_ms_; }

  // Compares the bytes in time that depends only on the lengths.
  [[nodiscard]] bool equals(const Secret &other) const noexcept;

  // "<redacted: N bytes>", for logs and debugging.
  [[nodiscard]] std::string redacted() const;

  // Wipes and empties.
  void clear() noexcept;

 private:
  void *data_ = nullptr;  // the value, then the version and a NUL
  std::size_t size_ = 0;  // of the value
  std::size_t capacity_ = 0;
  std::size_t version_size_ = 0;
  std::int64_t created_unix_ms_ = 0;
};

// Printing a Secret is a compile-time error; use redacted() or reveal().
std::ostream &operator<<(std::ostream &, const Secret &) = delete;

}  // namespace coffer

#endif  // COFFER_SECRET_HPP
