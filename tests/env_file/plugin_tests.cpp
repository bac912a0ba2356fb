// The env_file plugin through its C table (tests/support/plugin_harness.hpp):
// configuration, names, reading, reloading, permissions, writing and the
// environment source.
#define BOOST_TEST_MODULE env_file_plugin
#include <boost/test/unit_test.hpp>

// The harness's completion lambdas name their context `w` like the waiter
// they are declared beside, which -Wshadow reports.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#include "plugin_harness.hpp"
#pragma GCC diagnostic pop
#include "other_owner.hpp"
#include "temp_directory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using coffer::test::Instance;
using coffer::test::Outcome;
using coffer::test::Plugin;

Plugin &plugin() {
  static Plugin loaded("env_file");
  return loaded;
}

std::string read_file(const fs::path &file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes `text` into the existing file (same inode) or a new one, mode 0600.
void write_file(const fs::path &file, const std::string &text, mode_t mode = 0600) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  ::chmod(file.c_str(), mode);
}

// Writes `text` to a new file and renames it over `file`, as editors do.
void replace_file(const fs::path &file, const std::string &text) {
  fs::path staged = file.parent_path() / ".staged";
  write_file(staged, text);
  fs::rename(staged, file);
}

ino_t inode(const fs::path &file) {
  struct stat info {};
  BOOST_REQUIRE(::stat(file.c_str(), &info) == 0);
  return info.st_ino;
}

mode_t mode(const fs::path &file) {
  struct stat info {};
  BOOST_REQUIRE(::stat(file.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

struct Directory : coffer::test::TempDirectory {
  Directory() : TempDirectory("coffer-env-plugin") {}
  [[nodiscard]] fs::path file() const { return path() / "credentials.env"; }
};

std::string config(const std::string &fields) {
  return "{" + fields + "}";
}

// The log lines at `level` so far.
std::vector<std::string> logged(Instance &instance, int32_t level) {
  std::lock_guard lock(instance.logs().mutex);
  std::vector<std::string> out;
  for (const auto &[line_level, line] : instance.logs().lines)
    if (line_level == level) out.push_back(line);
  return out;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(configuration)

BOOST_AUTO_TEST_CASE(the_table_offers_every_operation) {
  const coffer_provider *table = plugin().table();
  BOOST_TEST(std::string(table->name) == "env_file");
  const uint64_t wanted = COFFER_CAP_GET | COFFER_CAP_PUT | COFFER_CAP_REMOVE | COFFER_CAP_LIST |
                          COFFER_CAP_HEALTH | COFFER_CAP_KEY_NAME;
  BOOST_TEST((table->capabilities & wanted) == wanted);
  BOOST_TEST((table->capabilities & COFFER_CAP_VERSIONS) == 0u);
  BOOST_TEST(table->put != nullptr);
  BOOST_TEST(table->remove != nullptr);
}

BOOST_AUTO_TEST_CASE(an_unknown_field_is_named_with_the_nearest_known_one) {
  Directory directory;
  write_file(directory.file(), "A=1\n");
  Instance instance(plugin(), config(R"("path": "credentials.env", "writeable": true)"),
                    directory.path().string(), "local");
  BOOST_TEST(instance.open_status() == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(instance.open_error(), "'writeable'"), instance.open_error());
  BOOST_TEST(contains(instance.open_error(), "did you mean 'writable'"), instance.open_error());
  BOOST_TEST(contains(instance.open_error(), "'local'"), instance.open_error());
}

BOOST_AUTO_TEST_CASE(fields_are_checked) {
  Directory directory;
  write_file(directory.file(), "A=1\n");
  const std::string base = directory.path().string();
  struct Case {
    std::string json, field;
  };
  const Case cases[] = {
      {config(""), "'path' is required"},
      {config(R"("path": 7)"), "'path' must be a string"},
      {config(R"("path": "credentials.env\u0000.old")"), "'path' must not contain a NUL"},
      {config(R"("path": "credentials.env", "writable": "yes")"), "'writable' must be true or"},
      {config(R"("path": "credentials.env", "source": "vault")"), "'source' must be"},
      {config(R"("path": "credentials.env", "prefix": "9X")"), "'prefix' must be"},
      {config(R"("source": "environment", "path": "credentials.env")"), "'path' has no meaning"},
      {config(R"("source": "environment", "writable": true)"), "'writable' cannot be true"},
      {config(R"("path": "credentials.env", "path": "other.env")"), "'path' appears twice"},
      {"[]", "must be a JSON object"},
      {"{", "not valid JSON"},
  };
  for (const Case &test : cases) {
    Instance instance(plugin(), test.json, base);
    BOOST_TEST(instance.open_status() == COFFER_STATUS_INVALID_CONFIG, test.json);
    BOOST_TEST(contains(instance.open_error(), test.field), instance.open_error());
  }
}

BOOST_AUTO_TEST_CASE(a_relative_path_resolves_against_the_policy_directory) {
  Directory directory;
  fs::create_directory(directory.path() / "secrets");
  write_file(directory.path() / "secrets" / "a.env", "VCS__GithubAdminPAT=ghp_relative\n");
  Instance instance(plugin(), config(R"("path": "secrets/a.env")"), directory.path().string());
  BOOST_REQUIRE_MESSAGE(instance.opened(), instance.open_error());
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").value == "ghp_relative");
}

BOOST_AUTO_TEST_CASE(a_missing_or_unparsable_file_fails_open_naming_file_and_line) {
  Directory directory;
  Instance missing(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  BOOST_TEST(missing.open_status() == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(missing.open_error(), directory.file().string()), missing.open_error());
  BOOST_TEST(contains(missing.open_error(), "No such file"), missing.open_error());

  write_file(directory.file(), "A=1\nPASSWORD=\"hunter2-is-my-password\nB=2\n");
  Instance broken(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  BOOST_TEST(broken.open_status() == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(broken.open_error(), directory.file().string() + ": line 2:"),
             broken.open_error());
  BOOST_TEST(contains(broken.open_error(), "unterminated quoted value"), broken.open_error());
  BOOST_TEST(!contains(broken.open_error(), "hunter"), broken.open_error());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reading)

BOOST_AUTO_TEST_CASE(get_returns_the_value_and_a_version_that_does_not_reveal_it) {
  Directory directory;
  write_file(directory.file(), "VCS__GithubAdminPAT=ghp_abc#123\nEmail__SMTPPassword='pw'\n");
  Instance instance(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  BOOST_REQUIRE_MESSAGE(instance.opened(), instance.open_error());
  Outcome got = instance.get("VCS.GithubAdminPAT");
  BOOST_TEST(got.ok());
  BOOST_TEST(got.value == "ghp_abc#123");
  BOOST_TEST(got.version.size() == 32u);
  BOOST_TEST(got.version.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST(!contains(got.version, "ghp"));
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").version == got.version);
  BOOST_TEST(instance.get("Email.SMTPPassword").version != got.version);
}

BOOST_AUTO_TEST_CASE(a_missing_key_is_not_found_naming_key_name_and_file) {
  Directory directory;
  write_file(directory.file(), "A=1\n");
  Instance instance(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  Outcome got = instance.get("VCS.GithubAdminPAT");
  BOOST_TEST(got.status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(contains(got.message, "VCS.GithubAdminPAT"), got.message);
  BOOST_TEST(contains(got.message, "VCS__GithubAdminPAT"), got.message);
  BOOST_TEST(contains(got.message, directory.file().string()), got.message);
}

BOOST_AUTO_TEST_CASE(key_name_maps_with_the_prefix) {
  Directory directory;
  write_file(directory.file(), "PMP_VCS__GithubAdminPAT=ghp_prefixed\nVCS__GithubAdminPAT=no\n");
  Instance instance(plugin(), config(R"("path": "credentials.env", "prefix": "PMP_")"),
                    directory.path().string());
  BOOST_REQUIRE_MESSAGE(instance.opened(), instance.open_error());
  BOOST_TEST(instance.key_name("VCS.GithubAdminPAT").value_or("") == "PMP_VCS__GithubAdminPAT");
  BOOST_TEST(instance.key_name("Email.SMTPPassword").value_or("") == "PMP_Email__SMTPPassword");
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").value == "ghp_prefixed");
}

BOOST_AUTO_TEST_CASE(a_key_that_cannot_map_is_invalid_argument_naming_it) {
  Directory directory;
  write_file(directory.file(), "A=1\n");
  Instance instance(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  for (const std::string key : {"VCS", "VCS.Github_PAT", "VCS.a.b", ".x", "1VCS.X", "VCS.-x"}) {
    std::string error;
    BOOST_TEST(!instance.key_name(key, &error).has_value(), key);
    BOOST_TEST(contains(error, "'" + key + "'"), error);
    Outcome got = instance.get(key);
    BOOST_TEST(got.status == COFFER_STATUS_INVALID_ARGUMENT, key);
    BOOST_TEST(contains(got.message, key), got.message);
  }
}

BOOST_AUTO_TEST_CASE(list_returns_every_entry_with_keys_where_names_map) {
  Directory directory;
  write_file(directory.file(),
             "PMP_VCS__GithubAdminPAT=1\nOTHER=2\nPMP_Email__SMTPPassword=3\n"
             "VCS__NoPrefix=4\nPMP_Bad__Na_me=5\nPMP_VCS__GithubAdminPAT=6\n");
  Instance instance(plugin(), config(R"("path": "credentials.env", "prefix": "PMP_")"),
                    directory.path().string());
  Outcome listed = instance.list();
  BOOST_REQUIRE(listed.ok());
  std::map<std::string, std::string> keys;
  for (const auto &entry : listed.entries) {
    keys[entry.name] = entry.key;
    BOOST_TEST(entry.version.size() == 32u);
  }
  BOOST_TEST(listed.entries.size() == 5u);
  BOOST_TEST(keys["PMP_VCS__GithubAdminPAT"] == "VCS.GithubAdminPAT");
  BOOST_TEST(keys["PMP_Email__SMTPPassword"] == "Email.SMTPPassword");
  BOOST_TEST(keys["OTHER"] == "");
  BOOST_TEST(keys["VCS__NoPrefix"] == "");
  BOOST_TEST(keys["PMP_Bad__Na_me"] == "");
  for (const auto &entry : listed.entries)
    if (entry.name == "PMP_VCS__GithubAdminPAT")
      BOOST_TEST(instance.get("VCS.GithubAdminPAT").version == entry.version);
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_last_wins_with_a_warning) {
  Directory directory;
  write_file(directory.file(), "VCS__GithubAdminPAT=old\nVCS__GithubAdminPAT=new\n");
  Instance instance(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").value == "new");
  auto warnings = logged(instance, COFFER_LOG_WARNING);
  BOOST_REQUIRE(warnings.size() == 1u);
  BOOST_TEST(contains(warnings[0], directory.file().string() + ": line 2: 'VCS__GithubAdminPAT'"),
             warnings[0]);
  BOOST_TEST(!contains(warnings[0], "old"));
}

BOOST_AUTO_TEST_CASE(expansion_follows_the_expand_field) {
  Directory directory;
  write_file(directory.file(), "Base__Host=db.local\nVCS__Url=\"https://${Base__Host}/x\"\n");
  Instance plain(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  BOOST_TEST(plain.get("VCS.Url").value == "https://${Base__Host}/x");
  Instance expanding(plugin(), config(R"("path": "credentials.env", "expand": true)"),
                     directory.path().string());
  BOOST_TEST(expanding.get("VCS.Url").value == "https://db.local/x");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reloading)

BOOST_AUTO_TEST_CASE(a_file_changed_in_place_is_reloaded_even_at_the_same_size) {
  Directory directory;
  write_file(directory.file(), "VCS__GithubAdminPAT=aaaa\n");
  Instance instance(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  Outcome first = instance.get("VCS.GithubAdminPAT");
  const ino_t before = inode(directory.file());
  write_file(directory.file(), "VCS__GithubAdminPAT=bbbb\n");
  BOOST_TEST(inode(directory.file()) == before);
  Outcome second = instance.get("VCS.GithubAdminPAT");
  BOOST_TEST(second.value == "bbbb");
  BOOST_TEST(second.version != first.version);
  write_file(directory.file(), "VCS__GithubAdminPAT=a longer value\n");
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").value == "a longer value");
}

BOOST_AUTO_TEST_CASE(a_file_replaced_by_rename_is_reloaded) {
  Directory directory;
  write_file(directory.file(), "VCS__GithubAdminPAT=old\n");
  Instance instance(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").value == "old");
  replace_file(directory.file(), "VCS__GithubAdminPAT=new\nEmail__SMTPPassword=added\n");
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").value == "new");
  BOOST_TEST(instance.get("Email.SMTPPassword").value == "added");
}

BOOST_AUTO_TEST_CASE(a_bad_reload_keeps_the_old_values_and_health_reports_it) {
  Directory directory;
  write_file(directory.file(), "VCS__GithubAdminPAT=good\nEmail__SMTPPassword=kept\n");
  Instance instance(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  BOOST_TEST(instance.health().ok());
  replace_file(directory.file(),
               "VCS__GithubAdminPAT=better\nEmail__SMTPPassword=\"s3cr3t-never-logged\n");

  Outcome got = instance.get("VCS.GithubAdminPAT");
  BOOST_TEST(got.ok(), got.message);
  BOOST_TEST(got.value == "good");
  BOOST_TEST(instance.get("Email.SMTPPassword").value == "kept");
  Outcome health = instance.health();
  BOOST_TEST(health.status == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(contains(health.message, directory.file().string() + ": line 2:"), health.message);
  BOOST_TEST(!contains(health.message, "s3cr3t"), health.message);

  auto errors = logged(instance, COFFER_LOG_ERROR);
  BOOST_REQUIRE(errors.size() == 1u);  // once, however many accesses follow
  BOOST_TEST(contains(errors[0], directory.file().string() + ": line 2: unterminated"), errors[0]);
  BOOST_TEST(!contains(errors[0], "s3cr3t"), errors[0]);

  replace_file(directory.file(), "VCS__GithubAdminPAT=fixed\n");
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").value == "fixed");
  BOOST_TEST(instance.health().ok());
  BOOST_TEST(instance.get("Email.SMTPPassword").status == COFFER_STATUS_NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(a_vanished_file_keeps_the_old_values_and_health_reports_it) {
  Directory directory;
  write_file(directory.file(), "VCS__GithubAdminPAT=still-here\n");
  Instance instance(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  fs::remove(directory.file());
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").value == "still-here");
  Outcome health = instance.health();
  BOOST_TEST(health.status == COFFER_STATUS_UNAVAILABLE);
  BOOST_TEST(contains(health.message, directory.file().string()), health.message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(permissions)

BOOST_AUTO_TEST_CASE(a_file_open_to_group_or_others_is_reported) {
  Directory directory;
  write_file(directory.file(), "VCS__GithubAdminPAT=x\n", 0644);
  Instance instance(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  BOOST_REQUIRE_MESSAGE(instance.opened(), instance.open_error());
  auto warnings = logged(instance, COFFER_LOG_WARNING);
  BOOST_REQUIRE(warnings.size() == 1u);
  BOOST_TEST(contains(warnings[0], directory.file().string() + " has mode 0644"), warnings[0]);
  BOOST_TEST(contains(warnings[0], "(its group may read; others may read)"), warnings[0]);
  BOOST_TEST(contains(warnings[0], "chmod 600"), warnings[0]);
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").ok());
  BOOST_TEST(logged(instance, COFFER_LOG_WARNING).size() == 1u);  // not on every access
}

BOOST_AUTO_TEST_CASE(require_private_refuses_such_a_file) {
  Directory directory;
  write_file(directory.file(), "VCS__GithubAdminPAT=x\n", 0640);
  const std::string json = config(R"("path": "credentials.env", "require_private": true)");
  Instance refused(plugin(), json, directory.path().string());
  BOOST_TEST(refused.open_status() == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(refused.open_error(), directory.file().string() + " has mode 0640"),
             refused.open_error());
  BOOST_TEST(contains(refused.open_error(), "require_private"), refused.open_error());

  ::chmod(directory.file().c_str(), 0600);
  Instance instance(plugin(), json, directory.path().string());
  BOOST_REQUIRE_MESSAGE(instance.opened(), instance.open_error());
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").ok());
  ::chmod(directory.file().c_str(), 0604);
  Outcome got = instance.get("VCS.GithubAdminPAT");
  BOOST_TEST(got.status == COFFER_STATUS_DENIED);
  BOOST_TEST(contains(got.message, "has mode 0604 (others may read)"), got.message);
  BOOST_TEST(got.value.empty());
  BOOST_TEST(instance.health().status == COFFER_STATUS_DENIED);
  ::chmod(directory.file().c_str(), 0400);
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(writing)

BOOST_AUTO_TEST_CASE(put_without_writable_is_unsupported_and_says_what_to_set) {
  Directory directory;
  write_file(directory.file(), "VCS__GithubAdminPAT=x\n");
  Instance instance(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  Outcome put = instance.put("VCS.GithubAdminPAT", "y");
  BOOST_TEST(put.status == COFFER_STATUS_UNSUPPORTED);
  BOOST_TEST(contains(put.message, "\"writable\": true"), put.message);
  BOOST_TEST(instance.remove("VCS.GithubAdminPAT").status == COFFER_STATUS_UNSUPPORTED);
  BOOST_TEST(read_file(directory.file()) == "VCS__GithubAdminPAT=x\n");
}

BOOST_AUTO_TEST_CASE(put_and_remove_keep_comments_and_order_and_leave_the_file_private) {
  Directory directory;
  const std::string original =
      "# platform credentials\n"
      "VCS__GithubAdminPAT=old # rotate monthly\n"
      "\n"
      "export Email__SMTPPassword='smtp'\n"
      "# the end\n";
  write_file(directory.file(), original, 0640);
  Instance instance(plugin(), config(R"("path": "credentials.env", "writable": true)"),
                    directory.path().string());
  BOOST_REQUIRE_MESSAGE(instance.opened(), instance.open_error());
  const std::string old_version = instance.get("VCS.GithubAdminPAT").version;
  const ino_t old_inode = inode(directory.file());
  int reader = ::open(directory.file().c_str(), O_RDONLY);  // opened before the write

  Outcome put = instance.put("VCS.GithubAdminPAT", "new \"$ecret\"\nline 2");
  BOOST_REQUIRE_MESSAGE(put.ok(), put.message);
  BOOST_TEST(read_file(directory.file()) ==
             "# platform credentials\n"
             "VCS__GithubAdminPAT=\"new \\\"\\$ecret\\\"\\nline 2\" # rotate monthly\n"
             "\n"
             "export Email__SMTPPassword='smtp'\n"
             "# the end\n");
  BOOST_TEST(mode(directory.file()) == 0600u);
  BOOST_TEST(inode(directory.file()) != old_inode);
  std::string seen(original.size(), '\0');
  BOOST_TEST(::read(reader, seen.data(), seen.size()) == static_cast<ssize_t>(original.size()));
  BOOST_TEST(seen == original);  // the old inode was never written to
  ::close(reader);

  Outcome got = instance.get("VCS.GithubAdminPAT");
  BOOST_TEST(got.value == "new \"$ecret\"\nline 2");
  BOOST_TEST(got.version == put.version);
  BOOST_TEST(got.version != old_version);

  BOOST_REQUIRE(instance.put("CIAdmin.JenkinsTriggerAuthToken", "t0k").ok());
  BOOST_REQUIRE(instance.remove("Email.SMTPPassword").ok());
  BOOST_TEST(read_file(directory.file()) ==
             "# platform credentials\n"
             "VCS__GithubAdminPAT=\"new \\\"\\$ecret\\\"\\nline 2\" # rotate monthly\n"
             "\n"
             "# the end\n"
             "CIAdmin__JenkinsTriggerAuthToken=\"t0k\"\n");
  BOOST_TEST(instance.get("Email.SMTPPassword").status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(std::distance(fs::directory_iterator(directory.path()), {}) == 1);  // no leftovers

  Outcome missing = instance.remove("Email.SMTPPassword");
  BOOST_TEST(missing.status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(contains(missing.message, "Email.SMTPPassword"), missing.message);
}

BOOST_AUTO_TEST_CASE(put_sees_changes_made_by_others_since_the_last_read) {
  Directory directory;
  write_file(directory.file(), "A=1\n");
  Instance instance(plugin(), config(R"("path": "credentials.env", "writable": true)"),
                    directory.path().string());
  BOOST_TEST(instance.get("VCS.X").status == COFFER_STATUS_NOT_FOUND);
  write_file(directory.file(), "A=1\nVCS__Edited=by hand\n");
  BOOST_REQUIRE(instance.put("VCS.Y", "y").ok());
  BOOST_TEST(read_file(directory.file()) == "A=1\nVCS__Edited=by hand\nVCS__Y=\"y\"\n");
}

BOOST_AUTO_TEST_CASE(put_refuses_to_rewrite_a_file_that_does_not_parse) {
  Directory directory;
  write_file(directory.file(), "A=1\n");
  Instance instance(plugin(), config(R"("path": "credentials.env", "writable": true)"),
                    directory.path().string());
  write_file(directory.file(), "A=1\nB='unterminated\n");
  Outcome put = instance.put("VCS.Y", "y");
  BOOST_TEST(put.status == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(contains(put.message, "line 2"), put.message);
  BOOST_TEST(read_file(directory.file()) == "A=1\nB='unterminated\n");
}

BOOST_AUTO_TEST_CASE(concurrent_writers_lose_no_update) {
  Directory directory;
  write_file(directory.file(), "# shared\n");
  const std::string json = config(R"("path": "credentials.env", "writable": true)");
  // Two instances do not share a mutex: only the file lock and the re-read
  // before each edit keep their updates from overwriting each other.
  Instance first(plugin(), json, directory.path().string());
  Instance second(plugin(), json, directory.path().string());
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      Instance &instance = t % 2 == 0 ? first : second;
      for (int i = 0; i < 15; ++i) {
        std::string key = "Load.K" + std::to_string(t) + "x" + std::to_string(i);
        if (!instance.put(key, "value " + std::to_string(i)).ok()) ++failures;
      }
    });
  }
  for (std::thread &writer : writers) writer.join();
  BOOST_TEST(failures.load() == 0);
  Instance reader(plugin(), config(R"("path": "credentials.env")"), directory.path().string());
  BOOST_TEST(reader.list().entries.size() == 60u);
  BOOST_TEST(reader.get("Load.K3x14").value == "value 14");
  BOOST_TEST(mode(directory.file()) == 0600u);
}

BOOST_AUTO_TEST_SUITE_END()

// Whoever can write the env file's directory, or owns the file or a link to
// it, must not be able to capture a value that this process puts, or turn
// the write into one of another file.
BOOST_AUTO_TEST_SUITE(ownership_rules)

using coffer::test::give_to_other_user;
using coffer::test::running_as_root;

const char *const kWritable = R"("path": "credentials.env", "writable": true)";

// A put refused as DENIED with a message naming `culprit` and containing `rule`.
void expect_refused(Instance &instance, const fs::path &culprit, const std::string &rule) {
  Outcome put = instance.put("VCS.GithubAdminPAT", "captured?");
  BOOST_TEST(put.status == COFFER_STATUS_DENIED);
  BOOST_TEST(contains(put.message, "'" + culprit.string() + "'"), put.message);
  BOOST_TEST(contains(put.message, rule), put.message);
  BOOST_TEST(!contains(put.message, "captured?"), put.message);
}

BOOST_AUTO_TEST_CASE(a_link_at_the_file_owned_by_another_user_is_not_followed,
                     *boost::unit_test::precondition(running_as_root)) {
  Directory directory;
  const fs::path elsewhere = directory.path() / "elsewhere.env";
  write_file(elsewhere, "A=1\n");
  fs::create_symlink(elsewhere, directory.file());
  give_to_other_user(directory.file());
  Instance instance(plugin(), config(kWritable), directory.path().string());
  BOOST_REQUIRE_MESSAGE(instance.opened(), instance.open_error());
  expect_refused(instance, directory.file(), "is a symbolic link owned by uid 65534");
  BOOST_TEST(read_file(elsewhere) == "A=1\n");
  BOOST_TEST(fs::read_symlink(directory.file()) == elsewhere);
}

BOOST_AUTO_TEST_CASE(a_link_owned_by_this_user_is_written_through_and_stays) {
  Directory directory;
  fs::create_directory(directory.path() / "real");
  ::chmod((directory.path() / "real").c_str(), 0700);
  const fs::path real = directory.path() / "real" / "app.env";
  write_file(real, "A=1\n");
  fs::create_symlink("real/app.env", directory.file());
  Instance instance(plugin(), config(kWritable), directory.path().string());
  BOOST_REQUIRE(instance.put("VCS.GithubAdminPAT", "v").ok());
  BOOST_TEST(fs::is_symlink(directory.file()));
  BOOST_TEST(read_file(real) == "A=1\nVCS__GithubAdminPAT=\"v\"\n");
}

BOOST_AUTO_TEST_CASE(a_file_owned_by_another_user_is_not_written_nor_handed_back,
                     *boost::unit_test::precondition(running_as_root)) {
  Directory directory;
  write_file(directory.file(), "A=1\n");
  give_to_other_user(directory.file());
  Instance instance(plugin(), config(kWritable), directory.path().string());
  BOOST_REQUIRE_MESSAGE(instance.opened(), instance.open_error());
  expect_refused(instance, directory.file(), "is owned by uid 65534");
  BOOST_TEST(read_file(directory.file()) == "A=1\n");
  struct stat info {};
  BOOST_REQUIRE(::stat(directory.file().c_str(), &info) == 0);
  BOOST_TEST(info.st_uid == coffer::test::kOtherUser);
  BOOST_TEST(instance.remove("VCS.GithubAdminPAT").status == COFFER_STATUS_DENIED);
}

BOOST_AUTO_TEST_CASE(a_file_others_may_write_is_not_written) {
  Directory directory;
  write_file(directory.file(), "A=1\n", 0620);
  Instance instance(plugin(), config(kWritable), directory.path().string());
  expect_refused(instance, directory.file(), "writable by its group (mode 0620)");
  BOOST_TEST(read_file(directory.file()) == "A=1\n");
}

BOOST_AUTO_TEST_CASE(a_directory_its_group_or_others_may_write_is_not_written_into) {
  for (mode_t open_mode : {0770, 0707, 0777, 01777}) {
    Directory directory;
    write_file(directory.file(), "A=1\n");
    ::chmod(directory.path().c_str(), open_mode);
    Instance instance(plugin(), config(kWritable), directory.path().string());
    BOOST_REQUIRE_MESSAGE(instance.opened(), instance.open_error());
    expect_refused(instance, directory.path(), "is writable by");
    BOOST_TEST(read_file(directory.file()) == "A=1\n");
    BOOST_TEST(std::distance(fs::directory_iterator(directory.path()), {}) == 1);
  }
}

BOOST_AUTO_TEST_CASE(a_directory_owned_by_another_user_is_not_written_into,
                     *boost::unit_test::precondition(running_as_root)) {
  Directory directory;
  write_file(directory.file(), "A=1\n");
  give_to_other_user(directory.path());
  Instance instance(plugin(), config(kWritable), directory.path().string());
  BOOST_REQUIRE_MESSAGE(instance.opened(), instance.open_error());
  expect_refused(instance, directory.path(), "is owned by uid 65534");
  BOOST_TEST(read_file(directory.file()) == "A=1\n");
  BOOST_TEST(std::distance(fs::directory_iterator(directory.path()), {}) == 1);
}

BOOST_AUTO_TEST_CASE(every_directory_on_the_way_is_checked_but_a_sticky_root_one_passes) {
  // The suite's directories lie in the sticky, world-writable temporary
  // directory: that one passes. An open directory further down does not.
  Directory directory;
  const fs::path open = directory.path() / "open";
  fs::create_directories(open / "private");
  ::chmod(open.c_str(), 0777);
  ::chmod((open / "private").c_str(), 0700);
  write_file(open / "private" / "credentials.env", "A=1\n");
  Instance instance(plugin(), config(R"("path": "open/private/credentials.env", "writable": true)"),
                    directory.path().string());
  BOOST_REQUIRE_MESSAGE(instance.opened(), instance.open_error());
  expect_refused(instance, open, "is writable by its group and others (mode 0777)");
  ::chmod(open.c_str(), 0755);
  BOOST_TEST(instance.put("VCS.GithubAdminPAT", "v").ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(environment)

BOOST_AUTO_TEST_CASE(the_environment_source_reads_afresh_and_lists_mapped_names) {
  ::setenv("CTEST_PMP_VCS__GithubAdminPAT", "from-env", 1);
  ::setenv("CTEST_PMP_NOT_MAPPED", "x", 1);
  Instance instance(plugin(), config(R"("source": "environment", "prefix": "CTEST_PMP_")"));
  BOOST_REQUIRE_MESSAGE(instance.opened(), instance.open_error());
  Outcome first = instance.get("VCS.GithubAdminPAT");
  BOOST_TEST(first.value == "from-env");
  ::setenv("CTEST_PMP_VCS__GithubAdminPAT", "rotated", 1);
  Outcome second = instance.get("VCS.GithubAdminPAT");
  BOOST_TEST(second.value == "rotated");
  BOOST_TEST(second.version != first.version);

  Outcome listed = instance.list();
  BOOST_REQUIRE(listed.ok());
  BOOST_REQUIRE(listed.entries.size() == 1u);
  BOOST_TEST(listed.entries[0].key == "VCS.GithubAdminPAT");
  BOOST_TEST(listed.entries[0].name == "CTEST_PMP_VCS__GithubAdminPAT");
  BOOST_TEST(instance.health().ok());

  Outcome put = instance.put("VCS.GithubAdminPAT", "x");
  BOOST_TEST(put.status == COFFER_STATUS_UNSUPPORTED);
  BOOST_TEST(instance.remove("VCS.GithubAdminPAT").status == COFFER_STATUS_UNSUPPORTED);
  ::unsetenv("CTEST_PMP_VCS__GithubAdminPAT");
  BOOST_TEST(instance.get("VCS.GithubAdminPAT").status == COFFER_STATUS_NOT_FOUND);
  ::unsetenv("CTEST_PMP_NOT_MAPPED");
}

BOOST_AUTO_TEST_SUITE_END()
