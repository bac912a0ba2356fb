#include "base/read_domain.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "base/thread_exit.hpp"

namespace coffer::detail {

__thread ReaderThread reader_thread __attribute__((tls_model("initial-exec"))) = {};

std::atomic<std::uint64_t> ReadDomain::epoch_{1};
std::atomic<bool> ReadDomain::readers_fence_{true};

namespace {

std::atomic<ReaderSlot *> g_slots{nullptr};
std::atomic<unsigned> g_slot_count{0};

int membarrier(int command) {
  return static_cast<int>(syscall(SYS_membarrier, command, 0U, 0));
}

bool register_membarrier() {
  int supported = membarrier(MEMBARRIER_CMD_QUERY);
  if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

std::atomic<bool> g_membarrier{false};

}  // namespace

// At library load, while the process is most likely single-threaded (the
// registration is cheapest then). Until it succeeds, readers fence.
void ReadDomain::start() {
  if (!register_membarrier()) return;
  g_membarrier.store(true, std::memory_order_seq_cst);
  readers_fence_.store(false, std::memory_order_seq_cst);
}

namespace {

const bool g_started = (ReadDomain::start(), true);

// Makes every other thread's earlier stores visible, and their later loads
// see this thread's earlier stores.
void heavy_barrier() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!g_membarrier.load(std::memory_order_acquire)) return;  // readers fence themselves
  if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
  // A forked child starts unregistered: register again and retry.
  if (errno == EPERM && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 &&
      membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
    return;
  // Slower, but needs no registration.
  if (membarrier(MEMBARRIER_CMD_GLOBAL) == 0) return;
  std::fputs("coffer: fatal: membarrier failed after it had worked; cannot free memory safely\n",
             stderr);
  std::abort();
}

ReaderSlot *acquire_slot() {
  for (ReaderSlot *s = g_slots.load(std::memory_order_acquire); s != nullptr; s = s->next) {
    bool expected = false;
    if (!s->in_use.load(std::memory_order_relaxed) &&
        s->in_use.compare_exchange_strong(expected, true, std::memory_order_acquire))
      return s;
  }
  auto *fresh = new ReaderSlot();
  fresh->in_use.store(true, std::memory_order_relaxed);
  fresh->index = g_slot_count.fetch_add(1, std::memory_order_relaxed);
  ReaderSlot *head = g_slots.load(std::memory_order_relaxed);
  do {
    fresh->next = head;
  } while (!g_slots.compare_exchange_weak(head, fresh, std::memory_order_release,
                                          std::memory_order_relaxed));
  return fresh;
}

void release_slot(ReaderSlot *slot) noexcept {
  slot->in_use.store(false, std::memory_order_release);
}

// Gives the thread's slot back when the thread exits.
void give_back_at_exit() noexcept {
  ReaderThread &me = reader_thread;
  me.exited = true;
  if (me.slot != nullptr && me.depth == 0) {
    release_slot(me.slot);
    me.slot = nullptr;
  }
}

}  // namespace

void ReadDomain::take_slot() {
  ReaderThread &me = reader_thread;
  me.slot = acquire_slot();
  if (!me.exited) call_at_thread_exit<&give_back_at_exit>();
}

// After the thread's exit hand-back (a Store used from another thread_local's
// destructor): each outermost section borrows a slot and returns it.
void ReadDomain::give_back_borrowed() noexcept {
  ReaderThread &me = reader_thread;
  release_slot(me.slot);
  me.slot = nullptr;
}

void ReadDomain::synchronize() {
  // Readers that load the new epoch also see what was published before it.
  std::uint64_t target = epoch_.fetch_add(1, std::memory_order_seq_cst) + 1;
  heavy_barrier();
  for (ReaderSlot *s = g_slots.load(std::memory_order_acquire); s != nullptr; s = s->next) {
    for (;;) {
      std::uint64_t seen = s->epoch.load(std::memory_order_acquire);
      if (seen == 0 || seen >= target) break;
      std::this_thread::yield();
    }
  }
  (void)g_started;
}

}  // namespace coffer::detail
