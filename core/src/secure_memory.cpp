#include "secure_memory.hpp"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <bit>
#include <mutex>
#include <new>

namespace coffer::detail {
namespace {

constexpr std::size_t kSmallest = 32;
constexpr std::size_t kLargest = 4096;
constexpr std::size_t kClasses = 8;  // 32 .. 4096
constexpr std::size_t kChunk = 64 * 1024;

std::atomic<bool> g_locked{true};

// Maps pages that are private, excluded from core dumps and, if the
// RLIMIT_MEMLOCK allows, locked.
void *map_protected(std::size_t bytes) {
  void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  madvise(p, bytes, MADV_DONTDUMP);
  madvise(p, bytes, MADV_DONTFORK);
  if (mlock(p, bytes) != 0) g_locked.store(false, std::memory_order_relaxed);
  return p;
}

std::size_t class_of(std::size_t size) {
  std::size_t rounded = std::bit_ceil(size < kSmallest ? kSmallest : size);
  return static_cast<std::size_t>(std::countr_zero(rounded) - std::countr_zero(kSmallest));
}

struct FreeBlock {
  FreeBlock *next;
};

// One free list per size class. Chunks are never returned to the system: the
// peak amount of secret memory a process holds is small and bounded.
class Pool {
 public:
  void *take(std::size_t cls) {
    auto &list = lists_[cls];
    std::lock_guard lock(list.mutex);
    if (list.head == nullptr) refill(list, kSmallest << cls);
    FreeBlock *block = list.head;
    list.head = block->next;
    block->next = nullptr;
    return block;
  }
  void give(void *p, std::size_t cls) noexcept {
    auto &list = lists_[cls];
    auto *block = static_cast<FreeBlock *>(p);
    std::lock_guard lock(list.mutex);
    block->next = list.head;
    list.head = block;
  }

 private:
  struct List {
    std::mutex mutex;
    FreeBlock *head = nullptr;
  };
  static void refill(List &list, std::size_t block_size) {
    auto *chunk = static_cast<unsigned char *>(map_protected(kChunk));
    for (std::size_t offset = 0; offset + block_size <= kChunk; offset += block_size) {
      auto *block = reinterpret_cast<FreeBlock *>(chunk + offset);
      block->next = list.head;
      list.head = block;
    }
  }
  std::array<List, kClasses> lists_;
};

Pool &pool() {
  // Process-wide, like malloc's arenas, and never destroyed: threads may
  // return blocks while the process exits.
  static Pool *instance = new Pool();
  return *instance;
}

// A few free blocks per size class kept by each thread, so that a cache hit
// takes no lock to allocate its Secret.
class ThreadCache {
 public:
  static constexpr unsigned kKeep = 32;
  ~ThreadCache() {
    for (std::size_t cls = 0; cls < kClasses; ++cls)
      while (FreeBlock *block = heads_[cls]) {
        heads_[cls] = block->next;
        pool().give(block, cls);
      }
  }
  void *take(std::size_t cls) {
    FreeBlock *block = heads_[cls];
    if (block == nullptr) return pool().take(cls);
    heads_[cls] = block->next;
    --counts_[cls];
    block->next = nullptr;
    return block;
  }
  void give(void *p, std::size_t cls) {
    if (counts_[cls] >= kKeep) {
      pool().give(p, cls);
      return;
    }
    auto *block = static_cast<FreeBlock *>(p);
    block->next = heads_[cls];
    heads_[cls] = block;
    ++counts_[cls];
  }

 private:
  std::array<FreeBlock *, kClasses> heads_{};
  std::array<unsigned, kClasses> counts_{};
};

ThreadCache &thread_cache() {
  // libcoffer is linked, never dlopen'ed: the initial-exec model avoids a
  // __tls_get_addr call per allocation.
  thread_local ThreadCache cache __attribute__((tls_model("initial-exec")));
  return cache;
}

std::size_t page_round(std::size_t size) {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (size + page - 1) / page * page;
}

}  // namespace

// explicit_bzero: a memset the compiler may not remove, at memset's speed
// (OPENSSL_cleanse calls memset through a volatile pointer, several times
// slower on the small blocks every cache hit frees).
void wipe(void *data, std::size_t size) noexcept {
  if (data != nullptr && size != 0) explicit_bzero(data, size);
}

void *secure_allocate(std::size_t size, std::size_t *capacity) {
  if (size == 0) {
    *capacity = 0;
    return nullptr;
  }
  if (size <= kLargest) {
    std::size_t cls = class_of(size);
    *capacity = kSmallest << cls;
    return thread_cache().take(cls);
  }
  *capacity = page_round(size);
  return map_protected(*capacity);
}

void secure_free(void *block, std::size_t capacity) noexcept {
  if (block == nullptr || capacity == 0) return;
  wipe(block, capacity);
  if (capacity <= kLargest) {
    thread_cache().give(block, class_of(capacity));
    return;
  }
  munlock(block, capacity);
  munmap(block, capacity);
}

bool secure_memory_locked() noexcept {
  return g_locked.load(std::memory_order_relaxed);
}

}  // namespace coffer::detail
