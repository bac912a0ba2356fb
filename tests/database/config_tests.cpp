// The database provider's configuration, master key sources and private files.
#define BOOST_TEST_MODULE database_config
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>
#include <coffer/provider.hpp>

#include <fstream>

#include "crypto/aead.hpp"
#include "db_test_support.hpp"
#include "keys/master_key.hpp"
#include "keys/private_files.hpp"
#include "store/config.hpp"
#include "temp_directory.hpp"

using namespace coffer::database;
using namespace coffer::database::test;
using coffer::provider::Error;

namespace {

// The status and message of parse_config's error, or OK.
std::pair<coffer_status, std::string> config_error(const std::string &json,
                                                   const fs::path &base = "/etc/coffer") {
  try {
    (void)parse_config(json, base);
    return {COFFER_STATUS_OK, ""};
  } catch (const Error &error) {
    return {error.status(), error.what()};
  }
}

const std::string key_file = R"("master_key": {"file": "/etc/coffer/master.key"})";

void write_key_file(const fs::path &path, const std::string &content, fs::perms mode) {
  {
    std::ofstream out(path, std::ios::binary);
    out << content;
  }
  fs::permissions(path, mode);
}

std::string load_error(const MasterKeySource &source) {
  try {
    (void)load_master_key(source);
    return "";
  } catch (const Error &error) {
    BOOST_TEST(error.status() == COFFER_STATUS_INVALID_CONFIG);
    return error.what();
  }
}

MasterKeySource file_source(const fs::path &path) {
  MasterKeySource source;
  source.kind = MasterKeySource::Kind::file;
  source.path = path;
  source.field = "master_key";
  return source;
}

constexpr auto owner_rw = fs::perms::owner_read | fs::perms::owner_write;

}  // namespace

BOOST_AUTO_TEST_CASE(a_minimal_sqlite_config) {
  Config config = parse_config(
      R"({"url": "sqlite:///var/lib/coffer/credentials.db", )" + key_file + "}", "/etc/coffer");
  BOOST_TEST((config.backend == Config::Backend::sqlite));
  BOOST_TEST(config.sqlite_path == "/var/lib/coffer/credentials.db");
  BOOST_TEST(config.location() == "sqlite:///var/lib/coffer/credentials.db");
  BOOST_TEST(config.history == 10u);
  BOOST_TEST(config.pool_size == 4u);
  BOOST_TEST(config.busy_timeout_ms == 5000u);
  BOOST_TEST(config.retry_timeout_ms == 5000u);
  BOOST_TEST((config.master_key.kind == MasterKeySource::Kind::file));
  BOOST_TEST(config.master_key.path == "/etc/coffer/master.key");
}

BOOST_AUTO_TEST_CASE(relative_paths_resolve_against_the_policy_directory) {
  Config config = parse_config(
      R"({"url": "sqlite:data/credentials.db", "master_key": {"file": "keys/../master.key"}})",
      "/srv/app");
  BOOST_TEST(config.sqlite_path == "/srv/app/data/credentials.db");
  BOOST_TEST(config.master_key.path == "/srv/app/master.key");
  BOOST_TEST(
      parse_config(R"({"url": "sqlite://data/c.db", )" + key_file + "}", "/srv/app").sqlite_path ==
      "/srv/app/data/c.db");
  auto [status, message] = config_error(R"({"url": "sqlite:data.db", )" + key_file + "}", "");
  BOOST_TEST(status == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(message, "url"), message);
}

BOOST_AUTO_TEST_CASE(unknown_fields_name_the_nearest_known_one) {
  auto [status, message] =
      config_error(R"({"url": "sqlite:///x.db", "hisotry": 3, )" + key_file + "}");
  BOOST_TEST(status == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(message, "unknown field 'hisotry'"), message);
  BOOST_TEST(contains(message, "did you mean 'history'"), message);
  auto [status2, message2] =
      config_error(R"({"url": "sqlite:///x.db", "master_key": {"flie": "/k"}})");
  BOOST_TEST(status2 == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(message2, "'master_key.flie'"), message2);
  BOOST_TEST(contains(message2, "did you mean 'master_key.file'"), message2);
  auto [status3, message3] =
      config_error(R"({"url": "sqlite:///x.db", "zzzzzzzzzz": 1, )" + key_file + "}");
  BOOST_TEST(contains(message3, "known fields are url, master_key, history"), message3);
}

BOOST_AUTO_TEST_CASE(bad_values_name_their_field) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"master_key": {"env": "K"}})", "field 'url' is required"},
      {R"({"url": "sqlite:///x.db"})", "field 'master_key' is required"},
      {R"({"url": "mysql://x", "master_key": {"env": "K"}})", "field 'url' must be sqlite:///PATH"},
      {R"({"url": "sqlite:///x.db", "master_key": {}})", "master_key: give exactly one"},
      {R"({"url": "sqlite:///x.db", "master_key": {"env": "K", "file": "/k"}})",
       "master_key: give exactly one"},
      {R"({"url": "sqlite:///x.db", "master_key": {"env": 5}})",
       "field 'master_key.env' must be a string"},
      {R"({"url": "sqlite:///x.db", "master_key": {"env": "K"}, "history": 0})",
       "field 'history' must be between 1 and 1000 (got 0)"},
      {R"({"url": "sqlite:///x.db", "master_key": {"env": "K"}, "history": "10"})",
       "field 'history' must be an integer"},
      {R"({"url": "sqlite:///x.db", "master_key": {"env": "K"}, "pool_size": 100})", "pool_size"},
      {R"({"url": "sqlite:///x.db?mode=ro", "master_key": {"env": "K"}})", "url: an sqlite URL"},
      {R"({"url": "sqlite:///", "master_key": {"env": "K"}})", "url:"},
      {R"({"url": "sqlite:///x.db", "master_key": {"env": "K"},})", ""},  // trailing comma is fine
      {R"({"url": "sqlite:///x.db" "master_key": 1})", "not valid JSON (line 1"},
      {R"([1, 2])", "must be a JSON object"},
      {R"({"url": "sqlite:///x.db", "master_key": {"env": "K", "env": "L"}})",
       "field 'master_key.env' appears twice"},
  };
  for (const auto &[json, expected] : cases) {
    auto [status, message] = config_error(json);
    if (expected.empty()) {
      BOOST_TEST(status == COFFER_STATUS_OK, json << ": " << message);
      continue;
    }
    BOOST_TEST(status == COFFER_STATUS_INVALID_CONFIG, json);
    BOOST_TEST(contains(message, expected), json << " gave: " << message);
  }
}

BOOST_AUTO_TEST_CASE(postgresql_urls_pass_libpq_settings_through) {
  Config uri = parse_config(
      R"({"url": "postgresql://coffer@db1:5432,db2:5432/secrets?target_session_attrs=read-write&sslmode=verify-full&sslrootcert=/etc/ca.pem", "master_key": {"env": "K"}})",
      "");
  BOOST_TEST((uri.backend == Config::Backend::postgres));
  auto find = [](const PostgresSettings &settings, const std::string &keyword) {
    for (std::size_t i = 0; i < settings.keywords.size(); ++i)
      if (settings.keywords[i] == keyword) return settings.values[i];
    return std::string("<absent>");
  };
  BOOST_TEST(find(uri.postgres, "host") == "db1,db2");
  BOOST_TEST(find(uri.postgres, "target_session_attrs") == "read-write");
  BOOST_TEST(find(uri.postgres, "sslmode") == "verify-full");
  BOOST_TEST(find(uri.postgres, "sslrootcert") == "/etc/ca.pem");
  BOOST_TEST(find(uri.postgres, "connect_timeout") == "5");
  BOOST_TEST(contains(uri.location(), "host=db1,db2"), uri.location());
  BOOST_TEST(contains(uri.location(), "dbname=secrets"), uri.location());

  Config local = parse_config(
      R"({"url": "host=127.0.0.1 port=5433 dbname=coffer connect_timeout=2", "master_key": {"env": "K"}})",
      "");
  BOOST_TEST(find(local.postgres, "sslmode") == "disable");  // a server on this host
  BOOST_TEST(find(local.postgres, "connect_timeout") == "2");
  Config remote = parse_config(
      R"({"url": "host=db.example.com dbname=coffer", "master_key": {"env": "K"}})", "");
  BOOST_TEST(find(remote.postgres, "sslmode") == "verify-full");  // verified TLS by default
}

BOOST_AUTO_TEST_CASE(postgresql_urls_refuse_passwords_and_unverified_tls) {
  for (const char *url :
       {"postgresql://coffer:hunter2@db/secrets", "host=db dbname=coffer password=hunter2"}) {
    auto [status, message] =
        config_error(std::string(R"({"url": ")") + url + R"(", "master_key": {"env": "K"}})");
    BOOST_TEST(status == COFFER_STATUS_INVALID_CONFIG, url);
    BOOST_TEST(contains(message, "password must not be written in the policy"), message);
    BOOST_TEST(!contains(message, "hunter2"), message);
  }
  for (const char *mode : {"require", "verify-ca", "prefer", "allow"}) {
    auto [status, message] = config_error(std::string(R"({"url": "host=db dbname=c sslmode=)") +
                                          mode + R"(", "master_key": {"env": "K"}})");
    BOOST_TEST(status == COFFER_STATUS_INVALID_CONFIG, mode);
    BOOST_TEST(contains(message, "verify-full"), message);
  }
  auto [status, message] = config_error(
      R"({"url": "host=db password=hunter2 'unterminated", "master_key": {"env": "K"}})");
  BOOST_TEST(status == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(!contains(message, "hunter2"), message);
}

BOOST_AUTO_TEST_CASE(cleartext_to_another_host_needs_allow_plaintext) {
  auto config = [](const std::string &url, const std::string &extra = {}) {
    return R"({"url": ")" + url + R"(", "master_key": {"env": "K"})" + extra + "}";
  };
  for (const char *url : {"host=db.example.com dbname=c sslmode=disable",
                          "postgresql://coffer@10.0.0.5/secrets?sslmode=disable",
                          "host=127.0.0.1,db2 dbname=c sslmode=disable",
                          "host=localhost hostaddr=192.0.2.7 dbname=c sslmode=disable"}) {
    auto [status, message] = config_error(config(url));
    BOOST_TEST(status == COFFER_STATUS_INVALID_CONFIG, url);
    BOOST_TEST(contains(message, "sslmode=disable"), message);
    BOOST_TEST(contains(message, "\"allow_plaintext\": true"), message);
    BOOST_TEST(contains(message, "verify-full"), message);
    BOOST_TEST(config_error(config(url, R"(, "allow_plaintext": true)")).first == COFFER_STATUS_OK,
               url);
  }
  // Servers on this host may be reached without TLS, as before.
  for (const char *url : {"host=127.0.0.2 dbname=c sslmode=disable", "host=::1 dbname=c",
                          "host=/var/run/postgresql dbname=c sslmode=disable",
                          "host=localhost dbname=c sslmode=disable"})
    BOOST_TEST(config_error(config(url)).first == COFFER_STATUS_OK, url);
  auto [status, message] = config_error(
      R"({"url": "sqlite:///x.db", "master_key": {"env": "K"}, "allow_plaintext": true})");
  BOOST_TEST(status == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(message, "field 'allow_plaintext' applies to a PostgreSQL url only"),
             message);
}

BOOST_AUTO_TEST_CASE(numbers_are_range_checked_and_strings_hold_no_nul) {
  // 2^32 + 1 ms must not turn into 1 ms, nor 1e300 into anything.
  for (const char *number : {"4294967297", "18446744073709551617", "1e300", "5e3", "-1"}) {
    for (const char *field : {"busy_timeout_ms", "retry_timeout_ms", "history", "pool_size"}) {
      auto [status, message] =
          config_error(R"({"url": "sqlite:///x.db", "master_key": {"env": "K"}, ")" +
                       std::string(field) + "\": " + number + "}");
      BOOST_TEST(status == COFFER_STATUS_INVALID_CONFIG, field << "=" << number);
      BOOST_TEST(contains(message, field), message);
    }
  }
  for (const char *json :
       {R"({"url": "sqlite:///x.db\u0000.evil", "master_key": {"env": "K"}})",
        R"({"url": "sqlite:///x.db", "master_key": {"file": "/etc/master.key\u0000x"}})",
        R"({"url": "sqlite:///x.db", "master_key": {"env": "K\u0000"}})"}) {
    auto [status, message] = config_error(json);
    BOOST_TEST(status == COFFER_STATUS_INVALID_CONFIG, json);
    BOOST_TEST(contains(message, "must not contain a NUL character"), message);
  }
}

BOOST_AUTO_TEST_CASE(scrypt_costs_are_bounded_without_overflow) {
  // 128 * r * (n + 2) wraps around to 16 KiB for these: refused all the same.
  ScryptParams wrapping;
  wrapping.n = uint64_t{1} << 58;
  wrapping.r = 64;
  BOOST_TEST(contains(check_master_key_params(wrapping), "2 GiB"));
  ScryptParams huge;
  huge.n = uint64_t{1} << 63;
  huge.r = 1;
  BOOST_TEST(!check_master_key_params(huge).empty());
  // Within the memory bound but 128 times the default work; 16 times is the most.
  ScryptParams slow;
  slow.n = uint64_t{1} << 20;
  slow.r = 8;
  slow.p = 16;
  BOOST_TEST(contains(check_master_key_params(slow), "work"), check_master_key_params(slow));
  BOOST_TEST(check_master_key_params(ScryptParams{}).empty());
  slow.p = 4;
  BOOST_TEST(!check_master_key_params(slow).empty());
  slow.n = uint64_t{1} << 19;
  BOOST_TEST(check_master_key_params(slow).empty());
  // Values read back from a tampered store do not wrap into range either.
  BOOST_TEST(stored_scrypt_factor((int64_t{1} << 32) + 8) == UINT32_MAX);
  BOOST_TEST(stored_scrypt_factor(-1) == UINT32_MAX);
  BOOST_TEST(stored_scrypt_factor(8) == 8u);
  auto [status, message] =
      config_error(R"({"url": "sqlite:///x.db", "master_key": {"env": "K"}, "history": 10})");
  BOOST_TEST(status == COFFER_STATUS_OK, message);
}

BOOST_AUTO_TEST_CASE(a_missing_key_file_says_where_to_restore_it_or_how_to_create_it) {
  coffer::test::TempDirectory dir{"coffer-db-test"};
  const fs::path path = dir.path() / "keys" / "master.key";
  std::string no_directory = load_error(file_source(path));
  BOOST_TEST(contains(no_directory, "'" + path.string() + "' does not exist"), no_directory);
  BOOST_TEST(contains(no_directory, "nor does its directory '" + (dir.path() / "keys").string()),
             no_directory);
  BOOST_TEST(contains(no_directory, "mkdir -m 700"), no_directory);
  BOOST_TEST(contains(no_directory, "restore"), no_directory);
  BOOST_TEST(contains(no_directory, "`coffer db init`"), no_directory);
  fs::create_directory(dir.path() / "keys");
  std::string no_file = load_error(file_source(path));
  BOOST_TEST(contains(no_file, "its directory '" + (dir.path() / "keys").string() + "' exists"),
             no_file);
  BOOST_TEST(
      contains(no_file, "restore this master key file from its backup to '" + path.string() + "'"),
      no_file);
}

BOOST_AUTO_TEST_CASE(master_key_files_must_be_private_and_owned) {
  coffer::test::TempDirectory dir{"coffer-db-test"};
  const fs::path path = dir.path() / "master.key";
  Bytes raw = random_bytes(32);
  write_key_file(path, std::string(raw.begin(), raw.end()), owner_rw);
  BOOST_TEST(load_master_key(file_source(path)).equals(raw));
  fs::permissions(path, fs::perms::owner_read);
  BOOST_TEST(load_master_key(file_source(path)).equals(raw));  // 0400 is fine too

  for (auto mode : {owner_rw | fs::perms::group_read, owner_rw | fs::perms::others_read,
                    fs::perms::owner_all}) {
    fs::permissions(path, mode);
    std::string error = load_error(file_source(path));
    BOOST_TEST(contains(error, "master_key.file"), error);
    BOOST_TEST(contains(error, "must have mode 0600 or 0400"), error);
  }
  fs::permissions(path, owner_rw);
  if (::geteuid() == 0) {
    BOOST_REQUIRE(::chown(path.c_str(), 65534, 65534) == 0);
    std::string error = load_error(file_source(path));
    BOOST_TEST(contains(error, "owned by uid 65534"), error);
    BOOST_REQUIRE(::chown(path.c_str(), 0, 0) == 0);
  }
  fs::remove(path);
  BOOST_TEST(contains(load_error(file_source(path)), "does not exist"));
  fs::create_directory(path);
  BOOST_TEST(contains(load_error(file_source(path)), "not a regular file"));
}

BOOST_AUTO_TEST_CASE(master_key_file_formats) {
  coffer::test::TempDirectory dir{"coffer-db-test"};
  const fs::path path = dir.path() / "master.key";
  Bytes raw = random_bytes(32);
  const std::string hex = to_hex(raw);
  write_key_file(path, hex + "\n", owner_rw);
  BOOST_TEST(load_master_key(file_source(path)).equals(raw));
  // base64 of the same bytes (openssl rand -base64 32)
  std::string base64(45, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char *>(base64.data()), raw.data(), 32);
  base64.resize(44);
  fs::remove(path);
  write_key_file(path, base64 + "\r\n", owner_rw);
  BOOST_TEST(load_master_key(file_source(path)).equals(raw));
  for (const std::string &bad : {std::string(31, 'x'), std::string(33, 'x'), hex.substr(0, 62),
                                 hex.substr(0, 63) + "g", std::string("")}) {
    fs::remove(path);
    write_key_file(path, bad, owner_rw);
    std::string error = load_error(file_source(path));
    BOOST_TEST(contains(error, "not a master key"), error);
    BOOST_TEST((bad.empty() || !contains(error, bad)), error);
  }
}

BOOST_AUTO_TEST_CASE(master_keys_and_passphrases_from_the_environment) {
  MasterKeySource source;
  source.kind = MasterKeySource::Kind::env;
  source.variable = "COFFER_CONFIG_TEST_KEY";
  source.field = "master_key";
  Bytes raw = random_bytes(32);
  ::setenv("COFFER_CONFIG_TEST_KEY", to_hex(raw).c_str(), 1);
  BOOST_TEST(load_master_key(source).equals(raw));
  ::setenv("COFFER_CONFIG_TEST_KEY", "too short", 1);
  std::string error = load_error(source);
  BOOST_TEST(contains(error, "master_key.env: the environment variable COFFER_CONFIG_TEST_KEY"),
             error);
  BOOST_TEST(!contains(error, "too short"), error);
  ::unsetenv("COFFER_CONFIG_TEST_KEY");
  BOOST_TEST(contains(load_error(source), "is not set"));

  source.kind = MasterKeySource::Kind::passphrase_env;
  ::setenv("COFFER_CONFIG_TEST_KEY", "", 1);
  BOOST_CHECK_THROW((void)load_passphrase(source), Error);
  ::setenv("COFFER_CONFIG_TEST_KEY", "pass phrase", 1);
  BOOST_TEST(load_passphrase(source).view() == "pass phrase");
}

BOOST_AUTO_TEST_CASE(a_new_master_key_file_is_random_private_and_never_replaces_one) {
  coffer::test::TempDirectory dir{"coffer-db-test"};
  const fs::path path = dir.path() / "new" / "dir" / "master.key";
  ::umask(0);  // the file must not depend on the umask
  BOOST_TEST(create_master_key_file(file_source(path)));
  ::umask(022);
  BOOST_TEST(file_mode(path) == 0600u);
  BOOST_TEST(file_mode(path.parent_path()) == 0700u);
  BOOST_TEST(fs::file_size(path) == 32u);
  std::string first = read_file(path);
  BOOST_TEST(!create_master_key_file(file_source(path)));
  BOOST_TEST(read_file(path) == first);
  // No temporary file is left behind.
  BOOST_TEST(std::distance(fs::directory_iterator(path.parent_path()), fs::directory_iterator()) ==
             1);
  const fs::path second = dir.path() / "new" / "dir" / "other.key";
  BOOST_TEST(create_master_key_file(file_source(second)));
  BOOST_TEST(read_file(second) != first);
  BOOST_TEST(load_master_key(file_source(second)).size() == 32u);
}

BOOST_AUTO_TEST_CASE(create_private_file_writes_atomically_without_replacing) {
  coffer::test::TempDirectory dir{"coffer-db-test"};
  const fs::path path = dir.path() / "file";
  BOOST_TEST(create_private_file(path, as_bytes("first")));
  BOOST_TEST(!create_private_file(path, as_bytes("second")));
  BOOST_TEST(read_file(path) == "first");
  BOOST_TEST(create_empty_private_file(dir.path() / "empty"));
  BOOST_TEST(!create_empty_private_file(dir.path() / "empty"));
  BOOST_TEST(file_mode(dir.path() / "empty") == 0600u);
}
