#include "store_calls.hpp"

#include <boost/asio/executor_work_guard.hpp>

#include <functional>
#include <optional>
#include <utility>

namespace coffer::agent {

namespace asio = boost::asio;

namespace {

// Where a get's answer meets the coroutine waiting for it, whichever of the
// two comes first.
struct Rendezvous {
  std::mutex mutex;
  std::optional<Result> result;         // the answer, until someone waits for it
  std::function<void(Result)> deliver;  // the waiting coroutine, once suspended
  PendingGets *pending = nullptr;       // counts `deliver` while it is set
};

}  // namespace

asio::awaitable<Result> get_value(Store &store, PendingGets &pending, std::string_view key,
                                  GetOptions options) {
  auto meeting = std::make_shared<Rendezvous>();
  store.get_async(
      key,
      [meeting](Result result) {
        std::unique_lock lock(meeting->mutex);
        if (!meeting->deliver) {
          meeting->result = std::move(result);
          return;
        }
        auto deliver = std::move(meeting->deliver);
        meeting->deliver = nullptr;
        PendingGets *counted = meeting->pending;
        lock.unlock();
        deliver(std::move(result));
        deliver = nullptr;  // its executor and work guard go before the loop may
        counted->end();
      },
      options);
  {
    std::lock_guard lock(meeting->mutex);
    if (meeting->result) co_return std::move(*meeting->result);  // a cache hit
  }
  auto executor = co_await asio::this_coro::executor;
  auto initiation = [meeting, &pending, executor](auto handler) {
    using Handler = decltype(handler);
    auto waiting = std::make_shared<Handler>(std::move(handler));
    auto resume = [waiting, executor](Result result) {
      asio::post(executor, [waiting, result = std::move(result)]() mutable {
        (*waiting)(std::move(result));
      });
    };
    std::unique_lock lock(meeting->mutex);
    if (meeting->result) {  // the answer came while this coroutine suspended
      auto result = std::move(*meeting->result);
      lock.unlock();
      resume(std::move(result));
      return;
    }
    pending.begin();
    meeting->pending = &pending;
    meeting->deliver = [resume, work = asio::make_work_guard(executor)](Result result) {
      resume(std::move(result));
    };
  };
  // Named locals, not temporaries of the co_await expression: GCC 12 destroys
  // such temporaries twice when a frame suspended in that expression is
  // destroyed (the agent's loops taken down with a get still out; ThreadSanitizer
  // reported the double release).
  auto answer = asio::async_initiate<decltype(asio::use_awaitable), void(Result)>(
      std::move(initiation), asio::use_awaitable);
  Result result = co_await std::move(answer);
  co_return result;
}

}  // namespace coffer::agent
