#include "base/secure_memory.hpp"

#include <coffer/secret_memory.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <mutex>
#include <new>

#include "base/thread_exit.hpp"

namespace coffer::detail {

__thread SecureThreadBlocks secure_thread_blocks __attribute__((tls_model("initial-exec"))) = {};

namespace {

constexpr std::size_t kChunk = 64 * 1024;
// Blocks a thread takes from the shared lists at once: one lock for several
// allocations, and each thread's blocks sit together, away from other
// threads' (no false sharing between threads copying values).
constexpr unsigned kBatch = 8;

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

// One free list per size class. Chunks are never returned to the system: the
// peak amount of secret memory a process holds is small and bounded.
class Pool {
 public:
  // Moves up to `count` blocks onto `*head`; returns how many.
  unsigned take(std::size_t cls, SecureFreeBlock **head, unsigned count) {
    auto &list = lists_[cls];
    std::lock_guard lock(list.mutex);
    if (list.head == nullptr) refill(list, kSecureSmallest << cls);
    unsigned moved = 0;
    while (moved < count && list.head != nullptr) {
      SecureFreeBlock *block = list.head;
      list.head = block->next;
      block->next = *head;
      *head = block;
      ++moved;
    }
    return moved;
  }
  void give(void *p, std::size_t cls) noexcept {
    auto &list = lists_[cls];
    auto *block = static_cast<SecureFreeBlock *>(p);
    std::lock_guard lock(list.mutex);
    block->next = list.head;
    list.head = block;
  }

 private:
  struct List {
    std::mutex mutex;
    SecureFreeBlock *head = nullptr;
  };
  static void refill(List &list, std::size_t block_size) {
    auto *chunk = static_cast<unsigned char *>(map_protected(kChunk));
    // Pushed from the end, so that blocks are handed out in address order.
    for (std::size_t offset = kChunk / block_size * block_size; offset >= block_size;) {
      offset -= block_size;
      auto *block = reinterpret_cast<SecureFreeBlock *>(chunk + offset);
      block->next = list.head;
      list.head = block;
    }
  }
  std::array<List, kSecureClasses> lists_;
};

Pool &pool() {
  // Process-wide, like malloc's arenas, and never destroyed: threads may
  // return blocks while the process exits.
  static Pool *instance = new Pool();
  return *instance;
}

// Hands a thread's free blocks back to the shared lists when it exits; frees
// after that (other thread_local destructors) go straight to the lists.
void give_back_at_exit() noexcept {
  SecureThreadBlocks &mine = secure_thread_blocks;
  mine.registered = false;
  mine.exited = true;
  for (std::size_t cls = 0; cls < kSecureClasses; ++cls) {
    while (SecureFreeBlock *block = mine.heads[cls]) {
      mine.heads[cls] = block->next;
      pool().give(block, cls);
    }
    mine.counts[cls] = 0;
  }
}

// Whether this thread may keep blocks of its own (arming the hand-back at
// exit on first use).
bool keeps_blocks() noexcept {
  SecureThreadBlocks &mine = secure_thread_blocks;
  if (mine.registered) return true;
  if (mine.exited) return false;
  call_at_thread_exit<&give_back_at_exit>();
  mine.registered = true;
  return true;
}

std::size_t page_round(std::size_t size) {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (size + page - 1) / page * page;
}

}  // namespace

void *secure_allocate_slow(std::size_t size, std::size_t *capacity) {
  if (size == 0) {
    *capacity = 0;
    return nullptr;
  }
  if (size > kSecureLargest) {
    *capacity = page_round(size);
    return map_protected(*capacity);
  }
  std::size_t cls = secure_class_of(size);
  *capacity = kSecureSmallest << cls;
  if (!keeps_blocks()) {
    SecureFreeBlock *one = nullptr;
    pool().take(cls, &one, 1);
    one->next = nullptr;
    return one;
  }
  // The thread's list is empty here (else the inline path had served).
  SecureThreadBlocks &mine = secure_thread_blocks;
  mine.counts[cls] += pool().take(cls, &mine.heads[cls], kBatch);
  SecureFreeBlock *block = mine.heads[cls];
  mine.heads[cls] = block->next;
  --mine.counts[cls];
  block->next = nullptr;
  return block;
}

// The block is already wiped.
void secure_free_slow(void *block, std::size_t capacity) noexcept {
  if (capacity > kSecureLargest) {
    munlock(block, capacity);
    munmap(block, capacity);
    return;
  }
  std::size_t cls = secure_class_of(capacity);
  SecureThreadBlocks &mine = secure_thread_blocks;
  if (keeps_blocks() && mine.counts[cls] < kSecureKeepPerThread) {
    auto *free_block = static_cast<SecureFreeBlock *>(block);
    free_block->next = mine.heads[cls];
    mine.heads[cls] = free_block;
    ++mine.counts[cls];
    return;
  }
  pool().give(block, cls);
}

std::size_t secure_capacity(std::size_t size) noexcept {
  if (size == 0) return 0;
  if (size > kSecureLargest) return page_round(size);
  return kSecureSmallest << secure_class_of(size);
}

void *secret_allocate_for_plugin(std::size_t size) noexcept {
  if (size == 0) return nullptr;
  try {
    std::size_t capacity = 0;
    return secure_allocate(size, &capacity);
  } catch (...) {  // std::bad_alloc must not cross the C boundary
    return nullptr;
  }
}

void secret_free_for_plugin(void *block, std::size_t size) noexcept {
  secure_free(block, secure_capacity(size));
}

bool secure_memory_locked() noexcept {
  return g_locked.load(std::memory_order_relaxed);
}

}  // namespace coffer::detail

namespace coffer {

void *secret_allocate(std::size_t size) {
  std::size_t capacity = 0;
  return detail::secure_allocate(size == 0 ? 1 : size, &capacity);
}

void secret_free(void *block, std::size_t size) noexcept {
  if (block != nullptr) detail::secure_free(block, detail::secure_capacity(size == 0 ? 1 : size));
}

}  // namespace coffer
