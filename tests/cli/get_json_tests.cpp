// `coffer get --json` and `--metadata`: where a value comes from, as one JSON
// object, with the value only when --json asks for it.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "cli_fixture.hpp"

namespace json = boost::json;
using coffer::test::CliFixture;
using coffer::test::contains;
using coffer::test::describe;

namespace {

struct GetJsonFixture : CliFixture {
  GetJsonFixture() {
    // A double-quoted env value with a quote, a backslash and a tab; an
    // unquoted one whose bytes are not UTF-8.
    auto env = write("secrets.env",
                     "VCS__GithubAdminPAT=\"ghp-Json\\\"Quoted\\\\Back\\tTab\"\n"
                     "Email__SMTPPassword=smtp-Latin1-caf\xe9-Value\n");
    std::filesystem::permissions(
        env, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    write("coffer.json", env_policy());
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(get_json, GetJsonFixture)

BOOST_AUTO_TEST_CASE(json_has_the_key_provider_name_version_time_and_value) {
  auto r = run_policy({"get", "VCS.GithubAdminPAT", "--json"});
  BOOST_TEST_REQUIRE(r.status == 0, describe(r));
  json::object object = json::parse(r.out).as_object();
  BOOST_TEST(object.at("key") == "VCS.GithubAdminPAT");
  BOOST_TEST(object.at("provider") == "p");
  BOOST_TEST(object.at("name") == "VCS__GithubAdminPAT");
  BOOST_TEST(object.at("version").is_string());
  BOOST_TEST(!object.at("version").as_string().empty());
  BOOST_TEST(object.at("value") == "ghp-Json\"Quoted\\Back\tTab");
  // Escaped as JSON: the tab is not printed raw.
  BOOST_TEST(contains(r.out, R"("ghp-Json\"Quoted\\Back\tTab")"), r.out);
  // An env file does not say when a value was written.
  BOOST_TEST(object.at("created").is_null());
  BOOST_TEST(object.at("created_unix_ms").is_null());
  BOOST_TEST(object.size() == 7u);
}

BOOST_AUTO_TEST_CASE(metadata_is_the_same_object_without_the_value) {
  auto full = run_policy({"get", "--json", "VCS.GithubAdminPAT"});
  auto r = run_policy({"get", "--metadata", "VCS.GithubAdminPAT"});
  BOOST_TEST_REQUIRE(r.status == 0, describe(r));
  json::object object = json::parse(r.out).as_object();
  json::object expected = json::parse(full.out).as_object();
  expected.erase("value");
  // env_file's version ids are digests keyed anew in each process.
  BOOST_TEST(object.at("version").is_string());
  expected.erase("version");
  object.erase("version");
  BOOST_TEST(json::value(object) == json::value(expected), r.out);
  BOOST_TEST(!contains(r.out, "\"value\""), r.out);
  BOOST_TEST(!contains(r.out + r.err, "ghp-Json"), r.out);
  BOOST_TEST(!contains(r.out + r.err, "Quoted"), r.out);
}

BOOST_AUTO_TEST_CASE(a_value_that_is_not_utf8_is_refused_by_json_and_not_shown) {
  auto r = run_policy({"get", "--json", "Email.SMTPPassword"});
  BOOST_TEST(r.status == 1, describe(r));
  BOOST_TEST(r.out == "");
  BOOST_TEST(contains(r.err, "Email.SMTPPassword is not UTF-8 text"), r.err);
  BOOST_TEST(!contains(r.err, "Latin1"), r.err);
  auto metadata = run_policy({"get", "--metadata", "Email.SMTPPassword"});
  BOOST_TEST(metadata.status == 0, describe(metadata));
  BOOST_TEST(json::parse(metadata.out).at("name") == "Email__SMTPPassword");
  BOOST_TEST(!contains(metadata.out + metadata.err, "Latin1"), metadata.out);
}

BOOST_AUTO_TEST_CASE(failures_keep_their_exit_status_and_n_does_not_mix_with_json) {
  auto missing = run_policy({"get", "--metadata", "Marketplace.ImportCDNPassword"});
  BOOST_TEST(missing.status == 3, describe(missing));
  BOOST_TEST(missing.out == "");
  auto mixed = run_policy({"get", "-n", "--json", "VCS.GithubAdminPAT"});
  BOOST_TEST(mixed.status == 2, describe(mixed));
  BOOST_TEST(mixed.out == "");
}

BOOST_AUTO_TEST_SUITE_END()
