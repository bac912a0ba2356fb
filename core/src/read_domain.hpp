// Lets many threads read a shared pointer without writing to a shared cache
// line, and a writer wait until every reader that might still see an old
// value has finished (a sleepable read-copy-update in miniature). Readers
// count themselves on one of several padded stripes, under the parity of the
// current epoch; synchronize() flips the epoch and waits for the old parity's
// counters to drain. Read sections must be short and must not block.
#ifndef COFFER_CORE_READ_DOMAIN_HPP
#define COFFER_CORE_READ_DOMAIN_HPP

#include <array>
#include <atomic>
#include <thread>

namespace coffer::detail {

class ReadDomain {
  struct alignas(64) Counter {
    std::atomic<long> readers{0};
  };
  static constexpr unsigned kStripes = 16;

 public:
  class Guard {
   public:
    Guard(Guard &&) = delete;
    Guard &operator=(Guard &&) = delete;
    ~Guard() { counter_->readers.fetch_sub(1, std::memory_order_seq_cst); }

   private:
    friend class ReadDomain;
    explicit Guard(Counter *counter) : counter_(counter) {}
    Counter *counter_;
  };

  [[nodiscard]] Guard enter() {
    unsigned parity = epoch_.load(std::memory_order_seq_cst) & 1u;
    Counter *counter = &counters_[parity][stripe()];
    counter->readers.fetch_add(1, std::memory_order_seq_cst);
    return Guard(counter);
  }

  // Returns once every read section that began before the call has ended.
  void synchronize() {
    unsigned old = epoch_.fetch_add(1, std::memory_order_seq_cst) & 1u;
    for (auto &counter : counters_[old])
      while (counter.readers.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  }

 private:
  static unsigned stripe() {
    static std::atomic<unsigned> next{0};
    thread_local unsigned mine __attribute__((tls_model("initial-exec"))) =
        next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    return mine;
  }
  std::atomic<unsigned> epoch_{0};
  std::array<std::array<Counter, kStripes>, 2> counters_{};
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_READ_DOMAIN_HPP
