// Secret memory for hosts: the blocks the core keeps secret values in,
// for a host's own buffers that hold secret material (an HTTP response
// carrying a value, a parser's input).
//
// A block is excluded from core dumps, locked in RAM where RLIMIT_MEMLOCK
// allows, not inherited by a forked child, and wiped when freed. Blocks come
// from per-size free lists on pages mapped once, so an allocation costs no
// system call in the steady state (mapping a page per allocation, as a
// provider's fallback does, costs a TLB shootdown on every free).
//
// Thread safety: every function may be called from any thread; a block may
// be freed on another thread than the one that allocated it.
#ifndef COFFER_SECRET_MEMORY_HPP
#define COFFER_SECRET_MEMORY_HPP

#include <cstddef>
#include <new>

namespace coffer {

// A block of at least `size` bytes (1 when `size` is 0). Throws
// std::bad_alloc when no memory is left.
void *secret_allocate(std::size_t size);
// Wipes and frees a block of secret_allocate(`size`), `size` as asked;
// nullptr is allowed.
void secret_free(void *block, std::size_t size) noexcept;

// A standard allocator on secret memory, for containers that hold secret
// material (strings, Beast buffers and fields). Stateless.
template <class T>
struct SecretAllocator {
  static_assert(alignof(T) <= alignof(std::max_align_t), "secret memory is not aligned for T");
  using value_type = T;
  SecretAllocator() noexcept = default;
  template <class U>
  SecretAllocator(const SecretAllocator<U> &) noexcept {}  // NOLINT(google-explicit-constructor)
  T *allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T *>(secret_allocate(n * sizeof(T)));
  }
  void deallocate(T *p, std::size_t n) noexcept { secret_free(p, n * sizeof(T)); }
  template <class U>
  friend bool operator==(const SecretAllocator &, const SecretAllocator<U> &) noexcept {
    return true;
  }
};

}  // namespace coffer

#endif  // COFFER_SECRET_MEMORY_HPP
