// The Store from a coroutine: gets that do not block the connection's
// thread, and the blocking calls (a provider asked directly, bulk reads,
// reloads) run on a pool of their own so that no I/O thread waits on a
// backend.
#ifndef COFFER_AGENT_STORE_CALLS_HPP
#define COFFER_AGENT_STORE_CALLS_HPP

#include <coffer/store.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <string>
#include <utility>

namespace coffer::agent {

// Store::get_async, resumed on the calling coroutine's executor. `options`
// (and what it points to) must stay alive until the call completes.
boost::asio::awaitable<Result> get_value(Store &store, std::string key, GetOptions options);

// Runs `work` (a callable returning T) on `pool` and resumes with its result
// on the calling coroutine's executor. An exception thrown by `work` is
// rethrown in the caller.
template <class Work>
auto on_pool(boost::asio::thread_pool &pool, Work work)
    -> boost::asio::awaitable<decltype(work())> {
  using T = decltype(work());
  co_return co_await boost::asio::co_spawn(
      pool.get_executor(),
      [work = std::move(work)]() mutable -> boost::asio::awaitable<T> { co_return work(); },
      boost::asio::use_awaitable);
}

}  // namespace coffer::agent

#endif  // COFFER_AGENT_STORE_CALLS_HPP
