// Runs a coroutine on the instance's I/O thread and blocks the calling thread
// (a caller that waits anyway) until it ends. Its Error is copied on the I/O
// thread and thrown again on the caller's: no exception object is shared
// between the two threads (std::future would share one, whose reference count
// lives in uninstrumented libstdc++ code that ThreadSanitizer cannot follow).
#ifndef COFFER_AZURE_HANDOFF_HPP
#define COFFER_AZURE_HANDOFF_HPP

#include "async.hpp"

#include <coffer/provider.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace coffer::azure {

// An operation started on the I/O thread, whose end the caller waits for.
template <class T>
class Pending {
 public:
  // The result, or the coffer::provider::Error the operation threw, thrown
  // here (any other exception becomes COFFER_STATUS_INTERNAL). Nothing when
  // `give_up` passes first; the operation then still runs to its end.
  std::optional<T> wait(std::optional<Deadline> give_up = std::nullopt) {
    std::unique_lock lock(state_->mutex);
    if (give_up) {
      if (!state_->ended.wait_until(lock, *give_up, [&] { return state_->done; }))
        return std::nullopt;
    } else {
      state_->ended.wait(lock, [&] { return state_->done; });
    }
    if (state_->error) throw coffer::provider::Error(*state_->error);
    return std::move(state_->value);
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable ended;
    bool done = false;
    std::optional<T> value;
    std::optional<coffer::provider::Error> error;
  };
  template <class U>
  friend Pending<U> start_on_io_thread(asio::io_context &io, asio::awaitable<U> operation);
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Starts `operation` on `io` (the I/O thread). Never wait for it on that
// thread.
template <class T>
Pending<T> start_on_io_thread(asio::io_context &io, asio::awaitable<T> operation) {
  using coffer::provider::Error;
  Pending<T> pending;
  asio::co_spawn(
      io, std::move(operation), [state = pending.state_](std::exception_ptr thrown, T result) {
        std::optional<Error> error;
        if (thrown) {
          try {
            std::rethrow_exception(thrown);
          } catch (const Error &failure) {
            error = failure;
          } catch (const std::exception &failure) {
            error = Error(COFFER_STATUS_INTERNAL, std::string("internal error: ") + failure.what());
          }
        }
        std::lock_guard lock(state->mutex);
        if (error)
          state->error = std::move(error);
        else
          state->value.emplace(std::move(result));
        state->done = true;
        state->ended.notify_all();
      });
  return pending;
}

// start_on_io_thread(io, operation).wait(give_up).
template <class T>
std::optional<T> wait_on_io_thread(asio::io_context &io, asio::awaitable<T> operation,
                                   std::optional<Deadline> give_up = std::nullopt) {
  return start_on_io_thread(io, std::move(operation)).wait(give_up);
}

}  // namespace coffer::azure

#endif  // COFFER_AZURE_HANDOFF_HPP
