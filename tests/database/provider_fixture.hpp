// Opening the database plugin (through its C ABI, tests/support/plugin_harness.hpp)
// on a TestStore.
#ifndef COFFER_TESTS_DATABASE_PROVIDER_FIXTURE_HPP
#define COFFER_TESTS_DATABASE_PROVIDER_FIXTURE_HPP

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>

#include "db_test_support.hpp"
// plugin_harness.hpp trips -Wshadow (a lambda's local named like the caller's).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#include "plugin_harness.hpp"
#pragma GCC diagnostic pop

namespace coffer::database::test {

using coffer::test::Instance;
using coffer::test::Outcome;

inline coffer::test::Plugin &plugin() {
  static coffer::test::Plugin loaded("database");
  return loaded;
}

inline std::unique_ptr<Instance> open_instance(const std::string &config,
                                               const std::string &base_directory = {}) {
  auto instance = std::make_unique<Instance>(plugin(), config, base_directory);
  BOOST_REQUIRE_MESSAGE(instance->opened(), "open failed: " << instance->open_error());
  return instance;
}

// Opens and runs `init`.
inline std::unique_ptr<Instance> open_initialised(const std::string &config,
                                                  const std::string &init_arguments = "{}") {
  auto instance = open_instance(config);
  Outcome init = instance->admin("init", init_arguments);
  BOOST_REQUIRE_MESSAGE(init.ok(), "init failed: " << init.message);
  return instance;
}

inline boost::json::object parse_object(const std::string &json) {
  return boost::json::parse(json).as_object();
}

inline void require_put(Instance &db, const std::string &key, const std::string &value) {
  Outcome put = db.put(key, value);
  BOOST_REQUIRE_MESSAGE(put.ok(), "put " << key << " failed: " << put.message);
}

inline std::string require_get(Instance &db, const std::string &key,
                               const char *version = nullptr) {
  Outcome got = db.get(key, version);
  BOOST_REQUIRE_MESSAGE(got.ok(), "get " << key << " failed: " << got.message);
  return got.value;
}

}  // namespace coffer::database::test

#endif  // COFFER_TESTS_DATABASE_PROVIDER_FIXTURE_HPP
