// What the C++ SDK (provider.hpp) guarantees at the boundary for an
// asynchronous provider (coffer::provider::Provider), seen by a host through
// coffer::Store: exceptions thrown by a provider cross as statuses and
// never as exceptions (one that escaped a noexcept entry point would end this
// process), every completion fires exactly once, a dropped one reports
// internal, and completions may be answered from other threads.
#define BOOST_TEST_MODULE sdk_async_wrapper_tests
#include <boost/test/unit_test.hpp>

#include <dlfcn.h>

#include <cstddef>
#include <future>

#include "sdk_test_support.hpp"

using namespace coffer;
using namespace coffer::sdk_test;

BOOST_AUTO_TEST_SUITE(asynchronous_provider)

BOOST_AUTO_TEST_CASE(an_answer_reaches_the_host) {
  Store store = open_test_plugin("sdk_async");
  Result r = get(store, "Behaviour.Value");
  BOOST_TEST_REQUIRE(r.ok(), r.message);
  BOOST_TEST(r.secret.reveal() == "async-value");
  BOOST_TEST(r.secret.version() == "v7");
}

BOOST_AUTO_TEST_CASE(error_with_a_status_keeps_status_and_message) {
  Store store = open_test_plugin("sdk_async");
  Result r = get(store, "Behaviour.StatusError");
  BOOST_TEST((r.code == Code::denied));
  BOOST_TEST(contains(r.message, "access to Behaviour.StatusError denied by the backend"),
             r.message);
}

BOOST_AUTO_TEST_CASE(a_standard_exception_becomes_internal) {
  Store store = open_test_plugin("sdk_async");
  Result r = get(store, "Behaviour.RuntimeError");
  BOOST_TEST((r.code == Code::internal));
  BOOST_TEST(contains(r.message, "backend exploded in get"), r.message);
}

BOOST_AUTO_TEST_CASE(an_exception_of_any_type_becomes_internal) {
  Store store = open_test_plugin("sdk_async");
  Result r = get(store, "Behaviour.UnknownException");
  BOOST_TEST((r.code == Code::internal));
  BOOST_TEST(contains(r.message, "unknown exception"), r.message);
}

BOOST_AUTO_TEST_CASE(a_dropped_completion_reports_internal) {
  Store store = open_test_plugin("sdk_async");
  for (const char *key : {"Behaviour.Dropped", "Behaviour.DroppedOnThread"}) {
    Result r = get(store, key);
    BOOST_TEST((r.code == Code::internal), key);
    BOOST_TEST(contains(r.message, "dropped the request without answering it"), r.message);
  }
}

BOOST_AUTO_TEST_CASE(caller_waits_reaches_the_provider_from_a_blocking_get_only) {
  Store store = open_test_plugin("sdk_async");
  BOOST_TEST(get(store, "Behaviour.CallerWaits").secret.reveal() == "waits");
  std::promise<Result> answered;
  GetOptions fetch;
  fetch.bypass_cache = true;
  store.get_async(
      "Behaviour.CallerWaits", [&](Result r) { answered.set_value(std::move(r)); }, fetch);
  BOOST_TEST(answered.get_future().get().secret.reveal() == "does-not-wait");
}

BOOST_AUTO_TEST_CASE(a_request_of_an_older_core_has_no_flags) {
  // An ABI 1.4 core's request ends before `flags`: whatever lies past its
  // struct_size is not read.
  void *library = ::dlopen(plugin_file("sdk_async").c_str(), RTLD_NOW | RTLD_LOCAL);
  BOOST_TEST_REQUIRE(library != nullptr);
  auto entry =
      reinterpret_cast<coffer_provider_entry_fn>(::dlsym(library, COFFER_PROVIDER_ENTRY_SYMBOL));
  BOOST_TEST_REQUIRE(entry != nullptr);
  const coffer_provider *table = entry(COFFER_ABI_VERSION);
  coffer_host host{};
  host.struct_size = sizeof host;
  host.abi_version = COFFER_ABI_VERSION;
  coffer_open_params params{};
  params.struct_size = sizeof params;
  params.instance_name = "old-core";
  params.config_json = "{}";
  params.config_size = 2;
  coffer_instance *instance = nullptr;
  char error[256] = {0};
  BOOST_TEST_REQUIRE(
      table->open(&host, &params, &instance, error, sizeof error) == COFFER_STATUS_OK, error);
  std::string answer;
  auto read = [](void *context, coffer_status, const coffer_value *value, const char *) {
    auto *text = static_cast<std::string *>(context);
    if (value != nullptr) text->assign(reinterpret_cast<const char *>(value->data), value->size);
  };
  for (const bool old_core : {true, false}) {
    coffer_get_request request{};
    request.struct_size = old_core ? static_cast<uint32_t>(offsetof(coffer_get_request, flags))
                                   : static_cast<uint32_t>(sizeof request);
    request.key = "Behaviour.CallerWaits";
    request.flags = COFFER_GET_CALLER_WAITS;  // past an old core's struct_size
    answer.clear();
    table->get(instance, &request, read, &answer);
    BOOST_TEST(answer == (old_core ? "does-not-wait" : "waits"));
  }
  table->close(instance);
  ::dlclose(library);
}

BOOST_AUTO_TEST_CASE(a_completion_answered_from_another_thread_works) {
  Store store = open_test_plugin("sdk_async");
  for (int i = 0; i < 20; ++i) {
    Result r = get(store, "Behaviour.OtherThread");
    BOOST_TEST_REQUIRE(r.ok(), r.message);
    BOOST_TEST(r.secret.reveal() == "answered-from-another-thread");
  }
  BOOST_TEST(store.put("Behaviour.OtherThread", Secret::copy_of("x")) == "v2");
  BOOST_TEST(store.admin("p", "ok") == R"({"done":true})");
}

BOOST_AUTO_TEST_CASE(a_throw_after_handing_over_the_completion_is_logged_not_answered_twice) {
  LogLines log;
  Store store = open_test_plugin("sdk_async", "{}", &log);
  Result r = get(store, "Behaviour.ThrowAfterMove");
  BOOST_TEST_REQUIRE(r.ok(), r.message);
  BOOST_TEST(r.secret.reveal() == "moved-then-thrown");
  BOOST_TEST(log.contains("thrown after the completion was handed over"));
}

BOOST_AUTO_TEST_CASE(only_the_first_answer_counts) {
  Store store = open_test_plugin("sdk_async");
  Result r = get(store, "Behaviour.Twice");
  BOOST_TEST_REQUIRE(r.ok(), r.message);
  BOOST_TEST(r.secret.reveal() == "first-answer");
}

BOOST_AUTO_TEST_CASE(put_remove_list_admin_exceptions_become_statuses) {
  Store store = open_test_plugin("sdk_async");
  Failure put = failure_of([&] { (void)store.put("Behaviour.Stored", Secret::copy_of("v")); });
  BOOST_TEST((put.code == Code::data_error), put.message);
  BOOST_TEST(contains(put.message, "cannot store Behaviour.Stored"), put.message);

  Failure put_runtime =
      failure_of([&] { (void)store.put("Behaviour.RuntimeError", Secret::copy_of("v")); });
  BOOST_TEST((put_runtime.code == Code::internal), put_runtime.message);
  BOOST_TEST(contains(put_runtime.message, "backend exploded in put"), put_runtime.message);

  Failure remove = failure_of([&] { store.remove("Behaviour.Gone"); });
  BOOST_TEST((remove.code == Code::internal), remove.message);
  BOOST_TEST(contains(remove.message, "backend exploded in remove of Behaviour.Gone"),
             remove.message);

  Failure list = failure_of([&] { (void)store.list("p"); });
  BOOST_TEST((list.code == Code::unavailable), list.message);
  BOOST_TEST(contains(list.message, "the list backend is unreachable"), list.message);

  Failure admin_status = failure_of([&] { (void)store.admin("p", "status_error"); });
  BOOST_TEST((admin_status.code == Code::denied), admin_status.message);
  BOOST_TEST(contains(admin_status.message, "admin needs more rights"), admin_status.message);

  Failure admin_runtime = failure_of([&] { (void)store.admin("p", "runtime_error"); });
  BOOST_TEST((admin_runtime.code == Code::internal), admin_runtime.message);
  BOOST_TEST(contains(admin_runtime.message, "admin exploded"), admin_runtime.message);

  Failure admin_drop = failure_of([&] { (void)store.admin("p", "drop"); });
  BOOST_TEST((admin_drop.code == Code::internal), admin_drop.message);
  BOOST_TEST(contains(admin_drop.message, "without answering"), admin_drop.message);

  Failure admin_unknown = failure_of([&] { (void)store.admin("p", "no_such_command"); });
  BOOST_TEST((admin_unknown.code == Code::unsupported), admin_unknown.message);
}

BOOST_AUTO_TEST_CASE(key_name_exceptions_become_statuses) {
  Store store = open_test_plugin("sdk_async");
  BOOST_TEST(store.key_name("Behaviour.Value", "p") == "async/Behaviour.Value");
  Failure status = failure_of([&] { (void)store.key_name("Behaviour.StatusError", "p"); });
  BOOST_TEST((status.code == Code::invalid_argument), status.message);
  BOOST_TEST(contains(status.message, "has no name here"), status.message);
  Failure runtime = failure_of([&] { (void)store.key_name("Behaviour.RuntimeError", "p"); });
  BOOST_TEST((runtime.code == Code::internal), runtime.message);
  BOOST_TEST(contains(runtime.message, "key_name exploded"), runtime.message);
}

BOOST_AUTO_TEST_CASE(constructor_exceptions_fail_the_open_with_a_status) {
  Failure status =
      failure_of([] { (void)open_test_plugin("sdk_async", R"({"open":"status_error"})"); });
  BOOST_TEST_REQUIRE(status.thrown);
  BOOST_TEST((status.code == Code::invalid_config), status.message);
  BOOST_TEST(contains(status.message, "config.open: refused"), status.message);
  BOOST_TEST(contains(status.message, "provider 'p'"), status.message);

  Failure runtime =
      failure_of([] { (void)open_test_plugin("sdk_async", R"({"open":"runtime_error"})"); });
  BOOST_TEST_REQUIRE(runtime.thrown);
  BOOST_TEST((runtime.code == Code::internal), runtime.message);
  BOOST_TEST(contains(runtime.message, "constructor failed"), runtime.message);

  // An Error that claims success must not make a failed open look good.
  Failure ok_status =
      failure_of([] { (void)open_test_plugin("sdk_async", R"({"open":"ok_status_error"})"); });
  BOOST_TEST_REQUIRE(ok_status.thrown);
  BOOST_TEST((ok_status.code == Code::internal), ok_status.message);

  Failure unknown =
      failure_of([] { (void)open_test_plugin("sdk_async", R"({"open":"unknown_exception"})"); });
  BOOST_TEST_REQUIRE(unknown.thrown);
  BOOST_TEST((unknown.code == Code::internal), unknown.message);
  BOOST_TEST(contains(unknown.message, "unknown exception"), unknown.message);
}

BOOST_AUTO_TEST_CASE(many_concurrent_requests_each_get_one_answer) {
  Store store = open_test_plugin("sdk_async");
  std::vector<std::string> keys;
  for (int i = 0; i < 50; ++i) {
    keys.emplace_back("Behaviour.OtherThread");
    keys.emplace_back("Behaviour.Dropped");
    keys.emplace_back("Behaviour.StatusError");
  }
  GetOptions options;
  options.bypass_cache = true;
  auto results = store.get_many(keys, options);
  BOOST_TEST_REQUIRE(results.size() == keys.size());
  for (std::size_t i = 0; i < results.size(); i += 3) {
    BOOST_TEST(results[i].ok(), results[i].message);
    BOOST_TEST((results[i + 1].code == Code::internal));
    BOOST_TEST((results[i + 2].code == Code::denied));
  }
}

BOOST_AUTO_TEST_SUITE_END()
