// Memory for secret bytes: locked against swapping where the OS allows,
// excluded from core dumps, wiped before reuse. Small blocks come from
// size-class free lists in locked chunks (a get must stay cheap); large ones
// get their own mapping.
#ifndef COFFER_CORE_SECURE_MEMORY_HPP
#define COFFER_CORE_SECURE_MEMORY_HPP

#include <cstddef>

namespace coffer::detail {

// Returns at least `size` bytes (nullptr only for size 0) and the usable
// capacity in *capacity. Thread-safe. Throws std::bad_alloc.
void *secure_allocate(std::size_t size, std::size_t *capacity);
// Wipes `capacity` bytes and returns the block. Thread-safe.
void secure_free(void *block, std::size_t capacity) noexcept;
// Overwrites memory in a way the compiler may not elide.
void wipe(void *data, std::size_t size) noexcept;
// Whether the last chunk mapped could be locked (for diagnostics).
bool secure_memory_locked() noexcept;

}  // namespace coffer::detail

#endif  // COFFER_CORE_SECURE_MEMORY_HPP
