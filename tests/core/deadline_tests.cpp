// The core's deadlines: a provider that never answers is answered for with
// timeout, for every operation, and its late answer is absorbed. The memory
// provider's "hang" holds operations until "release" or the Store's closing.
#include <coffer/store.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "test_policy.hpp"

using coffer::Code;
using coffer::Result;
using coffer::Store;
using namespace std::chrono_literals;

namespace {

// A policy whose provider `p` holds the operations in `hang` unanswered.
std::string hung_policy(const std::string &hang) {
  return "{\"coffer\": 1, " + coffer::test::plugin_dirs_json() +
         ", \"timeout_ms\": 200, \"providers\": {\"p\": {\"plugin\": \"memory\", \"config\": "
         "{\"values\": {\"Email.SMTPPassword\": \"held-value\"}, \"hang\": [" +
         hang + "]}}}, \"routes\": {\"*\": \"p\"}}";
}

Store open(const std::string &policy) {
  coffer::StoreOptions options;
  options.log_level = coffer::LogLevel::error;
  return Store::from_string(policy, options);
}

// Runs `call` on a thread of its own. A call still running after `limit`
// fails the test; `rescue` then makes the provider answer so that it ends.
template <class Call>
auto within(std::chrono::seconds limit, Call call, const std::function<void()> &rescue) {
  std::packaged_task<decltype(call())()> task(std::move(call));
  auto future = task.get_future();
  std::thread thread(std::move(task));
  if (future.wait_for(limit) != std::future_status::ready) {
    BOOST_ERROR("still waiting after " << limit.count() << " s: no deadline was enforced");
    rescue();
  }
  thread.join();
  return future.get();
}

std::function<void()> release(Store &store) {
  return [&store] { store.admin("p", "release"); };
}

// The value of one sample line of the metrics, or -1 when absent.
double sample(const std::string &text, const std::string &series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

// Runs `call`, which must throw Error(timeout) naming the provider.
template <class Call>
void times_out(Store &store, Call call) {
  std::string message = within(
      10s,
      [&]() -> std::string {
        try {
          call();
        } catch (const coffer::Error &e) {
          BOOST_TEST((e.code() == Code::timeout), e.what());
          return e.what();
        }
        return "no error";
      },
      release(store));
  BOOST_TEST(message.find("provider 'p'") != std::string::npos, message);
  BOOST_TEST(message.find("did not answer within 200 ms") != std::string::npos, message);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(deadlines)

BOOST_AUTO_TEST_CASE(a_blocking_get_from_a_provider_that_never_answers_times_out) {
  Store store = open(hung_policy("\"get\""));
  Result r = within(
      10s, [&] { return store.try_get("Email.SMTPPassword"); }, release(store));
  BOOST_TEST((r.code == Code::timeout), r.message);
  BOOST_TEST(r.message.find("provider 'p': did not answer within 200 ms") != std::string::npos,
             r.message);
  BOOST_TEST(r.secret.empty());
  times_out(store, [&] { (void)store.get("Email.SMTPPassword"); });
  auto metrics = store.metrics();
  BOOST_TEST(sample(metrics, R"(coffer_deadline_exceeded_total{provider="p",operation="get"})") ==
             2);
  BOOST_TEST(sample(metrics, R"(coffer_requests_total{provider="p",category="Email",)"
                             R"(operation="get",outcome="timeout"})") == 2);
}

BOOST_AUTO_TEST_CASE(a_get_options_timeout_overrides_the_policy) {
  Store store = open(hung_policy("\"get\""));
  coffer::GetOptions options;
  options.timeout = 50ms;
  Result r = within(
      10s, [&] { return store.try_get("Email.SMTPPassword", options); }, release(store));
  BOOST_TEST((r.code == Code::timeout), r.message);
  BOOST_TEST(r.message.find("within 50 ms") != std::string::npos, r.message);
}

BOOST_AUTO_TEST_CASE(get_async_handlers_and_every_single_flight_waiter_get_the_timeout) {
  Store store = open(hung_policy("\"get\""));
  constexpr int kWaiters = 4;
  std::vector<std::promise<Result>> promises(kWaiters);
  for (auto &promise : promises)
    store.get_async("Email.SMTPPassword",
                    [&promise](Result r) { promise.set_value(std::move(r)); });
  for (auto &promise : promises) {
    auto future = promise.get_future();
    if (future.wait_for(10s) != std::future_status::ready) {
      BOOST_ERROR("a get_async handler did not run: no deadline was enforced");
      store.admin("p", "release");
    }
    Result r = future.get();
    BOOST_TEST((r.code == Code::timeout), r.message);
  }
  // One fetch for all of them, answered for once.
  auto stats = boost::json::parse(store.admin("p", "stats")).as_object();
  BOOST_TEST(stats.at("gets").as_int64() == 1);
  BOOST_TEST(sample(store.metrics(),
                    R"(coffer_deadline_exceeded_total{provider="p",operation="get"})") == 1);
}

BOOST_AUTO_TEST_CASE(a_timeout_goes_on_along_the_chain) {
  Store store = open("{\"coffer\": 1, " + coffer::test::plugin_dirs_json() +
                     R"(, "timeout_ms": 200, "providers": {
        "p": {"plugin": "memory", "config": {"hang": ["get"]}},
        "q": {"plugin": "memory", "config": {"values": {"Email.SMTPPassword": "from-q"}}}},
      "routes": {"*": ["p", "q"]}})");
  Result r = within(
      10s, [&] { return store.try_get("Email.SMTPPassword"); }, release(store));
  BOOST_TEST(r.ok(), r.message);
  BOOST_TEST(r.provider == "q");
  BOOST_TEST(r.secret.reveal() == "from-q");
  BOOST_TEST(sample(store.metrics(), R"(coffer_fallbacks_total{provider="p",category="Email",)"
                                     R"(outcome="timeout"})") == 1);
}

BOOST_AUTO_TEST_CASE(put_remove_list_health_and_admin_have_deadlines_too) {
  Store store = open(hung_policy(R"("put", "remove", "list", "health", "admin")"));
  times_out(store, [&] {
    (void)store.put("Email.SMTPPassword", coffer::Secret::copy_of(std::string_view("new")));
  });
  times_out(store, [&] { store.remove("Email.SMTPPassword"); });
  times_out(store, [&] { (void)store.list("p"); });
  times_out(store, [&] { (void)store.admin("p", "stats"); });
  coffer::CheckReport report = within(
      60s, [&] { return store.check(); }, release(store));  // health, then every key
  BOOST_TEST_REQUIRE(report.problems.size() == 1u);
  BOOST_TEST(
      report.problems[0].find("provider 'p': did not answer within 200 ms") != std::string::npos,
      report.problems[0]);
  auto metrics = store.metrics();
  for (const char *operation : {"put", "remove", "list", "admin", "health"})
    BOOST_TEST(sample(metrics, std::string(R"(coffer_deadline_exceeded_total{provider="p",)") +
                                   "operation=\"" + operation + "\"}") >= 1,
               operation);
}

BOOST_AUTO_TEST_CASE(a_write_said_to_have_timed_out_says_it_may_still_complete) {
  Store store = open(hung_policy("\"put\""));
  std::string message = within(
      10s,
      [&]() -> std::string {
        try {
          (void)store.put("Email.SMTPPassword", coffer::Secret::copy_of(std::string_view("x")));
        } catch (const coffer::Error &e) {
          return e.what();
        }
        return {};
      },
      release(store));
  BOOST_TEST(message.find("the put may still complete in the provider") != std::string::npos,
             message);
}

BOOST_AUTO_TEST_CASE(a_late_answer_is_counted_and_discarded) {
  Store store = open(hung_policy("\"get\""));
  Result r = within(
      10s, [&] { return store.try_get("Email.SMTPPassword"); }, release(store));
  BOOST_TEST((r.code == Code::timeout), r.message);
  // The held get now answers, with its value, into a call already answered.
  store.admin("p", "release");
  BOOST_TEST(sample(store.metrics(),
                    R"(coffer_late_completions_total{provider="p",operation="get"})") == 1);
  // Nothing of it was cached: the next get asks the provider again.
  auto before = boost::json::parse(store.admin("p", "stats")).as_object().at("gets").as_int64();
  r = within(
      10s, [&] { return store.try_get("Email.SMTPPassword"); }, release(store));
  BOOST_TEST((r.code == Code::timeout), r.message);
  auto after = boost::json::parse(store.admin("p", "stats")).as_object().at("gets").as_int64();
  BOOST_TEST(after == before + 1);
}

BOOST_AUTO_TEST_CASE(a_put_that_lands_after_its_deadline_does_not_leave_the_old_value_cached) {
  Store store = open(hung_policy("\"put\""));
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "held-value");
  std::string message = within(
      10s,
      [&]() -> std::string {
        try {
          (void)store.put("Email.SMTPPassword", coffer::Secret::copy_of(std::string_view("new")));
        } catch (const coffer::Error &e) {
          return e.what();
        }
        return {};
      },
      release(store));
  BOOST_TEST(!message.empty());
  // Read again while the put is still held: the old value is cached again.
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "held-value");
  store.admin("p", "release");  // the put lands
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "new");
}

BOOST_AUTO_TEST_CASE(a_store_closes_while_calls_it_answered_for_are_still_held) {
  // The held calls are answered by the closing Store's cancel, after the
  // core answered them: nothing may be delivered twice or touched after free.
  std::promise<Result> answered;
  {
    Store store = open(hung_policy("\"get\", \"list\""));
    store.get_async("Email.SMTPPassword", [&](Result r) { answered.set_value(std::move(r)); });
    auto future = answered.get_future();
    if (future.wait_for(10s) != std::future_status::ready) {
      BOOST_ERROR("the get_async handler did not run: no deadline was enforced");
      store.admin("p", "release");
    }
    BOOST_TEST((future.get().code == Code::timeout));
    times_out(store, [&] { (void)store.list("p"); });
  }
}

BOOST_AUTO_TEST_CASE(closing_a_store_does_not_wait_forever_for_a_provider_that_ignores_cancel) {
  // The provider answers a held get only 15 s after it was asked to cancel.
  // Closing the Store waits timeout_ms for it, then leaves it open and says
  // so; its late answer reaches a Store that is kept, not freed.
  struct Errors {
    std::mutex mutex;
    std::vector<std::string> lines;
  };
  auto errors = std::make_shared<Errors>();  // the kept Store may still log
  coffer::StoreOptions options;
  options.log = [errors](coffer::LogLevel level, std::string_view line) {
    std::lock_guard lock(errors->mutex);
    if (level == coffer::LogLevel::error) errors->lines.emplace_back(line);
  };
  std::optional<Store> store(Store::from_string(
      "{\"coffer\": 1, " + coffer::test::plugin_dirs_json() +
          R"(, "timeout_ms": 200, "providers": {"p": {"plugin": "memory", "config": {
            "values": {"Email.SMTPPassword": "v"}, "hang": ["get"], "cancel_delay_ms": 15000}}},
          "routes": {"*": "p"}})",
      options));
  Result r = within(
      10s, [&] { return store->try_get("Email.SMTPPassword"); }, release(*store));
  BOOST_TEST((r.code == Code::timeout), r.message);
  // Without a bound the close ends when the provider answers, 15 s later.
  within(
      10s,
      [&] {
        store.reset();
        return 0;
      },
      [] {});
  std::lock_guard lock(errors->mutex);
  BOOST_TEST_REQUIRE(errors->lines.size() == 1u);
  BOOST_TEST(errors->lines[0].find("1 call(s) into providers still unanswered 200 ms after they "
                                   "were asked to cancel") != std::string::npos,
             errors->lines[0]);
}

BOOST_AUTO_TEST_SUITE_END()
