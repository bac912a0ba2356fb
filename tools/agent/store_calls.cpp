#include "store_calls.hpp"

#include <coffer/asio.hpp>

#include <boost/asio/as_tuple.hpp>

namespace coffer::agent {

namespace asio = boost::asio;

asio::awaitable<Result> get_value(Store &store, std::string key, GetOptions options) {
  auto executor = co_await asio::this_coro::executor;
  auto [error, secret] = co_await async_get(store, std::move(key), executor,
                                            asio::as_tuple(asio::use_awaitable), options);
  Result result;
  if (!error) {
    result.code = Code::ok;
    result.secret = std::move(secret);
    co_return result;
  }
  try {
    std::rethrow_exception(error);
  } catch (const Error &e) {
    result.code = e.code();
    result.message = e.what();
  } catch (const std::exception &e) {
    result.code = Code::internal;
    result.message = e.what();
  }
  co_return result;
}

}  // namespace coffer::agent
