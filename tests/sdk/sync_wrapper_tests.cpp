// What the C++ SDK (provider.hpp) guarantees at the boundary for a
// synchronous provider (coffer::provider::SyncProvider), seen by a host
// through coffer::Store: exceptions thrown by any operation or by the
// constructor cross as statuses and never as exceptions (one that escaped a
// noexcept entry point would end this process).
#define BOOST_TEST_MODULE sdk_sync_wrapper_tests
#include <boost/test/unit_test.hpp>

#include "sdk_test_support.hpp"

using namespace coffer;
using namespace coffer::sdk_test;

BOOST_AUTO_TEST_SUITE(synchronous_provider)

BOOST_AUTO_TEST_CASE(a_value_reaches_the_host) {
  Store store = open_test_plugin("sdk_sync");
  Result r = get(store, "Behaviour.Value");
  BOOST_TEST_REQUIRE(r.ok(), r.message);
  BOOST_TEST(r.secret.reveal() == "sync-value");
  BOOST_TEST(r.secret.version() == "s1");
}

BOOST_AUTO_TEST_CASE(exceptions_from_every_operation_become_statuses) {
  Store store = open_test_plugin("sdk_sync");
  Result denied = get(store, "Behaviour.StatusError");
  BOOST_TEST((denied.code == Code::denied), denied.message);
  BOOST_TEST(contains(denied.message, "sync access to Behaviour.StatusError denied"),
             denied.message);
  Result runtime = get(store, "Behaviour.RuntimeError");
  BOOST_TEST((runtime.code == Code::internal), runtime.message);
  BOOST_TEST(contains(runtime.message, "sync backend exploded reading Behaviour.RuntimeError"),
             runtime.message);
  Result unknown = get(store, "Behaviour.UnknownException");
  BOOST_TEST((unknown.code == Code::internal), unknown.message);

  Failure put = failure_of([&] { (void)store.put("Behaviour.Value", Secret::copy_of("v")); });
  BOOST_TEST((put.code == Code::internal), put.message);
  BOOST_TEST(contains(put.message, "sync put of Behaviour.Value exploded"), put.message);
  Failure remove = failure_of([&] { store.remove("Behaviour.Value"); });
  BOOST_TEST((remove.code == Code::not_found), remove.message);
  BOOST_TEST(contains(remove.message, "nothing to remove at Behaviour.Value"), remove.message);
  Failure list = failure_of([&] { (void)store.list("p"); });
  BOOST_TEST((list.code == Code::internal), list.message);
  BOOST_TEST(contains(list.message, "sync list exploded"), list.message);
  BOOST_TEST(store.admin("p", "ok") == R"({"sync":true})");
  Failure admin = failure_of([&] { (void)store.admin("p", "rotate"); });
  BOOST_TEST((admin.code == Code::denied), admin.message);
  BOOST_TEST(contains(admin.message, "sync admin rotate denied"), admin.message);
}

BOOST_AUTO_TEST_CASE(constructor_exceptions_fail_the_open) {
  Failure status =
      failure_of([] { (void)open_test_plugin("sdk_sync", R"({"open":"status_error"})"); });
  BOOST_TEST((status.code == Code::invalid_config), status.message);
  BOOST_TEST(contains(status.message, "config.open: refused by the sync provider"), status.message);
  Failure runtime = failure_of([] { (void)open_test_plugin("sdk_sync", R"({"open":"other"})"); });
  BOOST_TEST((runtime.code == Code::internal), runtime.message);
  BOOST_TEST(contains(runtime.message, "sync constructor failed"), runtime.message);
}

BOOST_AUTO_TEST_SUITE_END()
