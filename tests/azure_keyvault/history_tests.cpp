// The azure_keyvault plugin's ABI 1.4 operations against the emulator: the
// creation time of a get, a secret's versions across nextLink pages, and the
// purge of a soft-deleted secret (also while the vault is still deleting it,
// and refused by purge protection).
#define BOOST_TEST_MODULE azure_keyvault_history
#include <boost/test/unit_test.hpp>

#include "kv_fixture.hpp"

#include <chrono>
#include <set>

using coffer::test::Instance;
using coffer::test::Outcome;
using coffer::test::Plugin;
using kvtest::contains;
using kvtest::World;

namespace {

Plugin &plugin() {
  static Plugin loaded("azure_keyvault");
  return loaded;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_table_declares_history_and_soft_delete) {
  const coffer_provider *table = plugin().table();
  BOOST_TEST((table->capabilities & COFFER_CAP_HISTORY) != 0u);
  BOOST_TEST((table->capabilities & COFFER_CAP_SOFT_DELETE) != 0u);
}

BOOST_AUTO_TEST_CASE(versions_follow_next_links_with_their_times_and_state) {
  World world;
  auto &akv = world.emulator();
  // Key Vault keeps created in whole seconds.
  const int64_t before = now_ms() / 1000 * 1000;
  std::set<std::string> written;
  for (int i = 0; i < 3; ++i)
    written.insert(akv.set_secret("Email-SMTPPassword", "v" + std::to_string(i)));
  written.insert(akv.set_secret("Email-SMTPPassword", "off", false));
  const int64_t after = now_ms();
  akv.configure(R"({"page_size": 1})");
  Instance vault(plugin(), world.config());
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());
  akv.reset_stats();

  Outcome versions = vault.versions("Email.SMTPPassword");
  BOOST_TEST_REQUIRE(versions.ok(), versions.message);
  BOOST_TEST_REQUIRE(versions.versions.size() == 4u);
  std::set<std::string> listed;
  int disabled = 0;
  for (std::size_t i = 0; i < versions.versions.size(); ++i) {
    const auto &v = versions.versions[i];
    listed.insert(v.version);
    BOOST_TEST(v.created_unix_ms >= before);
    BOOST_TEST(v.created_unix_ms <= after);
    BOOST_TEST(v.created_unix_ms % 1000 == 0);  // seconds, in milliseconds
    if (i > 0) BOOST_TEST(v.created_unix_ms <= versions.versions[i - 1].created_unix_ms);
    if (!v.enabled) ++disabled;
  }
  BOOST_TEST(listed == written, boost::test_tools::per_element());
  BOOST_TEST(disabled == 1);
  BOOST_TEST(akv.requests("list") >= 4u);  // pages of one version each

  // A get carries the time of its version, as the listing gives it.
  for (const auto &v : versions.versions) {
    if (!v.enabled) continue;
    Outcome got = vault.get("Email.SMTPPassword", v.version.c_str());
    BOOST_TEST_REQUIRE(got.ok(), got.message);
    BOOST_TEST(got.created_unix_ms == v.created_unix_ms);
  }

  Outcome missing = vault.versions("Email.Unknown");
  BOOST_TEST(missing.status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(contains(missing.message, "Email-Unknown"), missing.message);
}

BOOST_AUTO_TEST_CASE(purge_deletes_a_removed_secret_for_good) {
  World world;
  Instance vault(plugin(), world.config());
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());
  BOOST_TEST_REQUIRE(vault.put("Email.SMTPPassword", "one").ok());
  Outcome nothing = vault.purge("Email.SMTPPassword");  // not deleted yet
  BOOST_TEST(nothing.status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(contains(nothing.message, "no deleted secret 'Email-SMTPPassword'"), nothing.message);
  BOOST_TEST_REQUIRE(vault.remove("Email.SMTPPassword").ok());
  // Soft-deleted: the name cannot be written again until purged.
  BOOST_TEST(vault.put("Email.SMTPPassword", "two").status == COFFER_STATUS_DENIED);
  Outcome purged = vault.purge("Email.SMTPPassword");
  BOOST_TEST_REQUIRE(purged.ok(), purged.message);
  BOOST_TEST(vault.put("Email.SMTPPassword", "two").ok());
  BOOST_TEST(vault.purge("Email.SMTPPassword").status == COFFER_STATUS_NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(purge_waits_while_the_vault_is_still_deleting) {
  World world;
  auto &akv = world.emulator();
  akv.configure(R"({"delete_pending_gets": 2})");
  Instance vault(plugin(), world.config());
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());
  BOOST_TEST_REQUIRE(vault.put("VCS.GithubAdminPAT", "ghp").ok());
  BOOST_TEST_REQUIRE(vault.remove("VCS.GithubAdminPAT").ok());
  akv.reset_stats();
  Outcome purged = vault.purge("VCS.GithubAdminPAT");
  BOOST_TEST_REQUIRE(purged.ok(), purged.message);
  // DELETE (409 being deleted), GET 404 twice, GET 200, DELETE 204.
  BOOST_TEST(akv.requests("deleted") == 5u);
  BOOST_TEST(vault.put("VCS.GithubAdminPAT", "again").ok());
}

BOOST_AUTO_TEST_CASE(purge_protection_is_a_denial_naming_the_vault_and_the_permission) {
  World world;
  auto &akv = world.emulator();
  akv.configure(R"({"purge_protection": true})");
  Instance vault(plugin(), world.config());
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());
  BOOST_TEST_REQUIRE(vault.put("Email.SMTPPassword", "one").ok());
  BOOST_TEST_REQUIRE(vault.remove("Email.SMTPPassword").ok());
  Outcome refused = vault.purge("Email.SMTPPassword");
  BOOST_TEST(refused.status == COFFER_STATUS_DENIED);
  BOOST_TEST(contains(refused.message, kvtest::kVaultHost), refused.message);
  BOOST_TEST(contains(refused.message, "purge protection"), refused.message);
  BOOST_TEST(contains(refused.message, "permission 'purge'"), refused.message);
}

BOOST_AUTO_TEST_CASE(the_json_bundle_layout_has_no_per_key_history_or_purge) {
  World world;
  Instance vault(
      plugin(),
      world.config({{"layout", boost::json::object{{"json_bundle", "PMP-Credentials"}}}}));
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());
  Outcome versions = vault.versions("Email.SMTPPassword");
  BOOST_TEST(versions.status == COFFER_STATUS_UNSUPPORTED);
  BOOST_TEST(contains(versions.message, "PMP-Credentials"), versions.message);
  BOOST_TEST(vault.purge("Email.SMTPPassword").status == COFFER_STATUS_UNSUPPORTED);
}
