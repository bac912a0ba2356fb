// The read domain behind lock-free cache hits: a writer's synchronize() waits
// for every read section that began before it, sections nest, every live
// thread has its own slot index, and the per-thread counter stripes add up.
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "base/read_domain.hpp"
#include "observability/metrics.hpp"

using coffer::detail::ReadDomain;
using namespace std::chrono_literals;

namespace {

// How long a step that should be prompt may take before the test fails.
constexpr auto kDeadline = 10s;

// Polls `condition` until it holds or `limit` has passed; says whether it held.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = kDeadline) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Runs synchronize() on its own thread and says whether it has returned. A
// synchronize() that never returns fails the test instead of hanging it: the
// thread is then left behind (it shares only `done_` with this object).
class Synchronizer {
 public:
  Synchronizer()
      : done_(std::make_shared<std::atomic<bool>>(false)), thread_([done = done_] {
          ReadDomain::synchronize();
          *done = true;
        }) {}
  ~Synchronizer() {
    if (*done_)
      thread_.join();
    else
      thread_.detach();
  }
  Synchronizer(const Synchronizer &) = delete;
  Synchronizer &operator=(const Synchronizer &) = delete;
  // Whether synchronize() returns within `limit`.
  [[nodiscard]] bool returns_within(std::chrono::milliseconds limit = kDeadline) const {
    return eventually([&] { return done_->load(); }, limit);
  }

 private:
  std::shared_ptr<std::atomic<bool>> done_;
  std::thread thread_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(read_domain)

BOOST_AUTO_TEST_CASE(synchronize_waits_for_a_section_that_began_before_it) {
  std::atomic<bool> inside{false};
  // The reader leaves when told to, or when the test ends early (jthread's stop).
  std::atomic<bool> leave{false};
  std::jthread reader([&](const std::stop_token &stop) {
    auto guard = ReadDomain::enter();
    inside = true;
    while (!leave && !stop.stop_requested()) std::this_thread::sleep_for(1ms);
  });
  BOOST_TEST_REQUIRE(eventually([&] { return inside.load(); }));
  Synchronizer sync;
  BOOST_TEST(!sync.returns_within(100ms), "synchronize() returned inside a reader's section");
  leave = true;
  BOOST_TEST(sync.returns_within(), "synchronize() still waits after the section ended");
}

BOOST_AUTO_TEST_CASE(synchronize_does_not_wait_for_sections_that_began_after_it) {
  // A reader that keeps entering and leaving never holds a writer up.
  std::jthread reader([](const std::stop_token &stop) {
    while (!stop.stop_requested()) {
      auto guard = ReadDomain::enter();
    }
  });
  for (int i = 0; i < 100; ++i) {
    Synchronizer sync;
    BOOST_TEST_REQUIRE(sync.returns_within(), "synchronize() " << i << " waited for new sections");
  }
}

BOOST_AUTO_TEST_CASE(sections_nest) {
  std::atomic<int> stage{0};
  // The reader moves on when told to, or when the test ends early (jthread's stop).
  std::jthread reader([&](const std::stop_token &stop) {
    auto outer = ReadDomain::enter();
    {
      auto inner = ReadDomain::enter();
      stage = 1;
      while (stage != 2 && !stop.stop_requested()) std::this_thread::sleep_for(1ms);
    }
    // The inner section is over; the outer one must still hold a writer.
    stage = 3;
    while (stage != 4 && !stop.stop_requested()) std::this_thread::sleep_for(1ms);
  });
  BOOST_TEST_REQUIRE(eventually([&] { return stage == 1; }));
  Synchronizer sync;
  stage = 2;
  BOOST_TEST_REQUIRE(eventually([&] { return stage == 3; }));
  BOOST_TEST(!sync.returns_within(100ms), "synchronize() returned inside the outer section");
  stage = 4;
  BOOST_TEST(sync.returns_within(), "synchronize() still waits after the outer section ended");
}

BOOST_AUTO_TEST_CASE(an_object_replaced_and_freed_is_never_read_freed) {
  // Readers check a canary inside their sections; the writer replaces the
  // object, synchronizes, then poisons and frees the old one. A reader that
  // could still see it would find the poison (and ASan the use after free).
  struct Object {
    std::atomic<unsigned> canary{0xC0FFEEu};
  };
  std::atomic<Object *> current{new Object()};
  std::atomic<long> bad{0};
  std::atomic<long> reads{0};
  std::vector<std::jthread> readers;
  for (int t = 0; t < 2; ++t)
    readers.emplace_back([&](const std::stop_token &stop) {
      while (!stop.stop_requested()) {
        auto guard = ReadDomain::enter();
        Object *o = current.load(std::memory_order_acquire);
        for (int i = 0; i < 4096; ++i)
          if (o->canary.load(std::memory_order_relaxed) != 0xC0FFEEu) ++bad;
        ++reads;
      }
    });
  BOOST_TEST_REQUIRE(eventually([&] { return reads >= 1000; }));  // the readers are running
  // Enough swaps to land many inside sections; a bounded time on a slow machine.
  auto give_up = std::chrono::steady_clock::now() + 20s;
  for (int swaps = 0; (swaps < 1000 || reads < 5000) && std::chrono::steady_clock::now() < give_up;
       ++swaps) {
    Object *old = current.exchange(new Object(), std::memory_order_acq_rel);
    Synchronizer sync;
    BOOST_TEST_REQUIRE(sync.returns_within(), "synchronize() " << swaps << " never returned");
    old->canary.store(0xDEADu, std::memory_order_relaxed);
    delete old;
  }
  readers.clear();  // stops and joins them
  delete current.load();
  BOOST_TEST(bad.load() == 0);
  BOOST_TEST(reads.load() > 0);
}

BOOST_AUTO_TEST_CASE(live_threads_have_distinct_indices_and_exited_ones_are_reused) {
  constexpr int kThreads = 12;
  auto round = [&] {
    std::vector<unsigned> seen(kThreads);
    std::atomic<int> arrived{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t)
      pool.emplace_back([&, t] {
        auto guard = ReadDomain::enter();
        seen[static_cast<std::size_t>(t)] = guard.thread_index();
        ++arrived;
        while (arrived < kThreads) std::this_thread::yield();
      });
    for (auto &p : pool) p.join();
    return seen;
  };
  auto first = round();
  BOOST_TEST(std::set<unsigned>(first.begin(), first.end()).size() == std::size_t(kThreads));
  // The same number of threads again: slots come back, no new ones.
  unsigned highest = *std::max_element(first.begin(), first.end());
  for (int r = 0; r < 5; ++r) {
    auto again = round();
    BOOST_TEST(std::set<unsigned>(again.begin(), again.end()).size() == std::size_t(kThreads));
    BOOST_TEST(*std::max_element(again.begin(), again.end()) <= highest);
  }
}

BOOST_AUTO_TEST_CASE(a_section_works_from_a_destructor_run_at_thread_exit) {
  // A thread_local built before the thread's first section is destroyed after
  // the thread gave its slot back; a section there borrows one.
  struct UsesStoreAtExit {
    std::atomic<bool> *ok;
    ~UsesStoreAtExit() {
      if (ok == nullptr) return;
      auto guard = ReadDomain::enter();
      auto nested = ReadDomain::enter();
      *ok = true;
    }
  };
  std::atomic<bool> ok{false};
  std::thread t([&] {
    thread_local UsesStoreAtExit late{nullptr};
    late.ok = &ok;
    auto guard = ReadDomain::enter();
  });
  t.join();
  BOOST_TEST(ok.load());
  // The borrowed slot went back: a writer does not wait on it.
  Synchronizer sync;
  BOOST_TEST(sync.returns_within(), "synchronize() waits for a slot given back at thread exit");
}

BOOST_AUTO_TEST_CASE(a_forked_child_can_synchronize) {
  // The child of a fork starts without the parent's membarrier registration.
  { auto guard = ReadDomain::enter(); }
  {
    Synchronizer sync;
    BOOST_TEST_REQUIRE(sync.returns_within());
  }
  pid_t child = fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    // A child whose synchronize() never returns is killed (SIGALRM), which
    // fails the checks below instead of hanging the test.
    ::alarm(static_cast<unsigned>(std::chrono::seconds(kDeadline).count()));
    std::thread reader([] {
      for (int i = 0; i < 1000; ++i) {
        auto guard = ReadDomain::enter();
      }
    });
    for (int i = 0; i < 10; ++i) ReadDomain::synchronize();
    reader.join();
    _exit(0);
  }
  int status = 0;
  BOOST_REQUIRE(waitpid(child, &status, 0) == child);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
}

BOOST_AUTO_TEST_CASE(striped_counter_counts_every_add_from_owned_and_shared_stripes) {
  // More threads than owned stripes: some share stripes with atomic adds.
  coffer::detail::StripedCounter counter;
  constexpr int kThreads = 20;
  constexpr int kAdds = 20000;
  std::atomic<int> arrived{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t)
    pool.emplace_back([&] {
      auto guard = ReadDomain::enter();
      ++arrived;
      while (arrived < kThreads) std::this_thread::yield();
      for (int i = 0; i < kAdds; ++i) counter.add_from(guard.thread_index());
    });
  for (auto &p : pool) p.join();
  BOOST_TEST(counter.total() == std::uint64_t(kThreads) * kAdds);
}

BOOST_AUTO_TEST_SUITE_END()
