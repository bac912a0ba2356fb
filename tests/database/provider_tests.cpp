// The database provider through its C ABI: storage operations, versions and
// history, names, errors. Runs against the backend in COFFER_DB_BACKEND.
#define BOOST_TEST_MODULE database_provider
#include <boost/test/unit_test.hpp>

#include <openssl/crypto.h>

#include <future>
#include <set>
#include <thread>

#include "crypto/aead.hpp"

#include "provider_fixture.hpp"

using namespace coffer::database::test;

BOOST_AUTO_TEST_CASE(table_declares_the_operations) {
  const coffer_provider *table = plugin().table();
  BOOST_TEST(std::string(table->name) == "database");
  for (uint64_t cap :
       {COFFER_CAP_GET, COFFER_CAP_PUT, COFFER_CAP_REMOVE, COFFER_CAP_LIST, COFFER_CAP_HEALTH,
        COFFER_CAP_VERSIONS, COFFER_CAP_KEY_NAME, COFFER_CAP_ADMIN, COFFER_CAP_HISTORY})
    BOOST_TEST((table->capabilities & cap) != 0, "capability " << cap);
  // A remove deletes every version for good: nothing is left to purge.
  BOOST_TEST((table->capabilities & COFFER_CAP_SOFT_DELETE) == 0u);
  BOOST_TEST(table->purge == nullptr);
}

BOOST_AUTO_TEST_CASE(an_uninitialised_store_opens_and_says_to_run_init) {
  TestStore store;
  auto db = open_instance(store.file_config());
  for (Outcome outcome :
       {db->get("VCS.GithubAdminPAT"), db->put("VCS.GithubAdminPAT", "x"), db->health()}) {
    // Unavailable, not a configuration error: a host must still load the
    // policy so that `coffer db init` can run through it.
    BOOST_TEST(outcome.status == COFFER_STATUS_UNAVAILABLE);
    BOOST_TEST(contains(outcome.message, "coffer db init"), outcome.message);
  }
  if (store.which() == Backend::sqlite) BOOST_TEST(!fs::exists(store.sqlite_file()));
}

BOOST_AUTO_TEST_CASE(init_creates_the_store_and_a_private_master_key_file) {
  TestStore store;
  ::umask(022);  // what SQLite and naive code would use to create 0644 files
  auto db = open_instance(store.file_config());
  Outcome init = db->admin("init");
  BOOST_REQUIRE_MESSAGE(init.ok(), init.message);
  auto result = parse_object(init.result);
  BOOST_TEST(result.at("created").as_bool());
  BOOST_TEST(result.at("master_key_file_created").as_bool());
  BOOST_TEST(result.at("master_key").as_string() == "file");
  BOOST_TEST(result.at("schema_version").as_int64() == 3);
  BOOST_TEST(result.at("store_id").as_string().size() == 32u);

  BOOST_TEST(file_mode(store.key_file()) == 0600u);
  BOOST_TEST(fs::file_size(store.key_file()) == 32u);
  BOOST_TEST(file_mode(store.key_file().parent_path()) == 0700u);
  require_put(*db, "VCS.GithubAdminPAT", "ghp_value");
  if (store.which() == Backend::sqlite) {
    for (const char *suffix : {"", "-wal", "-shm"}) {
      fs::path file = store.sqlite_file().string() + suffix;
      BOOST_TEST(fs::exists(file), file);
      BOOST_TEST(file_mode(file) == 0600u, file);
    }
    BOOST_TEST(store.query("PRAGMA journal_mode")[0] == "wal");
  }

  // A second init keeps the store (and says so).
  auto again = open_instance(store.file_config());
  Outcome second = again->admin("init");
  BOOST_REQUIRE_MESSAGE(second.ok(), second.message);
  BOOST_TEST(!parse_object(second.result).at("created").as_bool());
  BOOST_TEST(!parse_object(second.result).at("master_key_file_created").as_bool());
  BOOST_TEST(parse_object(second.result).at("store_id") == result.at("store_id"));
  BOOST_TEST(require_get(*again, "VCS.GithubAdminPAT") == "ghp_value");
}

BOOST_AUTO_TEST_CASE(init_never_replaces_a_lost_master_key_of_an_initialised_store) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "VCS.GithubAdminPAT", "ghp");
  fs::rename(store.key_file(), store.key_file("moved.key"));
  auto again = open_instance(store.file_config());
  Outcome init = again->admin("init");
  BOOST_TEST(init.status == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(init.message, "restore the master key file"), init.message);
  BOOST_TEST(!fs::exists(store.key_file()));
  fs::rename(store.key_file("moved.key"), store.key_file());
  BOOST_TEST(require_get(*open_instance(store.file_config()), "VCS.GithubAdminPAT") == "ghp");
}

BOOST_AUTO_TEST_CASE(put_makes_versions_and_get_reads_any_of_them) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  Outcome first = db->put("Email.SMTPPassword", "one");
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(first.version == "1");
  Outcome second = db->put("Email.SMTPPassword", "two");
  BOOST_TEST(second.version == "2");

  Outcome latest = db->get("Email.SMTPPassword");
  BOOST_REQUIRE(latest.ok());
  BOOST_TEST(latest.value == "two");
  BOOST_TEST(latest.version == "2");
  BOOST_TEST(require_get(*db, "Email.SMTPPassword", "1") == "one");
  // Reading again gives the same version id; a put changes it.
  BOOST_TEST(db->get("Email.SMTPPassword").version == "2");

  Outcome missing_version = db->get("Email.SMTPPassword", "3");
  BOOST_TEST(missing_version.status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(contains(missing_version.message, "Email.SMTPPassword"));
  BOOST_TEST(db->get("Email.Unknown").status == COFFER_STATUS_NOT_FOUND);
  for (const char *bad : {"abc", "0", "-1", "1.5", "99999999999999999999999"})
    BOOST_TEST(db->get("Email.SMTPPassword", bad).status == COFFER_STATUS_INVALID_ARGUMENT, bad);

  require_put(*db, "VCS.GithubAdminPAT", "ghp");
  Outcome list = db->list();
  BOOST_REQUIRE(list.ok());
  BOOST_REQUIRE(list.entries.size() == 2u);
  BOOST_TEST(list.entries[0].key == "Email.SMTPPassword");
  BOOST_TEST(list.entries[0].name == "Email.SMTPPassword");
  BOOST_TEST(list.entries[0].version == "2");
  BOOST_TEST(list.entries[1].key == "VCS.GithubAdminPAT");
}

BOOST_AUTO_TEST_CASE(history_keeps_the_configured_number_of_versions) {
  TestStore store;
  auto db = open_initialised(store.file_config(", \"history\": 3"));
  for (int i = 1; i <= 5; ++i)
    require_put(*db, "CIAdmin.JenkinsTriggerAuthToken", "v" + std::to_string(i));
  for (const char *gone : {"1", "2"})
    BOOST_TEST(db->get("CIAdmin.JenkinsTriggerAuthToken", gone).status == COFFER_STATUS_NOT_FOUND);
  for (int kept = 3; kept <= 5; ++kept)
    BOOST_TEST(require_get(*db, "CIAdmin.JenkinsTriggerAuthToken", std::to_string(kept).c_str()) ==
               "v" + std::to_string(kept));
  BOOST_TEST(store.query("SELECT count(*) FROM coffer_records")[0] == "3");
}

BOOST_AUTO_TEST_CASE(default_history_is_ten) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  for (int i = 1; i <= 12; ++i) require_put(*db, "VCS.AzureAuthSecret", std::to_string(i));
  BOOST_TEST(db->get("VCS.AzureAuthSecret", "2").status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(require_get(*db, "VCS.AzureAuthSecret", "3") == "3");
}

BOOST_AUTO_TEST_CASE(remove_deletes_every_version_and_versions_never_repeat) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "Marketplace.ImportCDNPassword", "a");
  require_put(*db, "Marketplace.ImportCDNPassword", "b");
  BOOST_TEST(db->remove("Marketplace.ImportCDNPassword").ok());
  BOOST_TEST(db->get("Marketplace.ImportCDNPassword").status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(db->get("Marketplace.ImportCDNPassword", "1").status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(db->list().entries.empty());
  BOOST_TEST(db->remove("Marketplace.ImportCDNPassword").status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(store.query("SELECT count(*) FROM coffer_records")[0] == "0");
  // A new value after a removal gets a version never used for this key, so
  // that subscribers see a change.
  Outcome again = db->put("Marketplace.ImportCDNPassword", "c");
  BOOST_TEST(again.version == "3");
  BOOST_TEST(require_get(*db, "Marketplace.ImportCDNPassword") == "c");
}

BOOST_AUTO_TEST_CASE(versions_list_the_kept_history_newest_first_with_times) {
  TestStore store;
  auto db = open_initialised(store.file_config(", \"history\": 3"));
  auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  int64_t before = now_ms();
  for (int i = 1; i <= 4; ++i) require_put(*db, "Email.SMTPPassword", "v" + std::to_string(i));
  int64_t after = now_ms();
  Outcome versions = db->versions("Email.SMTPPassword");
  BOOST_REQUIRE(versions.ok());
  BOOST_REQUIRE(versions.versions.size() == 3u);  // history 3: version 1 is gone
  const char *expected[] = {"4", "3", "2"};
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(versions.versions[i].version == expected[i]);
    BOOST_TEST(versions.versions[i].enabled);
    // coffer_records.created_at is in milliseconds since the Unix epoch.
    BOOST_TEST(versions.versions[i].created_unix_ms >= before);
    BOOST_TEST(versions.versions[i].created_unix_ms <= after);
  }
  // A get says when its version was written, the same time versions() gives.
  Outcome latest = db->get("Email.SMTPPassword");
  BOOST_TEST(latest.created_unix_ms == versions.versions[0].created_unix_ms);
  Outcome older = db->get("Email.SMTPPassword", "2");
  BOOST_TEST(older.created_unix_ms == versions.versions[2].created_unix_ms);
  BOOST_TEST(store.query("SELECT created_at FROM coffer_records WHERE version = 4")[0] ==
             std::to_string(versions.versions[0].created_unix_ms));

  Outcome unknown = db->versions("Email.Unknown");
  BOOST_TEST(unknown.status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(contains(unknown.message, "Email.Unknown"), unknown.message);
  BOOST_TEST(db->versions("not canonical").status == COFFER_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(db->remove("Email.SMTPPassword").ok());
  BOOST_TEST(db->versions("Email.SMTPPassword").status == COFFER_STATUS_NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(keys_must_be_canonical) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  BOOST_TEST(db->key_name("VCS.GithubAdminPAT").value_or("") == "VCS.GithubAdminPAT");
  for (const char *bad : {"VCS", "VCS.", ".Name", "VCS.Github.Admin", "1VCS.X", "VCS.X-Y",
                          "VCS.X Y", "VCS.X'; DROP TABLE coffer_records; --"}) {
    std::string error;
    BOOST_TEST(!db->key_name(bad, &error).has_value(), bad);
    BOOST_TEST(db->put(bad, "x").status == COFFER_STATUS_INVALID_ARGUMENT, bad);
    Outcome got = db->get(bad);
    BOOST_TEST(got.status == COFFER_STATUS_INVALID_ARGUMENT, bad);
    BOOST_TEST(contains(got.message, "canonical"), got.message);
  }
}

BOOST_AUTO_TEST_CASE(values_are_bytes_of_any_kind_up_to_one_mebibyte) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  const std::string binary("\0\x01\xff\n\r\"'\\x", 9);
  require_put(*db, "OCIRegistry.PrivateRegistryPassword", binary);
  BOOST_TEST(require_get(*db, "OCIRegistry.PrivateRegistryPassword") == binary);
  require_put(*db, "OCIRegistry.S3CompatibleAccessKey", "");
  Outcome empty = db->get("OCIRegistry.S3CompatibleAccessKey");
  BOOST_TEST(empty.ok());
  BOOST_TEST(empty.value.empty());
  std::string big(1 << 20, 'x');
  require_put(*db, "BuildCluster.KubernetesConfigureToken", big);
  BOOST_TEST(require_get(*db, "BuildCluster.KubernetesConfigureToken") == big);
  BOOST_TEST(db->put("BuildCluster.KubernetesConfigureToken", big + "x").status ==
             COFFER_STATUS_INVALID_ARGUMENT);
}

BOOST_AUTO_TEST_CASE(health_describes_the_store) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  Outcome health = db->health();
  BOOST_TEST(health.ok(), health.message);
  BOOST_TEST(contains(health.message, "initialised"), health.message);
  BOOST_TEST(contains(health.message, "schema version 3"), health.message);
}

BOOST_AUTO_TEST_CASE(a_wrong_master_key_is_a_clear_error_and_never_a_value) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "VCS.GithubAdminPAT", "ghp_right");
  // Another key of the right form.
  coffer::database::Bytes key = coffer::database::random_bytes(32);
  {
    std::ofstream out(store.key_file("wrong.key"), std::ios::binary);
    out.write(reinterpret_cast<const char *>(key.data()), static_cast<std::streamsize>(key.size()));
  }
  fs::permissions(store.key_file("wrong.key"), fs::perms::owner_read | fs::perms::owner_write);
  auto wrong = open_instance(store.file_config({}, "wrong.key"));
  for (Outcome outcome :
       {wrong->get("VCS.GithubAdminPAT"), wrong->put("VCS.GithubAdminPAT", "x"), wrong->health()}) {
    BOOST_TEST(outcome.status == COFFER_STATUS_DATA_ERROR);
    BOOST_TEST(contains(outcome.message, "the master key does not match this store"),
               outcome.message);
    BOOST_TEST(outcome.value.empty());
  }
  // The same through an environment variable.
  ::setenv("COFFER_TEST_WRONG_KEY", coffer::database::to_hex(key).c_str(), 1);
  auto from_env = open_instance(store.config("{\"env\": \"COFFER_TEST_WRONG_KEY\"}"));
  BOOST_TEST(contains(from_env->get("VCS.GithubAdminPAT").message,
                      "the master key does not match this store"));
  // The right key still works.
  BOOST_TEST(require_get(*db, "VCS.GithubAdminPAT") == "ghp_right");
}

BOOST_AUTO_TEST_CASE(a_key_in_an_environment_variable) {
  TestStore store;
  coffer::database::Bytes key = coffer::database::random_bytes(32);
  ::setenv("COFFER_TEST_ENV_KEY", coffer::database::to_hex(key).c_str(), 1);
  auto db = open_initialised(store.config("{\"env\": \"COFFER_TEST_ENV_KEY\"}"));
  require_put(*db, "ClusterManager.KubernetesApiToken", "token");
  auto again = open_instance(store.config("{\"env\": \"COFFER_TEST_ENV_KEY\"}"));
  BOOST_TEST(require_get(*again, "ClusterManager.KubernetesApiToken") == "token");
  ::unsetenv("COFFER_TEST_UNSET_KEY");
  coffer::test::Instance unset(plugin(), store.config("{\"env\": \"COFFER_TEST_UNSET_KEY\"}"));
  BOOST_TEST(unset.open_status() == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(unset.open_error(), "master_key.env"), unset.open_error());
}

BOOST_AUTO_TEST_CASE(a_passphrase_through_scrypt) {
  TestStore store;
  ::setenv("COFFER_TEST_PASSPHRASE", "correct horse battery staple", 1);
  const std::string source = "{\"passphrase_env\": \"COFFER_TEST_PASSPHRASE\"}";
  auto db = open_instance(store.config(source));
  // Too weak a cost is refused.
  BOOST_TEST(db->admin("init", R"({"scrypt": {"n": 16384}})").status ==
             COFFER_STATUS_INVALID_ARGUMENT);
  Outcome init = db->admin("init", R"({"scrypt": {"n": 32768, "r": 8, "p": 1}})");
  BOOST_REQUIRE_MESSAGE(init.ok(), init.message);
  BOOST_TEST(parse_object(init.result).at("master_key").as_string() == "passphrase_env");
  require_put(*db, "ClusterSettings.GrafanaAPIKey", "grafana");
  // The parameters and salt are stored; the passphrase and key are not.
  BOOST_TEST(store.query("SELECT scrypt_n FROM coffer_master_keys")[0] == "32768");
  BOOST_TEST(store.query("SELECT kind FROM coffer_master_keys")[0] == "passphrase");

  auto again = open_instance(store.config(source));
  BOOST_TEST(require_get(*again, "ClusterSettings.GrafanaAPIKey") == "grafana");
  ::setenv("COFFER_TEST_PASSPHRASE", "incorrect horse", 1);
  auto wrong = open_instance(store.config(source));
  Outcome refused = wrong->get("ClusterSettings.GrafanaAPIKey");
  BOOST_TEST(refused.status == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(contains(refused.message, "the master key does not match this store"));
  // A key file where the store was made with a passphrase: named as such, and
  // init creates no key file for an initialised store.
  auto file = open_instance(store.file_config());
  BOOST_TEST(file->admin("init").status == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(!fs::exists(store.key_file()));
  Outcome mismatch = file->get("ClusterSettings.GrafanaAPIKey");
  BOOST_TEST(mismatch.status == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(contains(mismatch.message, "initialised with a passphrase"), mismatch.message);
}

BOOST_AUTO_TEST_CASE(many_threads_write_one_key_without_losing_a_version) {
  TestStore store;
  auto db = open_initialised(store.file_config(", \"history\": 1000"));
  constexpr int threads = 4, each = 25;
  std::vector<std::thread> workers;
  std::vector<std::vector<std::string>> versions(threads);
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < each; ++i) {
        Outcome put = db->put("CIAdmin.AzureBlobStorageToken", "t" + std::to_string(t));
        if (put.ok()) versions[t].push_back(put.version);
        Outcome got = db->get("CIAdmin.AzureBlobStorageToken");
        if (!got.ok() || got.value.size() != 2) versions[t].push_back("bad read: " + got.message);
      }
    });
  for (auto &worker : workers) worker.join();
  std::set<std::string> all;
  for (const auto &list : versions)
    for (const auto &version : list) {
      BOOST_TEST(!contains(version, "bad"), version);
      all.insert(version);
    }
  BOOST_TEST(all.size() == static_cast<std::size_t>(threads * each));
  BOOST_TEST(db->get("CIAdmin.AzureBlobStorageToken").version == std::to_string(threads * each));
}

BOOST_AUTO_TEST_CASE(relative_sqlite_paths_resolve_against_the_policy_directory) {
  if (backend() != Backend::sqlite) return;
  TestStore store;
  const std::string config =
      R"({"url": "sqlite:data/credentials.db", "master_key": {"file": "keys/master.key"}})";
  auto db = std::make_unique<Instance>(plugin(), config, store.dir().string());
  BOOST_REQUIRE_MESSAGE(db->opened(), db->open_error());
  BOOST_REQUIRE_MESSAGE(db->admin("init").ok(), "init");
  require_put(*db, "VCS.GitlabAdminPAT", "glpat");
  BOOST_TEST(fs::exists(store.dir() / "data" / "credentials.db"));
  BOOST_TEST(fs::exists(store.dir() / "keys" / "master.key"));
  // Without a policy directory a relative path is a configuration error.
  Instance rootless(plugin(), config);
  BOOST_TEST(rootless.open_status() == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(rootless.open_error(), "url"), rootless.open_error());
}

// A get runs on the caller's thread when the caller waits anyway
// (COFFER_GET_CALLER_WAITS), and completes before get() returns; without it,
// PostgreSQL's get answers from a worker thread (SQLite's always inline).
BOOST_AUTO_TEST_CASE(a_get_whose_caller_waits_runs_on_the_callers_thread) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "VCS.GithubAdminPAT", "ghp_where");
  struct Answer {
    std::promise<void> done;
    std::thread::id thread;
    std::string value;
  };
  for (const bool waits : {true, false}) {
    BOOST_TEST_CONTEXT("caller waits " << waits) {
      coffer_get_request request{};
      request.struct_size = sizeof request;
      request.key = "VCS.GithubAdminPAT";
      request.flags = waits ? COFFER_GET_CALLER_WAITS : 0u;
      Answer answer;
      auto finished = answer.done.get_future();
      db->table()->get(
          db->raw(), &request,
          [](void *raw, coffer_status status, const coffer_value *got, const char *) {
            auto *a = static_cast<Answer *>(raw);
            a->thread = std::this_thread::get_id();
            if (status == COFFER_STATUS_OK)
              a->value.assign(reinterpret_cast<const char *>(got->data), got->size);
            a->done.set_value();
          },
          &answer);
      const bool answered_in_call =
          finished.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
      finished.wait();
      BOOST_TEST(answer.value == "ghp_where");
      const bool on_caller = answer.thread == std::this_thread::get_id();
      const bool inline_expected = waits || backend() == Backend::sqlite;
      BOOST_TEST(on_caller == inline_expected);
      if (inline_expected) BOOST_TEST(answered_in_call);
    }
  }
}

// A get answered on the caller's thread still ends at its deadline when
// PostgreSQL does not answer (here: another session holds an exclusive lock
// on the tables), its statement ends on the server too, and the instance
// serves again once the server does.
BOOST_AUTO_TEST_CASE(a_get_on_the_callers_thread_still_ends_at_its_deadline) {
  if (backend() != Backend::postgres) return;
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "VCS.GithubAdminPAT", "ghp_deadline");
  store.exec("BEGIN");
  store.exec("LOCK TABLE coffer_keys, coffer_records IN ACCESS EXCLUSIVE MODE");
  // The lock goes when the get has returned and its statement has gone, or
  // after 10 s (so that a get that ignored its deadline fails this test
  // instead of hanging it).
  std::promise<void> returned;
  std::thread releaser([&store, done = returned.get_future()] {
    done.wait_for(std::chrono::seconds(10));
    store.exec("ROLLBACK");
  });
  struct Answer {
    bool called = false;
    coffer_status status = COFFER_STATUS_OK;
    std::string message;
  } answer;
  coffer_get_request request{};
  request.struct_size = sizeof request;
  request.key = "VCS.GithubAdminPAT";
  request.timeout_ms = 300;
  request.flags = COFFER_GET_CALLER_WAITS;
  const auto start = std::chrono::steady_clock::now();
  db->table()->get(
      db->raw(), &request,
      [](void *raw, coffer_status status, const coffer_value *, const char *message) {
        auto *a = static_cast<Answer *>(raw);
        a->called = true;
        a->status = status;
        if (message != nullptr) a->message = message;
      },
      &answer);
  const auto waited = std::chrono::steady_clock::now() - start;
  // The abandoned statement does not wait on for the lock: the server sees
  // its client gone (client_connection_check_interval) and ends it.
  auto waiting = [&store] {
    return store.query(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation IN "
        "('coffer_keys'::regclass, 'coffer_records'::regclass)")[0];
  };
  const auto gone_by = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  while (waiting() != "0" && std::chrono::steady_clock::now() < gone_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(waiting() == "0");
  returned.set_value();
  releaser.join();
  BOOST_TEST_REQUIRE(answer.called);  // before get() returned, on this thread
  BOOST_TEST(answer.status == COFFER_STATUS_TIMEOUT, answer.message);
  BOOST_TEST(contains(answer.message, "deadline"), answer.message);
  // 300 ms, not the lock's lifetime (the test's) nor a TCP timeout.
  BOOST_TEST(waited < std::chrono::seconds(3));
  BOOST_TEST(require_get(*db, "VCS.GithubAdminPAT") == "ghp_deadline");
}

// The plugin keeps a value it hands over in the host's secret memory and
// gives that memory back (to be wiped) once the core has taken the value.
BOOST_AUTO_TEST_CASE(a_value_is_in_host_secret_memory_and_handed_back_after_the_copy) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  const std::string value(64, 'z');
  require_put(*db, "VCS.GithubAdminPAT", value);
  struct Seen {
    const unsigned char *data = nullptr;
    std::string copy;
    bool lent = false;
  } seen;
  coffer_get_request request{};
  request.struct_size = sizeof request;
  request.key = "VCS.GithubAdminPAT";
  std::promise<void> done;
  auto finished = done.get_future();
  struct Context {
    Seen *seen;
    std::promise<void> *done;
  } context{&seen, &done};
  db->table()->get(
      db->raw(), &request,
      [](void *raw, coffer_status status, const coffer_value *got, const char *) {
        auto *c = static_cast<Context *>(raw);
        if (status == COFFER_STATUS_OK) {
          c->seen->data = got->data;
          c->seen->copy.assign(reinterpret_cast<const char *>(got->data), got->size);
          c->seen->lent = coffer::test::HostSecretMemory::lent(got->data);
        }
        c->done->set_value();
      },
      &context);
  finished.wait();
  BOOST_REQUIRE(seen.copy == value);
  BOOST_TEST(seen.lent);
  // On PostgreSQL the completion ran on a worker thread, which frees right after it returns.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!coffer::test::HostSecretMemory::freed(seen.data) &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  BOOST_TEST(coffer::test::HostSecretMemory::freed(seen.data));
}
