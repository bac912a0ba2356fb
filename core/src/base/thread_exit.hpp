// Runs a function when the calling thread exits: for per-thread state kept in
// plain (guard-free) thread-local data, whose hand-back must still happen.
#ifndef COFFER_CORE_THREAD_EXIT_HPP
#define COFFER_CORE_THREAD_EXIT_HPP

namespace coffer::detail {

// Arms `Fn` to run at this thread's exit (among its thread_local destructors).
// Idempotent per thread and function; call it on a slow path only.
template <void (*Fn)() noexcept>
void call_at_thread_exit() {
  struct AtExit {
    AtExit() = default;
    AtExit(const AtExit &) = delete;
    AtExit &operator=(const AtExit &) = delete;
    ~AtExit() { Fn(); }
  };
  thread_local AtExit at_exit;
  (void)at_exit;
}

}  // namespace coffer::detail

#endif  // COFFER_CORE_THREAD_EXIT_HPP
