// The ownership rules for the SQLite store's files and the master key file:
// whoever could write a directory on the way, owns one of the files, or put a
// link among the store's companion files must not be able to read, swap or
// redirect the store (docs/security.md, "Files that hold secrets").
#define BOOST_TEST_MODULE database_file_rules
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "other_owner.hpp"
#include "provider_fixture.hpp"

using namespace coffer::database;
using namespace coffer::database::test;
using coffer::test::give_to_other_user;
using coffer::test::running_as_root;

namespace {

// A store with one value, and the instance that wrote it closed.
struct Written {
  TestStore store{Backend::sqlite};
  Written() {
    auto db = open_initialised(store.file_config());
    require_put(*db, "VCS.GithubAdminPAT", "value");
  }
  [[nodiscard]] fs::path store_directory() const { return store.sqlite_file().parent_path(); }
};

// A fresh instance's get, refused with DENIED, naming `culprit` and `rule`.
void expect_refused(const Written &written, const fs::path &culprit, const std::string &rule) {
  auto db = open_instance(written.store.file_config());
  Outcome got = db->get("VCS.GithubAdminPAT");
  BOOST_TEST(got.status == COFFER_STATUS_DENIED);
  BOOST_TEST(contains(got.message, "'" + culprit.string() + "'"), got.message);
  BOOST_TEST(contains(got.message, rule), got.message);
  BOOST_TEST(got.value.empty());
}

void expect_readable(const Written &written) {
  auto db = open_instance(written.store.file_config());
  BOOST_TEST(require_get(*db, "VCS.GithubAdminPAT") == "value");
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_store_directory_its_group_or_others_may_write_is_refused) {
  Written written;
  for (mode_t open_mode : {0770, 0703, 01777}) {
    ::chmod(written.store_directory().c_str(), open_mode);
    expect_refused(written, written.store_directory(), "is writable by");
  }
  ::chmod(written.store_directory().c_str(), 0700);
  expect_readable(written);
}

BOOST_AUTO_TEST_CASE(a_store_file_others_may_write_is_refused) {
  Written written;
  ::chmod(written.store.sqlite_file().c_str(), 0606);
  expect_refused(written, written.store.sqlite_file(), "chmod 600");
  ::chmod(written.store.sqlite_file().c_str(), 0600);
  expect_readable(written);
}

BOOST_AUTO_TEST_CASE(a_companion_file_that_is_a_link_is_refused_and_its_target_kept) {
  Written written;
  const fs::path victim = written.store.dir() / "victim";
  std::ofstream(victim) << "not a write-ahead log\n";
  for (const char *suffix : {"-wal", "-journal", "-shm"}) {
    const fs::path companion = written.store.sqlite_file().string() + suffix;
    fs::remove(companion);
    fs::create_symlink(victim, companion);
    expect_refused(written, companion, "is a symbolic link");
    fs::remove(companion);
  }
  std::ifstream in(victim);
  std::string line;
  std::getline(in, line);
  BOOST_TEST(line == "not a write-ahead log");
  expect_readable(written);
}

BOOST_AUTO_TEST_CASE(store_files_owned_by_another_user_are_refused,
                     *boost::unit_test::precondition(running_as_root)) {
  Written written;
  give_to_other_user(written.store.sqlite_file());
  expect_refused(written, written.store.sqlite_file(), "is owned by uid 65534");
  BOOST_REQUIRE(::chown(written.store.sqlite_file().c_str(), 0, 0) == 0);

  const fs::path wal = written.store.sqlite_file().string() + "-wal";
  std::ofstream(wal).flush();
  give_to_other_user(wal);
  expect_refused(written, wal, "is owned by uid 65534");
  fs::remove(wal);

  give_to_other_user(written.store_directory());
  expect_refused(written, written.store_directory(), "is owned by uid 65534");
  BOOST_REQUIRE(::chown(written.store_directory().c_str(), 0, 0) == 0);
  expect_readable(written);
}

BOOST_AUTO_TEST_CASE(init_creates_no_store_in_a_directory_others_may_write) {
  TestStore store(Backend::sqlite);
  fs::create_directories(store.sqlite_file().parent_path());
  ::chmod(store.sqlite_file().parent_path().c_str(), 0777);
  auto db = open_instance(store.file_config());
  Outcome init = db->admin("init");
  BOOST_TEST(init.status == COFFER_STATUS_DENIED);
  BOOST_TEST(contains(init.message, "'" + store.sqlite_file().parent_path().string() + "'"),
             init.message);
  BOOST_TEST(!fs::exists(store.sqlite_file()));
}

BOOST_AUTO_TEST_CASE(a_master_key_in_a_directory_others_may_write_is_refused) {
  Written written;
  const fs::path keys = written.store.key_file().parent_path();
  ::chmod(keys.c_str(), 0777);
  Instance refused(plugin(), written.store.file_config(), "");
  BOOST_TEST(refused.open_status() == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(refused.open_error(), "master_key.file"), refused.open_error());
  BOOST_TEST(
      contains(refused.open_error(), "'" + keys.string() + "' is writable by its group and others"),
      refused.open_error());
  ::chmod(keys.c_str(), 0700);
  expect_readable(written);
}
