// How the core treats plugins at the ABI boundary: what it loads, what it
// refuses and what it says about a refusal. Every case goes through
// coffer::Store, as a host would see it.
#define BOOST_TEST_MODULE sdk_loading_tests
#include <boost/test/unit_test.hpp>

#include "sdk_test_support.hpp"

using namespace coffer;
using namespace coffer::sdk_test;

BOOST_AUTO_TEST_SUITE(older_table)

// A table that ends after get(): get works, and everything past struct_size
// is unsupported even though the storage behind it holds working functions.
BOOST_AUTO_TEST_CASE(loads_and_serves_get) {
  Store store = open_test_plugin("old_table");
  BOOST_TEST(store.get("Old.Key").reveal() == "value-from-an-old-table");
  Result missing = store.try_get("Old.Missing");
  BOOST_TEST((missing.code == Code::not_found));
}

BOOST_AUTO_TEST_CASE(missing_operations_report_unsupported) {
  Store store = open_test_plugin("old_table");
  Failure put = failure_of([&] { (void)store.put("Old.Key", Secret::copy_of("new")); });
  BOOST_TEST(put.thrown);
  BOOST_TEST((put.code == Code::unsupported), put.message);
  Failure remove = failure_of([&] { store.remove("Old.Key"); });
  BOOST_TEST((remove.code == Code::unsupported), remove.message);
  Failure list = failure_of([&] { (void)store.list("p"); });
  BOOST_TEST((list.code == Code::unsupported), list.message);
  // key_name lies past the table's end: the provider's name is the key.
  BOOST_TEST(store.key_name("Old.Key", "p") == "Old.Key");
  // The value is still there: nothing was written or removed.
  BOOST_TEST(store.get("Old.Key").reveal() == "value-from-an-old-table");
}

BOOST_AUTO_TEST_CASE(capabilities_without_functions_are_dropped) {
  auto plugins = scan_plugins({plugin_dir("old_table")});
  BOOST_TEST_REQUIRE(plugins.size() == 1u);
  BOOST_TEST(plugins[0].loadable, plugins[0].refusal);
  BOOST_TEST(plugins[0].name == "old_table");
  BOOST_TEST(plugins[0].abi_version == (COFFER_ABI_VERSION_MAJOR << 16));
  BOOST_TEST(plugins[0].capabilities == std::vector<std::string>{"get"},
             boost::test_tools::per_element());
}

// A table of ABI 1.3 (before versions() and purge(), and values before
// created_unix_ms) loads, serves get, and reports no history.
BOOST_AUTO_TEST_CASE(a_1_3_table_loads_and_reports_no_history) {
  auto plugins = scan_plugins({plugin_dir("table_1_3")});
  BOOST_TEST_REQUIRE(plugins.size() == 1u);
  BOOST_TEST(plugins[0].loadable, plugins[0].refusal);
  BOOST_TEST(plugins[0].capabilities == std::vector<std::string>{"get"},
             boost::test_tools::per_element());

  Store store = open_test_plugin("table_1_3");
  Secret value = store.get("Old.Key");
  BOOST_TEST(value.reveal() == "value-from-a-1.3-table");
  BOOST_TEST(value.version() == "v1");
  BOOST_TEST(value.created_unix_ms() == 0);  // the field lies past the value's struct_size

  Failure versions = failure_of([&] { (void)store.versions("Old.Key"); });
  BOOST_TEST(versions.thrown);
  BOOST_TEST((versions.code == Code::unsupported), versions.message);
  BOOST_TEST(contains(versions.message, "provider 'p'"), versions.message);
  BOOST_TEST(contains(versions.message, "no version history"), versions.message);
  Failure from = failure_of([&] { (void)store.versions_from("p", "Old.Key"); });
  BOOST_TEST((from.code == Code::unsupported), from.message);
  Failure purge = failure_of([&] { store.purge("Old.Key"); });
  BOOST_TEST((purge.code == Code::unsupported), purge.message);
  BOOST_TEST(contains(purge.message, "provider 'p'"), purge.message);

  auto health = store.health();
  BOOST_TEST_REQUIRE(health.size() == 1u);
  BOOST_TEST(!health[0].has_history);
  BOOST_TEST(!health[0].soft_delete);
  BOOST_TEST(!store.features("p").has_history);
  BOOST_TEST(!store.features("p").soft_delete);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(refusals)

BOOST_AUTO_TEST_CASE(another_major_version_is_refused_naming_both_versions) {
  Failure f = failure_of([] { (void)open_test_plugin("future_major"); });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST((f.code == Code::invalid_config));
  BOOST_TEST(contains(f.message, plugin_file("future_major").string()), f.message);
  BOOST_TEST(contains(f.message, "2.1"), f.message);
  BOOST_TEST(contains(f.message, "1." + std::to_string(COFFER_ABI_VERSION_MINOR)), f.message);
  BOOST_TEST(contains(f.message, "provider 'p'"), f.message);
}

BOOST_AUTO_TEST_CASE(a_null_table_is_refused) {
  Failure f = failure_of([] { (void)open_test_plugin("declines"); });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST((f.code == Code::invalid_config));
  BOOST_TEST(contains(f.message, plugin_file("declines").string()), f.message);
  BOOST_TEST(contains(f.message, "declined"), f.message);
  BOOST_TEST(contains(f.message, "1." + std::to_string(COFFER_ABI_VERSION_MINOR)), f.message);
}

BOOST_AUTO_TEST_CASE(a_shared_object_without_the_entry_is_refused) {
  Failure f = failure_of([] { (void)open_test_plugin("no_entry"); });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST((f.code == Code::invalid_config));
  BOOST_TEST(contains(f.message, plugin_file("no_entry").string()), f.message);
  BOOST_TEST(contains(f.message, "does not export coffer_provider_entry"), f.message);
}

BOOST_AUTO_TEST_CASE(a_missing_plugin_names_the_file_and_the_directories) {
  TempDir dir;
  Failure f = failure_of(
      [&] { (void)Store::from_string(one_provider_policy(dir.path(), "absent"), test_options()); });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST((f.code == Code::invalid_config));
  BOOST_TEST(contains(f.message, "libabsent.so"), f.message);
  BOOST_TEST(contains(f.message, "not found"), f.message);
  BOOST_TEST(contains(f.message, dir.path().string()), f.message);
  BOOST_TEST(contains(f.message, "provider 'p'"), f.message);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_shared_object_is_refused) {
  TempDir dir;
  // Longer than an ELF header, so that the loader reads it as one.
  auto file =
      dir.write("libbogus.so",
                "This is a text file with a plugin's name. It is not an ELF shared object,\n"
                "however long it is and whatever it is called.\n");
  Failure f = failure_of(
      [&] { (void)Store::from_string(one_provider_policy(dir.path(), "bogus"), test_options()); });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST((f.code == Code::invalid_config));
  BOOST_TEST(contains(f.message, file.string()), f.message);
  BOOST_TEST(contains(f.message, "not a loadable shared object"), f.message);
  // The loader's own reason, with the real file name rather than a
  // descriptor path.
  BOOST_TEST(contains(f.message, "invalid ELF header"), f.message);
  BOOST_TEST(!contains(f.message, "/proc/self/fd"), f.message);
}

BOOST_AUTO_TEST_CASE(an_empty_file_is_refused) {
  TempDir dir;
  auto file = dir.write("libempty.so", "");
  Failure f = failure_of(
      [&] { (void)Store::from_string(one_provider_policy(dir.path(), "empty"), test_options()); });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST(contains(f.message, file.string()), f.message);
  BOOST_TEST(contains(f.message, "not a loadable shared object"), f.message);
  BOOST_TEST(contains(f.message, "file too short"), f.message);
}

BOOST_AUTO_TEST_CASE(a_table_with_another_name_is_refused) {
  Failure f = failure_of([] { (void)open_test_plugin("misnamed"); });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST((f.code == Code::invalid_config));
  BOOST_TEST(contains(f.message, plugin_file("misnamed").string()), f.message);
  BOOST_TEST(contains(f.message, "'impostor'"), f.message);
  BOOST_TEST(contains(f.message, "'misnamed'"), f.message);
}

BOOST_AUTO_TEST_CASE(scan_reports_each_refusal_without_throwing) {
  std::vector<std::filesystem::path> dirs;
  for (const char *name : {"future_major", "declines", "no_entry", "misnamed"})
    dirs.push_back(plugin_dir(name));
  auto plugins = scan_plugins(dirs);
  BOOST_TEST_REQUIRE(plugins.size() == 4u);
  for (const auto &info : plugins) BOOST_TEST_CONTEXT(info.file) {
      // The table's name is not checked against the file name by a scan
      // (no policy asks for a name), so only misnamed loads.
      if (info.file.filename() == "libmisnamed.so") {
        BOOST_TEST(info.loadable);
        BOOST_TEST(info.name == "impostor");
      } else {
        BOOST_TEST(!info.loadable);
        BOOST_TEST(contains(info.refusal, info.file.string()), info.refusal);
      }
    }
  BOOST_TEST(contains(plugins[0].refusal, "2.1"), plugins[0].refusal);
  BOOST_TEST(contains(plugins[1].refusal, "declined"), plugins[1].refusal);
  BOOST_TEST(contains(plugins[2].refusal, "coffer_provider_entry"), plugins[2].refusal);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(several_plugins)

// Two different plugin files loaded by one Store must each give their own
// table. The core loads each file through /proc/self/fd/N of the descriptor
// it checked; if it closed N too early, the second file would get the same
// path and the dynamic loader would hand back the first library.
BOOST_AUTO_TEST_CASE(each_provider_gets_its_own_plugin) {
  std::string policy = R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir("old_table")) +
                       ", " + quoted(plugin_dir("sdk_sync")) + R"(],
      "providers": {"old": {"plugin": "old_table"}, "sync": {"plugin": "sdk_sync"}},
      "routes": {"Old": "old", "Behaviour": "sync"}})";
  Failure f = failure_of([&] {
    Store store = Store::from_string(policy, test_options());
    BOOST_TEST(store.get("Old.Key").reveal() == "value-from-an-old-table");
    BOOST_TEST(store.get("Behaviour.Value").reveal() == "sync-value");
  });
  BOOST_TEST(!f.thrown, f.message);
}

// The same across Stores: plugins loaded one after another, each Store gone
// before the next opens.
BOOST_AUTO_TEST_CASE(stores_one_after_another_get_the_right_plugins) {
  for (const char *plugin : {"old_table", "sdk_sync", "old_table", "sdk_sync"}) {
    std::string policy = R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir(plugin)) +
                         R"(], "providers": {"p": {"plugin": ")" + std::string(plugin) +
                         R"("}}, "routes": {"*": "p"}})";
    Failure f = failure_of([&] { Store store = Store::from_string(policy, test_options()); });
    BOOST_TEST(!f.thrown, plugin << ": " << f.message);
  }
}

BOOST_AUTO_TEST_SUITE_END()
