#define BOOST_TEST_MODULE core_asio_tests
#include <coffer/asio.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include "test_policy.hpp"

namespace asio = boost::asio;

namespace {
coffer::Store open_store() {
  return coffer::Store::from_string(
      "{\"coffer\": 1, " + coffer::test::plugin_dirs_json() +
      R"(, "providers": {"p": {"plugin": "memory", "config": {"delay_ms": 10, "values": {"Email.SMTPPassword": "smtp"}}}},
          "routes": {"*": "p"}})");
}
}  // namespace

BOOST_AUTO_TEST_CASE(completion_handler_runs_on_the_io_context) {
  // The io_context outlives the Store, whose destructor waits for callbacks
  // still posting to it.
  asio::io_context io;
  auto store = open_store();
  std::string value;
  std::thread::id ran_on;
  coffer::async_get(store, "Email.SMTPPassword", io.get_executor(),
                    [&](std::exception_ptr error, coffer::Secret secret) {
                      BOOST_TEST(!error);
                      value = std::string(secret.reveal());
                      ran_on = std::this_thread::get_id();
                    });
  io.run();
  BOOST_TEST(value == "smtp");
  BOOST_TEST((ran_on == std::this_thread::get_id()));
}

BOOST_AUTO_TEST_CASE(use_awaitable_returns_the_secret_and_throws_coffer_errors) {
  // The io_context outlives the Store, whose destructor waits for callbacks
  // still posting to it.
  asio::io_context io;
  auto store = open_store();
  std::string value;
  coffer::Code failure = coffer::Code::ok;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto secret = co_await coffer::async_get(store, "Email.SMTPPassword", asio::use_awaitable);
        value = std::string(secret.reveal());
        try {
          co_await coffer::async_get(store, "VCS.GithubAdminPAT", asio::use_awaitable);
        } catch (const coffer::Error &e) {
          failure = e.code();
        }
      },
      asio::detached);
  io.run();
  BOOST_TEST(value == "smtp");
  BOOST_TEST(static_cast<int>(failure) == static_cast<int>(coffer::Code::not_found));
}

BOOST_AUTO_TEST_CASE(use_future_works_too) {
  // The io_context outlives the Store, whose destructor waits for callbacks
  // still posting to it.
  asio::io_context io;
  auto store = open_store();
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  auto future = coffer::async_get(store, "Email.SMTPPassword", io.get_executor(), asio::use_future);
  BOOST_TEST(future.get().reveal() == "smtp");
  work.reset();
  runner.join();
}
