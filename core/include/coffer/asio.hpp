// Asio integration: coffer::async_get(store, key, token) with any Asio
// completion token (a callback, use_awaitable, use_future, deferred, ...).
//
// The completion signature is void(std::exception_ptr, Secret): the
// exception_ptr holds a coffer::Error on failure, which use_awaitable throws.
// The handler runs on its associated executor (or the one passed in), never
// inside the Store's threads.
#ifndef COFFER_ASIO_HPP
#define COFFER_ASIO_HPP

#include <coffer/store.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <exception>
#include <memory>
#include <string>
#include <utility>

namespace coffer {

template <class Executor, class CompletionToken>
auto async_get(Store &store, std::string key, Executor executor, CompletionToken &&token,
               GetOptions options = {}) {
  return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, Secret)>(
      [&store, key = std::move(key), executor, options](auto handler) mutable {
        using Handler = decltype(handler);
        auto target = boost::asio::get_associated_executor(handler, executor);
        struct State {
          Handler handler;
          boost::asio::executor_work_guard<decltype(target)> work;
        };
        auto state = std::make_shared<State>(
            State{std::move(handler), boost::asio::make_work_guard(target)});
        store.get_async(
            key,
            [state](Result result) {
              auto destination = state->work.get_executor();
              boost::asio::post(destination, [state, result = std::move(result)]() mutable {
                std::exception_ptr error;
                if (!result.ok())
                  error = std::make_exception_ptr(Error(result.code, result.message));
                auto work = std::move(state->work);
                std::move(state->handler)(error, std::move(result.secret));
              });
            },
            options);
      },
      token);
}

// Uses the token's associated executor, or the system executor.
template <class CompletionToken>
auto async_get(Store &store, std::string key, CompletionToken &&token, GetOptions options = {}) {
  return async_get(store, std::move(key), boost::asio::system_executor(),
                   std::forward<CompletionToken>(token), options);
}

}  // namespace coffer

#endif  // COFFER_ASIO_HPP
