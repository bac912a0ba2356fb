// The token cache's single flight, refresh ahead of expiry and error sharing,
// driven by a fake clock and a fake token exchange on a real io_context.
#define BOOST_TEST_MODULE azure_keyvault_token_cache
#include <boost/test/unit_test.hpp>

#include "token_cache.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <string>
#include <vector>

using coffer::provider::Error;
using coffer::provider::SecretBytes;
using namespace coffer::azure;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  asio::io_context io;
  coffer::provider::Host host{nullptr};
  int64_t clock_ms = 1'000'000'000;
  int exchanges = 0;
  bool fail = false;
  int lifetime_s = 600;
  std::chrono::milliseconds exchange_time = 20ms;
  TokenCache cache{[this](const TokenKey &, Deadline) { return exchange(); },
                   [this] { return clock_ms; }, host, 5s};

  asio::awaitable<AccessToken> exchange() {
    int number = ++exchanges;
    asio::steady_timer timer(co_await asio::this_coro::executor, exchange_time);
    co_await timer.async_wait(asio::use_awaitable);
    if (fail) throw Error(COFFER_STATUS_DENIED, "exchange " + std::to_string(number) + " refused");
    AccessToken token;
    token.value = SecretBytes("token-" + std::to_string(number));
    token.obtained_at_ms = clock_ms;
    token.expires_at_ms = clock_ms + lifetime_s * 1000LL;
    token.refresh_at_ms = refresh_time(clock_ms, token.expires_at_ms);
    co_return token;
  }

  struct Outcome {
    std::string token;
    coffer_status status = COFFER_STATUS_OK;
    std::string message;
    bool done = false;
  };

  // Starts one get; its outcome lands in `out` when the io_context runs.
  void start(Outcome &out, const TokenKey &key = {"t", "s"}, std::chrono::milliseconds budget = 5s,
             const AccessToken *stale = nullptr) {
    asio::co_spawn(
        io,
        [this, &out, key, budget, stale]() -> asio::awaitable<void> {
          try {
            auto token = co_await cache.get(key, SteadyClock::now() + budget, stale);
            out.token = std::string(token->value.view());
          } catch (const Error &error) {
            out.status = error.status();
            out.message = error.what();
          }
          out.done = true;
        },
        asio::detached);
  }

  Outcome get(const TokenKey &key = {"t", "s"}) {
    Outcome out;
    start(out, key);
    io.restart();
    io.run();
    return out;
  }

  std::shared_ptr<const AccessToken> current(const TokenKey &key = {"t", "s"}) {
    std::shared_ptr<const AccessToken> token;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          token = co_await cache.get(key, SteadyClock::now() + 5s);
        },
        asio::detached);
    io.restart();
    io.run();
    return token;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_thousand_cold_callers_share_one_exchange, Fixture) {
  std::vector<Outcome> outcomes(1000);
  for (Outcome &outcome : outcomes) start(outcome);
  io.run();
  BOOST_TEST(exchanges == 1);
  BOOST_TEST(cache.fetches() == 1u);
  for (const Outcome &outcome : outcomes) {
    BOOST_TEST(outcome.done);
    BOOST_TEST(outcome.token == "token-1");
  }
  BOOST_TEST(get().token == "token-1");  // cached
  BOOST_TEST(exchanges == 1);
}

BOOST_FIXTURE_TEST_CASE(refreshes_in_the_background_ahead_of_expiry, Fixture) {
  BOOST_TEST(get().token == "token-1");
  clock_ms += 479'000;  // 600 s token: refresh from 480 s (2 minutes ahead)
  BOOST_TEST(get().token == "token-1");
  BOOST_TEST(exchanges == 1);
  clock_ms += 2'000;
  Outcome during;
  start(during);
  io.restart();
  io.run();  // the caller is served at once; the refresh completes in the background
  BOOST_TEST(during.token == "token-1");
  BOOST_TEST(exchanges == 2);
  BOOST_TEST(get().token == "token-2");
}

BOOST_FIXTURE_TEST_CASE(short_tokens_refresh_at_half_life, Fixture) {
  lifetime_s = 10;
  BOOST_TEST(get().token == "token-1");
  clock_ms += 4'000;
  BOOST_TEST(get().token == "token-1");
  BOOST_TEST(exchanges == 1);
  clock_ms += 1'500;
  get();
  BOOST_TEST(exchanges == 2);
}

BOOST_FIXTURE_TEST_CASE(expired_tokens_are_never_handed_out, Fixture) {
  BOOST_TEST(get().token == "token-1");
  clock_ms += 600'000;
  BOOST_TEST(get().token == "token-2");
}

BOOST_FIXTURE_TEST_CASE(a_failed_exchange_fails_every_waiter_once_and_is_not_cached, Fixture) {
  fail = true;
  std::vector<Outcome> outcomes(50);
  for (Outcome &outcome : outcomes) start(outcome);
  io.run();
  BOOST_TEST(exchanges == 1);
  for (const Outcome &outcome : outcomes) {
    BOOST_TEST(outcome.status == COFFER_STATUS_DENIED);
    BOOST_TEST(outcome.message == "exchange 1 refused");
  }
  fail = false;
  BOOST_TEST(get().token == "token-2");
}

BOOST_FIXTURE_TEST_CASE(a_failed_background_refresh_keeps_the_valid_token, Fixture) {
  BOOST_TEST(get().token == "token-1");
  clock_ms += 500'000;
  fail = true;
  BOOST_TEST(get().token == "token-1");  // starts the refresh, which fails
  BOOST_TEST(exchanges == 2);
  BOOST_TEST(get().token == "token-1");  // not retried at once
  BOOST_TEST(exchanges == 2);
  clock_ms += 6'000;
  fail = false;
  get();
  BOOST_TEST(exchanges == 3);
  BOOST_TEST(get().token == "token-3");
}

BOOST_FIXTURE_TEST_CASE(a_refused_token_is_replaced_once_for_all, Fixture) {
  auto first = current();
  BOOST_TEST(std::string(first->value.view()) == "token-1");
  Outcome a, b;
  start(a, {"t", "s"}, 5s, first.get());
  start(b, {"t", "s"}, 5s, first.get());
  io.restart();
  io.run();
  BOOST_TEST(a.token == "token-2");
  BOOST_TEST(b.token == "token-2");
  BOOST_TEST(exchanges == 2);
}

BOOST_FIXTURE_TEST_CASE(tenants_and_scopes_have_their_own_tokens, Fixture) {
  BOOST_TEST(get({"t1", "s"}).token == "token-1");
  BOOST_TEST(get({"t2", "s"}).token == "token-2");
  BOOST_TEST(get({"t1", "s2"}).token == "token-3");
  BOOST_TEST(get({"t1", "s"}).token == "token-1");
}

BOOST_FIXTURE_TEST_CASE(waiting_is_bounded_by_the_deadline, Fixture) {
  exchange_time = 300ms;
  Outcome slow, impatient;
  start(slow);
  start(impatient, {"t", "s"}, 20ms);
  io.run();
  BOOST_TEST(impatient.status == COFFER_STATUS_TIMEOUT);
  BOOST_TEST(slow.token == "token-1");
}

BOOST_FIXTURE_TEST_CASE(shutdown_fails_the_waiters, Fixture) {
  exchange_time = 200ms;
  std::vector<Outcome> outcomes(3);
  for (Outcome &outcome : outcomes) start(outcome);
  asio::steady_timer timer(io, 10ms);
  timer.async_wait([this](boost::system::error_code) { cache.shutdown(); });
  io.run();
  for (const Outcome &outcome : outcomes) {
    BOOST_TEST(outcome.done);
    BOOST_TEST(outcome.status == COFFER_STATUS_UNAVAILABLE);
  }
}
