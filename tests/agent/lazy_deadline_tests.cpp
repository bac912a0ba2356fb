// A connection's lazy deadline: moving it later costs no timer operation,
// yet it fires at the deadline last set, earlier or later than the one
// before, and never after it is gone.
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>

#include "lazy_deadline.hpp"

using coffer::net::LazyDeadline;
using Clock = LazyDeadline::Clock;
using namespace std::chrono_literals;

namespace {

// Runs `loop` until `fired` is set or `limit` passes; returns when it fired.
std::optional<Clock::time_point> run_until_fired(boost::asio::io_context &loop,
                                                 const std::optional<Clock::time_point> &fired,
                                                 std::chrono::milliseconds limit) {
  auto end = Clock::now() + limit;
  while (!fired && Clock::now() < end) {
    loop.run_for(5ms);
    loop.restart();
  }
  return fired;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(deadline)

BOOST_AUTO_TEST_CASE(a_deadline_moved_later_fires_at_the_later_time) {
  boost::asio::io_context loop;
  std::optional<Clock::time_point> fired;
  LazyDeadline deadline(loop.get_executor(), [&] { fired = Clock::now(); });
  auto start = Clock::now();
  deadline.set(start + 50ms);
  deadline.set(start + 200ms);  // as each keep-alive request does
  BOOST_REQUIRE(run_until_fired(loop, fired, 2s).has_value());
  BOOST_TEST((*fired - start >= 200ms));
  BOOST_TEST(deadline.expired());
}

BOOST_AUTO_TEST_CASE(a_deadline_brought_earlier_fires_at_the_earlier_time) {
  boost::asio::io_context loop;
  std::optional<Clock::time_point> fired;
  LazyDeadline deadline(loop.get_executor(), [&] { fired = Clock::now(); });
  auto start = Clock::now();
  deadline.set(start + 10s);
  deadline.set(start + 50ms);
  BOOST_REQUIRE(run_until_fired(loop, fired, 2s).has_value());
  BOOST_TEST((*fired - start >= 50ms));
  BOOST_TEST((*fired - start < 5s));
}

BOOST_AUTO_TEST_CASE(setting_a_new_deadline_clears_expired) {
  boost::asio::io_context loop;
  std::optional<Clock::time_point> fired;
  LazyDeadline deadline(loop.get_executor(), [&] { fired = Clock::now(); });
  deadline.set(Clock::now() + 10ms);
  BOOST_REQUIRE(run_until_fired(loop, fired, 2s).has_value());
  BOOST_TEST(deadline.expired());
  fired.reset();
  deadline.set(Clock::now() + 10s);
  BOOST_TEST(!deadline.expired());
  loop.run_for(50ms);
  BOOST_TEST(!fired.has_value());
}

BOOST_AUTO_TEST_CASE(a_deadline_gone_never_fires) {
  boost::asio::io_context loop;
  bool fired = false;
  {
    LazyDeadline deadline(loop.get_executor(), [&] { fired = true; });
    deadline.set(Clock::now() + 10ms);
  }
  loop.run_for(100ms);
  BOOST_TEST(!fired);
}

BOOST_AUTO_TEST_SUITE_END()
