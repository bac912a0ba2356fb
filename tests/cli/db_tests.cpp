// `coffer db`: the database provider's administration through the tool,
// from an empty directory to rotation, rekeying and a failed verification.
#include <sqlite3.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <regex>

#include "cli_fixture.hpp"

namespace json = boost::json;
using coffer::test::CliFixture;
using coffer::test::contains;
using coffer::test::describe;
using coffer::test::ProcessResult;
using coffer::test::quoted;

namespace {

struct DatabaseFixture : CliFixture {
  DatabaseFixture() {
    write("coffer.json", env_policy());  // for the commands that need no database
    write_db_policy("db.json", R"({"file": "master.key"})");
  }

  // A policy whose only provider "db" is the database at creds.db.
  void write_db_policy(const std::string &file, const std::string &master_key) const {
    write(file, R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir.string()) +
                    R"(], "providers": {"db": {"plugin": "database", "config": {"url": )" +
                    quoted("sqlite://" + (directory / "creds.db").string()) +
                    R"(, "master_key": )" + master_key + R"(}}}, "routes": {"*": "db"}})");
  }

  ProcessResult db(const std::string &policy, const std::vector<std::string> &arguments,
                   const std::string &input = {},
                   std::map<std::string, std::optional<std::string>> environment = {}) const {
    std::vector<std::string> all{"--policy", policy};
    all.insert(all.end(), arguments.begin(), arguments.end());
    return run(all, input, std::move(environment));
  }

  void initialise_with_a_value() const {
    auto init = db("db.json", {"db", "init"});
    BOOST_TEST_REQUIRE(init.status == 0, init.err);
    auto put = db("db.json", {"put", "VCS.GithubAdminPAT"}, "db-Value-Echo-6c2d\n");
    BOOST_TEST_REQUIRE(put.status == 0, put.err);
  }
};

const std::string kKeyHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(database_command, DatabaseFixture)

BOOST_AUTO_TEST_CASE(db_init_works_before_the_store_exists) {
  auto before = db("db.json", {"get", "VCS.GithubAdminPAT"});
  BOOST_TEST(before.status == 5, describe(before));
  BOOST_TEST(contains(before.err, "coffer db init"), before.err);
  BOOST_TEST(contains(before.err, "coffer: warning: "), before.err);  // the health probe's
  auto quiet = db("db.json", {"--quiet", "get", "VCS.GithubAdminPAT"});
  BOOST_TEST(quiet.status == 5, describe(quiet));
  BOOST_TEST(!contains(quiet.err, "warning"), quiet.err);
  BOOST_TEST(std::count(quiet.err.begin(), quiet.err.end(), '\n') == 1, quiet.err);
  auto init = db("db.json", {"db", "init"});
  BOOST_TEST(init.status == 0, describe(init));
  json::value report = json::parse(init.out);
  BOOST_TEST(report.at("created") == true);
  BOOST_TEST(contains(init.out, "\n  \"created\": true"), init.out);  // readable, indented
  auto again = db("db.json", {"db", "init", "--json"});
  BOOST_TEST(again.status == 0, describe(again));
  BOOST_TEST(std::count(again.out.begin(), again.out.end(), '\n') == 1);
  BOOST_TEST(json::parse(again.out).at("created") == false);
  auto put = db("db.json", {"put", "VCS.GithubAdminPAT"}, "db-Value-Echo-6c2d\n");
  BOOST_TEST(put.status == 0, describe(put));
  BOOST_TEST(db("db.json", {"get", "VCS.GithubAdminPAT"}).out == "db-Value-Echo-6c2d\n");
}

BOOST_AUTO_TEST_CASE(db_verify_exits_non_zero_on_a_bad_record) {
  initialise_with_a_value();
  auto good = db("db.json", {"db", "verify"});
  BOOST_TEST(good.status == 0, describe(good));
  BOOST_TEST(json::parse(good.out).at("records") == 1);
  BOOST_TEST(json::parse(good.out).at("bad").as_array().empty());

  sqlite3 *handle = nullptr;
  BOOST_TEST_REQUIRE(sqlite3_open((directory / "creds.db").c_str(), &handle) == SQLITE_OK);
  int rc = sqlite3_exec(handle,
                        "UPDATE coffer_records SET ciphertext = randomblob(length(ciphertext)) "
                        "WHERE key = 'VCS.GithubAdminPAT'",
                        nullptr, nullptr, nullptr);
  sqlite3_close(handle);
  BOOST_TEST_REQUIRE(rc == SQLITE_OK);

  auto bad = db("db.json", {"db", "verify"});
  BOOST_TEST(bad.status == 1, describe(bad));
  json::value report = json::parse(bad.out);
  BOOST_TEST_REQUIRE(report.at("bad").as_array().size() == 1u);
  BOOST_TEST(report.at("bad").at(0).at("key") == "VCS.GithubAdminPAT");
  BOOST_TEST(contains(bad.err, "coffer: "), bad.err);
  BOOST_TEST(!contains(bad.err, "\"bad\""), bad.err);  // the report is on stdout only
}

BOOST_AUTO_TEST_CASE(db_rotate_master_key_to_a_file_and_to_a_variable) {
  initialise_with_a_value();
  auto to_file = db("db.json", {"db", "rotate-master-key", "--new-key-file", "next.key"});
  BOOST_TEST(to_file.status == 0, describe(to_file));
  BOOST_TEST(json::parse(to_file.out).at("rewrapped_data_keys") == 1);
  // The old key no longer opens the store; the new one does.
  BOOST_TEST(db("db.json", {"get", "VCS.GithubAdminPAT"}).status != 0);
  write_db_policy("next.json", R"({"file": "next.key"})");
  BOOST_TEST(db("next.json", {"get", "VCS.GithubAdminPAT"}).out == "db-Value-Echo-6c2d\n");

  auto to_env = db("next.json", {"db", "rotate-master-key", "--new-key-env", "COFFER_CLI_TEST_KEY"},
                   "", {{"COFFER_CLI_TEST_KEY", kKeyHex}});
  BOOST_TEST(to_env.status == 0, describe(to_env));
  write_db_policy("env.json", R"({"env": "COFFER_CLI_TEST_KEY"})");
  auto get = db("env.json", {"get", "VCS.GithubAdminPAT"}, "", {{"COFFER_CLI_TEST_KEY", kKeyHex}});
  BOOST_TEST(get.out == "db-Value-Echo-6c2d\n", describe(get));
  BOOST_TEST(!contains(to_env.out + to_env.err, kKeyHex));
}

BOOST_AUTO_TEST_CASE(db_staged_rotation_keeps_then_drops_the_old_key) {
  initialise_with_a_value();
  auto staged =
      db("db.json", {"db", "rotate-master-key", "--new-key-file", "next.key", "--keep-old"});
  BOOST_TEST(staged.status == 0, describe(staged));
  write_db_policy("next.json", R"({"file": "next.key"})");
  BOOST_TEST(db("db.json", {"get", "VCS.GithubAdminPAT"}).status == 0);
  BOOST_TEST(db("next.json", {"get", "VCS.GithubAdminPAT"}).status == 0);
  auto drop = db("next.json", {"db", "rotate-master-key", "--drop-old"});
  BOOST_TEST(drop.status == 0, describe(drop));
  BOOST_TEST(db("db.json", {"get", "VCS.GithubAdminPAT"}).status != 0);
  BOOST_TEST(db("next.json", {"get", "VCS.GithubAdminPAT"}).out == "db-Value-Echo-6c2d\n");
}

BOOST_AUTO_TEST_CASE(db_drop_old_before_the_policy_moves_is_refused_and_the_kept_key_named) {
  initialise_with_a_value();
  auto staged =
      db("db.json", {"db", "rotate-master-key", "--new-key-file", "next.key", "--keep-old"});
  BOOST_TEST_REQUIRE(staged.status == 0, describe(staged));
  const std::string old_key = "the file '" + (directory / "master.key").string() + "'";
  const std::string new_key = "the file '" + (directory / "next.key").string() + "'";
  json::array both{json::value(old_key), json::value(new_key)};
  BOOST_TEST(json::parse(staged.out).at("kept_master_keys") == both, staged.out);
  BOOST_TEST(contains(staged.err, old_key + " and " + new_key), staged.err);

  // The policy still names the old key: dropping "the others" now would drop
  // the new one.
  auto early = db("db.json", {"db", "rotate-master-key", "--drop-old"});
  BOOST_TEST(early.status == 2, describe(early));
  BOOST_TEST(contains(early.err, "newer master key"), early.err);
  BOOST_TEST(contains(early.err, "nothing was dropped"), early.err);
  BOOST_TEST(contains(early.err, "master_key at the new key first"), early.err);
  write_db_policy("next.json", R"({"file": "next.key"})");
  BOOST_TEST(db("db.json", {"get", "VCS.GithubAdminPAT"}).out == "db-Value-Echo-6c2d\n");
  BOOST_TEST(db("next.json", {"get", "VCS.GithubAdminPAT"}).out == "db-Value-Echo-6c2d\n");

  auto drop = db("next.json", {"db", "rotate-master-key", "--drop-old"});
  BOOST_TEST_REQUIRE(drop.status == 0, describe(drop));
  json::value report = json::parse(drop.out);
  BOOST_TEST(report.at("dropped_master_keys") == 1);
  BOOST_TEST(report.at("kept_master_keys") == json::array{json::value(new_key)}, drop.out);
  BOOST_TEST(contains(drop.err, "the store now opens with " + new_key + " only"), drop.err);
  BOOST_TEST(db("db.json", {"get", "VCS.GithubAdminPAT"}).status != 0);
  BOOST_TEST(db("next.json", {"get", "VCS.GithubAdminPAT"}).out == "db-Value-Echo-6c2d\n");
}

BOOST_AUTO_TEST_CASE(db_rekey_reencrypts_and_values_survive) {
  initialise_with_a_value();
  auto rekey = db("db.json", {"db", "rekey", "--batch-size", "1"});
  BOOST_TEST(rekey.status == 0, describe(rekey));
  json::value report = json::parse(rekey.out);
  BOOST_TEST(report.at("reencrypted") == 1);
  BOOST_TEST(!contains(rekey.out + rekey.err, "db-Value-Echo-6c2d"));
  BOOST_TEST(db("db.json", {"get", "VCS.GithubAdminPAT"}).out == "db-Value-Echo-6c2d\n");
  BOOST_TEST(db("db.json", {"db", "verify"}).status == 0);
}

BOOST_AUTO_TEST_CASE(get_version_id_reads_an_earlier_version) {
  initialise_with_a_value();
  auto second = db("db.json", {"put", "VCS.GithubAdminPAT"}, "db-Second-Value\n");
  BOOST_TEST(second.status == 0, describe(second));
  auto first = db("db.json", {"get", "--version-id", "1", "VCS.GithubAdminPAT"});
  BOOST_TEST(first.out == "db-Value-Echo-6c2d\n", describe(first));
  BOOST_TEST(db("db.json", {"get", "VCS.GithubAdminPAT"}).out == "db-Second-Value\n");
  auto latest = std::string(second.out.substr(0, second.out.find('\n')));
  BOOST_TEST(db("db.json", {"get", "--version-id", latest, "VCS.GithubAdminPAT"}).out ==
             "db-Second-Value\n");
  // env_file keeps no versions: asking for one is an error, not the current value.
  auto unsupported = run_policy({"get", "--version-id", "1", "VCS.GithubAdminPAT"});
  BOOST_TEST(unsupported.status == 1, describe(unsupported));
  BOOST_TEST(unsupported.out == "");
}

BOOST_AUTO_TEST_CASE(plugins_names_each_file_by_its_own_table) {
  // The policy's env_file plugin is loaded while the directory is examined.
  auto r = run_policy({"plugins"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(std::regex_search(r.out, std::regex("libdatabase\\.so +database +.*admin.* +ok")),
             r.out);
  BOOST_TEST(std::regex_search(r.out, std::regex("libenv_file\\.so +env_file +")), r.out);
}

BOOST_AUTO_TEST_CASE(db_needs_a_database_provider) {
  auto r = run_policy({"db", "verify"});
  BOOST_TEST(r.status == 2, describe(r));
  BOOST_TEST(contains(r.err, "\"plugin\": \"database\""), r.err);
  auto other = run_policy({"db", "verify", "--provider", "p"});
  BOOST_TEST(other.status == 2, describe(other));
  BOOST_TEST(contains(other.err, "env_file"), other.err);
}

BOOST_AUTO_TEST_CASE(db_rotate_master_key_checks_its_options) {
  BOOST_TEST(run_policy({"db", "rotate-master-key"}).status == 2);
  BOOST_TEST(
      run_policy({"db", "rotate-master-key", "--new-key-file", "a", "--new-key-env", "B"}).status ==
      2);
  BOOST_TEST(run_policy({"db", "rotate-master-key", "--drop-old", "--new-key-env", "B"}).status ==
             2);
  BOOST_TEST(run_policy({"db", "rekey", "--batch-size", "ten"}).status == 2);
  auto misplaced = run_policy({"db", "verify", "--new-key-file", "x"});
  BOOST_TEST(misplaced.status == 2, describe(misplaced));
  BOOST_TEST(contains(misplaced.err, "does not apply to 'db verify'"), misplaced.err);
}

BOOST_AUTO_TEST_SUITE_END()
