// Memory for secret bytes: locked against swapping where the OS allows,
// excluded from core dumps, wiped before reuse. Small blocks come from
// size-class free lists in locked chunks, with a few free blocks per thread
// so that the common allocation and free (every cache hit makes one of each)
// take no lock and make no call; large blocks get their own mapping.
#ifndef COFFER_CORE_SECURE_MEMORY_HPP
#define COFFER_CORE_SECURE_MEMORY_HPP

#include <string.h>
#include <coffer/vector_registers.hpp>

#include <bit>
#include <cstddef>

namespace coffer::detail {

inline constexpr std::size_t kSecureSmallest = 32;
inline constexpr std::size_t kSecureLargest = 4096;
inline constexpr std::size_t kSecureClasses = 8;  // 32 .. 4096
inline constexpr unsigned kSecureKeepPerThread = 32;

struct SecureFreeBlock {
  SecureFreeBlock *next;
};

// A thread's own free blocks. Plain data, zero-initialised, so that reading
// it costs one thread-pointer-relative load (no guard, no wrapper call);
// `registered` says whether the thread-exit hand-back is armed.
struct SecureThreadBlocks {
  SecureFreeBlock *heads[kSecureClasses];
  unsigned counts[kSecureClasses];
  bool registered;
  bool exited;  // after the thread's hand-back: frees go to the shared lists
};
extern __thread SecureThreadBlocks secure_thread_blocks __attribute__((tls_model("initial-exec")));

void *secure_allocate_slow(std::size_t size, std::size_t *capacity);
void secure_free_slow(void *block, std::size_t capacity) noexcept;

inline std::size_t secure_class_of(std::size_t size) noexcept {
  std::size_t rounded = std::bit_ceil(size < kSecureSmallest ? kSecureSmallest : size);
  return static_cast<std::size_t>(std::countr_zero(rounded) - std::countr_zero(kSecureSmallest));
}

// Overwrites memory, then the vector registers (the SDK's, explicit_bzero).
using provider::wipe;

// Returns at least `size` bytes (nullptr only for size 0) and the usable
// capacity in *capacity. Thread-safe. Throws std::bad_alloc.
inline void *secure_allocate(std::size_t size, std::size_t *capacity) {
  if (size != 0 && size <= kSecureLargest) {
    std::size_t cls = secure_class_of(size);
    SecureThreadBlocks &mine = secure_thread_blocks;
    if (SecureFreeBlock *block = mine.heads[cls]) [[likely]] {
      mine.heads[cls] = block->next;
      --mine.counts[cls];
      block->next = nullptr;
      *capacity = kSecureSmallest << cls;
      return block;
    }
  }
  return secure_allocate_slow(size, capacity);
}

// Wipes `capacity` bytes and returns the block. Thread-safe.
inline void secure_free(void *block, std::size_t capacity) noexcept {
  if (block == nullptr || capacity == 0) return;
  wipe(block, capacity);
  if (capacity <= kSecureLargest) {
    std::size_t cls = secure_class_of(capacity);
    SecureThreadBlocks &mine = secure_thread_blocks;
    if (mine.registered && mine.counts[cls] < kSecureKeepPerThread) [[likely]] {
      auto *free_block = static_cast<SecureFreeBlock *>(block);
      free_block->next = mine.heads[cls];
      mine.heads[cls] = free_block;
      ++mine.counts[cls];
      return;
    }
  }
  secure_free_slow(block, capacity);
}

// The capacity secure_allocate() gives for `size` bytes, so that a caller
// that knows only the size it asked for can free the block.
std::size_t secure_capacity(std::size_t size) noexcept;

// Secret memory lent to plugins (coffer_host.secret_allocate and
// .secret_free, ABI 1.3): the same blocks, in C terms (nullptr on failure).
void *secret_allocate_for_plugin(std::size_t size) noexcept;
void secret_free_for_plugin(void *block, std::size_t size) noexcept;

// Whether the last chunk mapped could be locked (for diagnostics).
bool secure_memory_locked() noexcept;

}  // namespace coffer::detail

#endif  // COFFER_CORE_SECURE_MEMORY_HPP
