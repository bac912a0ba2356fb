// Lets many threads read shared pointers without a locked instruction or a
// write to memory another thread writes, and a writer wait until every reader
// that might still see an old value has finished: a sleepable read-copy-update
// in miniature, the "memb" flavour of liburcu.
//
// Each thread owns a slot (one cache line pair of its own, reused after the
// thread exits). Entering a read section stores the current epoch into the
// slot with a plain store; leaving stores zero. synchronize() advances the
// epoch, makes every thread's earlier stores visible with one
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) system call, and waits for
// every slot that holds an older epoch. Where membarrier is unavailable
// (old kernel, seccomp), readers add a full fence instead.
//
// Read sections nest, must be short and must not block; synchronize() must
// not be called from inside one. One process-wide domain: a writer waits for
// the readers of every Store, which costs nothing as sections are short.
#ifndef COFFER_CORE_READ_DOMAIN_HPP
#define COFFER_CORE_READ_DOMAIN_HPP

#include <atomic>
#include <cstdint>

namespace coffer::detail {

struct alignas(128) ReaderSlot {
  std::atomic<std::uint64_t> epoch{0};  // 0: outside any section
  std::atomic<bool> in_use{false};      // owned by a live thread
  unsigned index = 0;                   // unique among slots, so among live threads
  ReaderSlot *next = nullptr;           // the registry, a list that only grows
};

// A thread's own state, plain zero-initialised data (no guard, no wrapper call).
struct ReaderThread {
  ReaderSlot *slot;
  unsigned depth;
  bool exited;  // past the thread's exit hand-back: slots are borrowed per section
};
extern __thread ReaderThread reader_thread __attribute__((tls_model("initial-exec")));

class ReadDomain {
 public:
  class Guard {
   public:
    Guard(const Guard &) = delete;
    Guard &operator=(const Guard &) = delete;
    ~Guard() {
      ReaderThread &me = reader_thread;
      if (--me.depth == 0) {
        // Release: the section's reads are done before a writer sees zero.
        me.slot->epoch.store(0, std::memory_order_release);
        if (me.exited) [[unlikely]]
          give_back_borrowed();
      }
    }
    // This thread's slot index, unique among live threads while the section
    // lasts (for per-thread counter stripes).
    [[nodiscard]] unsigned thread_index() const noexcept { return reader_thread.slot->index; }

   private:
    friend class ReadDomain;
    Guard() = default;
  };

  [[nodiscard]] static Guard enter() {
    ReaderThread &me = reader_thread;
    if (me.depth == 0) {
      if (me.slot == nullptr) [[unlikely]]
        take_slot();  // may throw bad_alloc; nothing has changed then
      me.slot->epoch.store(epoch_.load(std::memory_order_acquire), std::memory_order_relaxed);
      if (readers_fence_.load(std::memory_order_relaxed)) [[unlikely]]
        std::atomic_thread_fence(std::memory_order_seq_cst);
      else
        std::atomic_signal_fence(std::memory_order_seq_cst);
    }
    ++me.depth;
    return Guard();
  }

  // Returns once every read section that began before the call has ended.
  static void synchronize();
  // Registers for membarrier; run once at library load.
  static void start();

 private:
  static void take_slot();
  static void give_back_borrowed() noexcept;
  static std::atomic<std::uint64_t> epoch_;  // starts at 1: 0 means "outside"
  static std::atomic<bool> readers_fence_;   // no membarrier: readers fence
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_READ_DOMAIN_HPP
