// The azure_keyvault plugin against the Key Vault / Entra ID emulator: the
// challenge flow and resource verification, tokens (refresh ahead, rotation of
// the federated token file), every credential type, the operations, errors
// that are not retried, the JSON bundle layout, and close().
#define BOOST_TEST_MODULE azure_keyvault_integration
#include <boost/test/unit_test.hpp>

#include "kv_fixture.hpp"

#include <coffer/store.hpp>

#include <algorithm>
#include <cstdlib>
#include <thread>

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

uint64_t count(coffer::test::Emulator &emulator, const std::string &route) {
  return emulator.requests(route);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_vault_of_a_known_cloud_gets_a_token_with_its_first_request) {
  World world;  // myvault.vault.azure.net, workload identity naming its tenant
  auto &akv = world.emulator();
  const std::string version = akv.set_secret("VCS-GithubAdminPAT", "ghp_first");
  akv.reset_stats();
  Instance vault(plugin(), world.config());
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());

  Outcome first = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST_REQUIRE(first.ok(), first.message);
  BOOST_TEST(first.value == "ghp_first");
  BOOST_TEST(first.version == version);
  BOOST_TEST(count(akv, "unauthenticated") == 0u);  // no 401 round trip
  BOOST_TEST(count(akv, "token") == 1u);
  BOOST_TEST(count(akv, "get") == 1u);

  for (int i = 0; i < 5; ++i) BOOST_TEST(vault.get("VCS.GithubAdminPAT").ok());
  BOOST_TEST(count(akv, "unauthenticated") == 0u);
  BOOST_TEST(count(akv, "token") == 1u);
  BOOST_TEST(count(akv, "get") == 6u);
}

BOOST_AUTO_TEST_CASE(a_get_whose_caller_waits_is_answered_on_the_callers_thread) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_first");
  akv.reset_stats();
  Instance vault(plugin(), world.config());
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());
  vault.set_get_flags(COFFER_GET_CALLER_WAITS);
  for (int i = 0; i < 3; ++i) {  // cold (the token from the I/O thread), then warm
    Outcome got = vault.get("VCS.GithubAdminPAT");
    BOOST_TEST_REQUIRE(got.ok(), got.message);
    BOOST_TEST(got.value == "ghp_first");
    BOOST_TEST((got.answered_on == std::this_thread::get_id()));
  }
  BOOST_TEST(count(akv, "token") == 1u);
  BOOST_TEST(count(akv, "get") == 3u);
  {
    std::lock_guard lock(vault.logs().mutex);
    long here = std::count_if(
        vault.logs().lines.begin(), vault.logs().lines.end(),
        [](const auto &line) { return contains(line.second, "on the waiting caller's thread"); });
    BOOST_TEST(here == 3);
  }
  vault.set_get_flags(0);  // a caller that does not wait: the I/O thread answers
  Outcome handed = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST_REQUIRE(handed.ok(), handed.message);
  BOOST_TEST((handed.answered_on != std::this_thread::get_id()));
}

BOOST_AUTO_TEST_CASE(a_challenge_other_than_the_expected_one_is_checked_and_followed) {
  coffer::test::EmulatorOptions options;
  options.challenge_resource = "https://azure.net";  // the vault host ends with .azure.net
  World world(options);
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_x");
  akv.reset_stats();
  Instance vault(plugin(), world.config());
  Outcome got = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST_REQUIRE(got.ok(), got.message);
  BOOST_TEST(got.value == "ghp_x");
  BOOST_TEST(count(akv, "token") == 2u);  // vault.azure.net's, refused; then azure.net's
  BOOST_TEST(count(akv, "unauthenticated") == 1u);
  BOOST_TEST(count(akv, "get") == 2u);
  BOOST_TEST(vault.get("VCS.GithubAdminPAT").ok());
  BOOST_TEST(count(akv, "token") == 2u);  // the learnt scope is kept
  BOOST_TEST(count(akv, "unauthenticated") == 1u);
}

BOOST_AUTO_TEST_CASE(challenge_flow_then_the_token_goes_up_front) {
  World world;
  auto &akv = world.emulator();
  const std::string version = akv.set_secret("VCS-GithubAdminPAT", "ghp_first");
  akv.reset_stats();
  Instance vault(plugin(), world.config({{"send_token_first", false}}));
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());

  Outcome first = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST_REQUIRE(first.ok(), first.message);
  BOOST_TEST(first.value == "ghp_first");
  BOOST_TEST(first.version == version);
  BOOST_TEST(count(akv, "unauthenticated") == 1u);  // the one probe
  BOOST_TEST(count(akv, "token") == 1u);
  BOOST_TEST(count(akv, "get") == 2u);  // probe + authorised retry

  for (int i = 0; i < 5; ++i) BOOST_TEST(vault.get("VCS.GithubAdminPAT").ok());
  BOOST_TEST(count(akv, "unauthenticated") == 1u);
  BOOST_TEST(count(akv, "token") == 1u);
  BOOST_TEST(count(akv, "get") == 7u);
}

BOOST_AUTO_TEST_CASE(named_versions_put_remove_and_key_names) {
  World world;
  auto &akv = world.emulator();
  Instance vault(plugin(), world.config());
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());

  Outcome v1 = vault.put("Email.SMTPPassword", "smtp-one");
  BOOST_TEST_REQUIRE(v1.ok(), v1.message);
  BOOST_TEST(v1.version.size() == 32u);
  Outcome v2 = vault.put("Email.SMTPPassword", "smtp-two \"quoted\"\nline");
  BOOST_TEST_REQUIRE(v2.ok(), v2.message);
  BOOST_TEST(v1.version != v2.version);
  BOOST_TEST(akv.secret_value("Email-SMTPPassword").value_or("") == "smtp-two \"quoted\"\nline");

  BOOST_TEST(vault.get("Email.SMTPPassword").value == "smtp-two \"quoted\"\nline");
  Outcome old = vault.get("Email.SMTPPassword", v1.version.c_str());
  BOOST_TEST_REQUIRE(old.ok(), old.message);
  BOOST_TEST(old.value == "smtp-one");
  BOOST_TEST(old.version == v1.version);
  BOOST_TEST(vault.get("Email.SMTPPassword", "0123456789abcdef0123456789abcdef").status ==
             COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(vault.get("Email.SMTPPassword", "../x").status == COFFER_STATUS_INVALID_ARGUMENT);

  BOOST_TEST(vault.key_name("VCS.GithubAdminPAT").value_or("") == "VCS-GithubAdminPAT");
  std::string error;
  BOOST_TEST(!vault.key_name("VCS.Bad_Name", &error).has_value());
  BOOST_TEST(contains(error, "VCS.Bad_Name"));
  BOOST_TEST(vault.get("VCS.Bad_Name").status == COFFER_STATUS_INVALID_ARGUMENT);

  Outcome binary = vault.put("Email.Binary", std::string("\xff\xfe", 2));
  BOOST_TEST(binary.status == COFFER_STATUS_INVALID_ARGUMENT);
  Outcome huge = vault.put("Email.Huge", std::string(26 * 1024, 'x'));
  BOOST_TEST(huge.status == COFFER_STATUS_INVALID_ARGUMENT);

  BOOST_TEST(vault.remove("Email.SMTPPassword").ok());
  BOOST_TEST(vault.get("Email.SMTPPassword").status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(vault.remove("Email.SMTPPassword").status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(vault.health().ok());
}

BOOST_AUTO_TEST_CASE(a_foreign_challenge_resource_is_refused_before_a_token_is_requested_for_it) {
  coffer::test::EmulatorOptions options;
  options.challenge_resource = "https://vault.attacker.example";
  World world(options);
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_x");
  for (const bool token_first : {false, true}) {
    BOOST_TEST_CONTEXT("send_token_first " << token_first) {
      akv.reset_stats();
      Instance vault(plugin(), world.config({{"send_token_first", token_first}}));
      Outcome refused = vault.get("VCS.GithubAdminPAT");
      BOOST_TEST(refused.status == COFFER_STATUS_DENIED);
      BOOST_TEST(contains(refused.message, "vault.attacker.example"));
      BOOST_TEST(contains(refused.message, "verify_challenge_resource"));
      // Sent first, only the token for the vault host's own cloud; none for
      // the resource the challenge names.
      BOOST_TEST(count(akv, "token") == (token_first ? 1u : 0u));
      BOOST_TEST(count(akv, "get") == 1u);
    }
  }
  Instance trusting(plugin(), world.config({{"verify_challenge_resource", false}}));
  Outcome allowed = trusting.get("VCS.GithubAdminPAT");
  BOOST_TEST_REQUIRE(allowed.ok(), allowed.message);
  BOOST_TEST(allowed.value == "ghp_x");
}

BOOST_AUTO_TEST_CASE(a_plain_vault_url_on_localhost_needs_verification_off) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_x");
  boost::json::object local{{"vault_url", akv.vault_url()}, {"connect_to", ""}};
  Instance strict(plugin(), world.config(local));
  BOOST_TEST(strict.get("VCS.GithubAdminPAT").status == COFFER_STATUS_DENIED);
  local["verify_challenge_resource"] = false;
  Instance relaxed(plugin(), world.config(local));
  BOOST_TEST(relaxed.get("VCS.GithubAdminPAT").value == "ghp_x");
}

BOOST_AUTO_TEST_CASE(the_token_is_refreshed_ahead_of_its_expiry) {
  // Gets answered from the I/O thread, then gets whose caller waits: those
  // ask the I/O thread for the refresh, and take the new token up at once.
  for (const uint32_t flags : {0u, static_cast<uint32_t>(COFFER_GET_CALLER_WAITS)}) {
    BOOST_TEST_CONTEXT("caller waits " << (flags != 0)) {
      coffer::test::EmulatorOptions options;
      options.token_lifetime_s = 4;  // refreshed from 2 s on; unusable from 3.6 s
      World world(options);
      auto &akv = world.emulator();
      akv.set_secret("VCS-GithubAdminPAT", "ghp_x");
      Instance vault(plugin(), world.config());
      vault.set_get_flags(flags);
      const auto start = std::chrono::steady_clock::now();
      BOOST_TEST_REQUIRE(vault.get("VCS.GithubAdminPAT").ok());
      BOOST_TEST(count(akv, "token") == 1u);
      std::this_thread::sleep_until(start + std::chrono::milliseconds(2300));
      Outcome during = vault.get("VCS.GithubAdminPAT");  // served with the old token
      BOOST_TEST(during.ok(), during.message);
      if (flags != 0) BOOST_TEST((during.answered_on == std::this_thread::get_id()));
      for (int i = 0; i < 100 && count(akv, "token") < 2; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      BOOST_TEST(count(akv, "token") == 2u);
      // No 401 at all: the first request carried a token, and none ever went
      // with an expired one.
      BOOST_TEST(count(akv, "unauthenticated") == 0u);
      // Past the old token's use: the new one serves, from where it was.
      std::this_thread::sleep_until(start + std::chrono::milliseconds(3800));
      Outcome after = vault.get("VCS.GithubAdminPAT");
      BOOST_TEST(after.ok(), after.message);
      if (flags != 0) BOOST_TEST((after.answered_on == std::this_thread::get_id()));
      BOOST_TEST(count(akv, "token") == 2u);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_token_file_is_read_again_at_every_exchange) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_x");
  Instance vault(plugin(), world.config());
  BOOST_TEST_REQUIRE(vault.get("VCS.GithubAdminPAT").ok());
  world.rotate_assertion("2");            // the kubelet rotates the projected token
  akv.inject("get", "expired-token", 1);  // the vault refuses the cached access token
  Outcome after = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST_REQUIRE(after.ok(), after.message);
  BOOST_TEST(count(akv, "token") == 2u);
}

BOOST_AUTO_TEST_CASE(entra_refusals_say_what_to_fix) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_x");
  {  // a stale copy of the token file (the kubelet rotated it since) → AADSTS700024
    Instance current(plugin(), world.config());
    BOOST_TEST_REQUIRE(current.get("VCS.GithubAdminPAT").ok());
    kvtest::write_file(world.dir() / "stale-token", world.assertion());
    world.rotate_assertion("2");
    boost::json::object credential{{"type", "workload_identity"},
                                   {"tenant_id", akv.tenant()},
                                   {"client_id", akv.client_id()},
                                   {"token_file", (world.dir() / "stale-token").string()}};
    Instance stale(plugin(), world.config({{"credential", credential}}));
    Outcome expired = stale.get("VCS.GithubAdminPAT");
    BOOST_TEST(expired.status == COFFER_STATUS_DENIED);
    BOOST_TEST(contains(expired.message, "AADSTS700024"));
    BOOST_TEST(contains(expired.message, (world.dir() / "stale-token").string()));
  }
  {  // a token nobody federated → AADSTS70021 with what to check
    kvtest::write_file(world.dir() / "other-token", kvtest::fake_service_account_token("x"));
    boost::json::object credential{{"type", "workload_identity"},
                                   {"tenant_id", akv.tenant()},
                                   {"client_id", akv.client_id()},
                                   {"token_file", (world.dir() / "other-token").string()}};
    Instance vault(plugin(), world.config({{"credential", credential}}));
    Outcome refused = vault.get("VCS.GithubAdminPAT");
    BOOST_TEST(refused.status == COFFER_STATUS_DENIED);
    BOOST_TEST(contains(refused.message, "AADSTS70021"));
    BOOST_TEST(contains(refused.message, "system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT"));
    BOOST_TEST(contains(refused.message, "system:serviceaccount:pmp-prod:pmp-secret-accessor"));
    BOOST_TEST(contains(refused.message, "api://AzureADTokenExchange"));
  }
  {  // a missing token file names the file
    boost::json::object credential{{"type", "workload_identity"},
                                   {"tenant_id", akv.tenant()},
                                   {"client_id", akv.client_id()},
                                   {"token_file", (world.dir() / "missing").string()}};
    Instance vault(plugin(), world.config({{"credential", credential}}));
    Outcome missing = vault.get("VCS.GithubAdminPAT");
    BOOST_TEST(missing.status == COFFER_STATUS_INVALID_CONFIG);
    BOOST_TEST(contains(missing.message, (world.dir() / "missing").string()));
  }
  {  // wrong client ID
    boost::json::object credential{{"type", "workload_identity"},
                                   {"tenant_id", akv.tenant()},
                                   {"client_id", "99999999-9999-9999-9999-999999999999"},
                                   {"token_file", world.token_file().string()}};
    Instance vault(plugin(), world.config({{"credential", credential}}));
    Outcome refused = vault.get("VCS.GithubAdminPAT");
    BOOST_TEST(refused.status == COFFER_STATUS_DENIED);
    BOOST_TEST(contains(refused.message, "AADSTS700016"));
    BOOST_TEST(contains(refused.message, "client_id"));
  }
}

BOOST_AUTO_TEST_CASE(managed_identity_through_imds) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_mi");
  boost::json::object credential{{"type", "managed_identity"},
                                 {"client_id", akv.client_id()},
                                 {"imds_endpoint", akv.imds_endpoint()}};
  Instance vault(plugin(), world.config({{"credential", credential}}));
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());
  Outcome got = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST_REQUIRE(got.ok(), got.message);
  BOOST_TEST(got.value == "ghp_mi");
  BOOST_TEST(count(akv, "imds") == 1u);
  BOOST_TEST(count(akv, "token") == 0u);
}

BOOST_AUTO_TEST_CASE(client_secret_from_a_file_and_from_the_environment) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_cs");
  {
    Instance vault(plugin(), world.config({{"credential", world.client_secret_credential()}}));
    Outcome got = vault.get("VCS.GithubAdminPAT");
    BOOST_TEST_REQUIRE(got.ok(), got.message);
    BOOST_TEST(got.value == "ghp_cs");
  }
  {
    ::setenv("COFFER_AKV_TEST_CLIENT_SECRET", world.client_secret().c_str(), 1);
    boost::json::object credential = world.client_secret_credential();
    credential.erase("client_secret_file");
    credential["client_secret_env"] = "COFFER_AKV_TEST_CLIENT_SECRET";
    Instance vault(plugin(), world.config({{"credential", credential}}));
    Outcome got = vault.get("VCS.GithubAdminPAT");
    BOOST_TEST_REQUIRE(got.ok(), got.message);
    ::setenv("COFFER_AKV_TEST_CLIENT_SECRET", "not-the-secret", 1);
    Instance wrong(plugin(), world.config({{"credential", credential}}));
    Outcome refused = wrong.get("VCS.GithubAdminPAT");
    BOOST_TEST(refused.status == COFFER_STATUS_DENIED);
    BOOST_TEST(contains(refused.message, "AADSTS7000215"));
    BOOST_TEST(contains(refused.message, "COFFER_AKV_TEST_CLIENT_SECRET"));
    BOOST_TEST(!contains(refused.message, "not-the-secret"));
    ::unsetenv("COFFER_AKV_TEST_CLIENT_SECRET");
  }
}

BOOST_AUTO_TEST_CASE(not_found_and_denied_are_answered_without_retries) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_x");
  akv.set_secret("VCS-Forbidden", "nope");
  akv.set_secret("VCS-Disabled", "off", false);
  akv.deny("VCS-Forbidden", "ForbiddenByRbac");
  Instance vault(plugin(), world.config({{"max_attempts", 5}}));
  BOOST_TEST_REQUIRE(vault.get("VCS.GithubAdminPAT").ok());  // learn the challenge first
  akv.reset_stats();

  Outcome missing = vault.get("VCS.Missing");
  BOOST_TEST(missing.status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(contains(missing.message, "VCS-Missing"));
  BOOST_TEST(count(akv, "get") == 1u);

  Outcome denied = vault.get("VCS.Forbidden");
  BOOST_TEST(denied.status == COFFER_STATUS_DENIED);
  BOOST_TEST(contains(denied.message, "ForbiddenByRbac"));
  BOOST_TEST(contains(denied.message, "Key Vault Secrets User"));
  BOOST_TEST(count(akv, "get") == 2u);

  Outcome denied_write = vault.put("VCS.Forbidden", "x");
  BOOST_TEST(denied_write.status == COFFER_STATUS_DENIED);
  BOOST_TEST(contains(denied_write.message, "Key Vault Secrets Officer"));

  Outcome disabled = vault.get("VCS.Disabled");
  BOOST_TEST(disabled.status == COFFER_STATUS_DENIED);
  BOOST_TEST(contains(disabled.message, "SecretDisabled"));
  BOOST_TEST(count(akv, "get") == 3u);

  akv.deny("VCS-Policy", "AccessDenied");
  Outcome policy = vault.get("VCS.Policy");
  BOOST_TEST(policy.status == COFFER_STATUS_DENIED);
  BOOST_TEST(contains(policy.message, "AccessDenied"));
  BOOST_TEST(count(akv, "token") == 0u);
}

BOOST_AUTO_TEST_CASE(list_follows_next_links_across_empty_pages) {
  World world;
  auto &akv = world.emulator();
  const std::vector<std::string> names = {"VCS-GithubAdminPAT", "Email-SMTPPassword",
                                          "PMP-Credentials-Old", "standalone",
                                          "VCS-GitlabAdminPAT"};
  for (const auto &name : names) akv.set_secret(name, "v-" + name);
  akv.configure(R"({"empty_pages": 2, "page_size": 1})");
  Instance vault(plugin(), world.config());
  BOOST_TEST_REQUIRE(vault.get("VCS.GithubAdminPAT").ok());
  akv.reset_stats();
  Outcome listed = vault.list();
  BOOST_TEST_REQUIRE(listed.ok(), listed.message);
  BOOST_TEST(listed.entries.size() == names.size());
  std::map<std::string, std::string> keys;
  for (const auto &entry : listed.entries) keys[entry.name] = entry.key;
  BOOST_TEST(keys["VCS-GithubAdminPAT"] == "VCS.GithubAdminPAT");
  BOOST_TEST(keys["Email-SMTPPassword"] == "Email.SMTPPassword");
  BOOST_TEST(keys["PMP-Credentials-Old"].empty());
  BOOST_TEST(keys["standalone"].empty());
  // Pages of one item, two empty pages first, and the closing empty page.
  BOOST_TEST(count(akv, "list") >= names.size() + 2);
}

BOOST_AUTO_TEST_CASE(json_bundle_layout) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("PMP-Credentials",
                 R"({"VCS-GithubAdminPAT":"ghp_bundle","Email-SMTPPassword":"smtp_bundle",)"
                 R"("VCS-Nested":{"inner":"x"}})");
  Instance vault(plugin(),
                 world.config({{"layout", boost::json::object{{"json_bundle", "PMP-Credentials"},
                                                              {"refresh_s", 30}}}}));
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());
  std::vector<std::string> keys;
  for (int i = 0; i < 15; ++i) {
    keys.push_back("VCS.GithubAdminPAT");
    keys.push_back("Email.SMTPPassword");
  }
  auto outcomes = kvtest::get_concurrently(vault, keys);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    BOOST_TEST_REQUIRE(outcomes[i].ok(), outcomes[i].message);
    BOOST_TEST(outcomes[i].value == (i % 2 == 0 ? "ghp_bundle" : "smtp_bundle"));
  }
  BOOST_TEST(count(akv, "get") == 1u);  // one read, with a token sent first, for all 30

  Outcome nested = vault.get("VCS.Nested");
  BOOST_TEST(nested.status == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(contains(nested.message, "VCS.Nested"));
  BOOST_TEST(vault.get("VCS.Absent").status == COFFER_STATUS_NOT_FOUND);

  Outcome listed = vault.list();
  BOOST_TEST_REQUIRE(listed.ok(), listed.message);
  BOOST_TEST(listed.entries.size() == 3u);

  Outcome written = vault.put("Marketplace.ImportCDNPassword", "cdn\"pw");
  BOOST_TEST_REQUIRE(written.ok(), written.message);
  auto stored = boost::json::parse(akv.secret_value("PMP-Credentials").value_or("{}")).as_object();
  BOOST_TEST(std::string(stored.at("Marketplace-ImportCDNPassword").as_string()) == "cdn\"pw");
  BOOST_TEST(std::string(stored.at("VCS-GithubAdminPAT").as_string()) == "ghp_bundle");
  BOOST_TEST(stored.at("VCS-Nested").is_object());  // others' data survives the rewrite
  Outcome read_back = vault.get("Marketplace.ImportCDNPassword");
  BOOST_TEST(read_back.value == "cdn\"pw");
  BOOST_TEST(read_back.version == written.version);

  BOOST_TEST(vault.remove("Email.SMTPPassword").ok());
  BOOST_TEST(vault.get("Email.SMTPPassword").status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(vault.remove("Email.SMTPPassword").status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(vault.health().ok());
}

BOOST_AUTO_TEST_CASE(a_missing_bundle_is_not_found_and_the_first_put_creates_it) {
  World world;
  Instance vault(
      plugin(),
      world.config({{"layout", boost::json::object{{"json_bundle", "PMP-Credentials"}}}}));
  Outcome missing = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST(missing.status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(contains(missing.message, "PMP-Credentials"));
  BOOST_TEST(vault.put("VCS.GithubAdminPAT", "first").ok());
  BOOST_TEST(vault.get("VCS.GithubAdminPAT").value == "first");
}

BOOST_AUTO_TEST_CASE(close_answers_what_is_still_running) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_x");
  std::atomic<int> calls{0};
  std::atomic<coffer_status> status{-1};
  // Outlives the instance: close() answers the stalled get through it.
  struct Context {
    std::atomic<int> *calls;
    std::atomic<coffer_status> *status;
  } context{&calls, &status};
  {
    Instance vault(plugin(),
                   world.config({{"request_timeout_ms", 60000}, {"operation_timeout_ms", 60000}}));
    BOOST_TEST_REQUIRE(vault.get("VCS.GithubAdminPAT").ok());
    akv.inject_rule(boost::json::object{
        {"route", "get"}, {"fault", "stall"}, {"count", 1}, {"stall_ms", 30000}});
    coffer_get_request request{};
    request.struct_size = sizeof request;
    request.key = "VCS.GithubAdminPAT";
    vault.table()->get(
        vault.raw(), &request,
        [](void *raw, coffer_status result, const coffer_value *, const char *) {
          auto *c = static_cast<Context *>(raw);
          c->status->store(result);
          c->calls->fetch_add(1);
        },
        &context);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    BOOST_TEST(calls.load() == 0);
    const auto closing = std::chrono::steady_clock::now();
    // ~Instance calls close()
    (void)closing;
  }
  BOOST_TEST(calls.load() == 1);
  BOOST_TEST(status.load() == COFFER_STATUS_UNAVAILABLE);
}

BOOST_AUTO_TEST_CASE(end_to_end_through_the_store) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_store");
  akv.set_secret("Email-SMTPPassword", "smtp_store");
  const std::string policy =
      R"({"coffer": 1, "plugin_dirs": [")" + coffer::test::plugin_dir().string() +
      R"("], "providers": {"vault": {"plugin": "azure_keyvault", "config": )" + world.config() +
      R"(}}, "routes": {"*": "vault"}})";
  coffer::StoreOptions options;
  coffer::Store store = coffer::Store::from_string(policy, options);
  BOOST_TEST(store.get("VCS.GithubAdminPAT").reveal() == "ghp_store");
  std::vector<std::string> keys{"VCS.GithubAdminPAT", "Email.SMTPPassword"};
  auto results = store.get_many(keys);
  BOOST_TEST_REQUIRE(results.size() == 2u);
  BOOST_TEST(results[1].secret.reveal() == "smtp_store");
  BOOST_TEST(results[1].provider == "vault");
}
