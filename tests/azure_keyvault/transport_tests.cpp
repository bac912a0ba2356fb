// The plugin's HTTPS transport against the emulator: certificates with the
// wrong host name or from an untrusted CA are refused (and not retried), the
// system trust store alone does not trust a private CA, CONNECT tunnels through
// an HTTP proxy from the configuration or from HTTPS_PROXY / NO_PROXY, the
// managed identity endpoint is never proxied, and keep-alive connections are
// pooled within the configured bound.
#define BOOST_TEST_MODULE azure_keyvault_transport
#include <boost/test/unit_test.hpp>

#include "connect_proxy.hpp"
#include "kv_fixture.hpp"

#include <cstdlib>

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

std::size_t count_lines(Instance &instance, const std::string &part) {
  std::lock_guard lock(instance.logs().mutex);
  std::size_t count = 0;
  for (const auto &[level, line] : instance.logs().lines)
    if (contains(line, part)) ++count;
  return count;
}

// Restores an environment variable when the test ends.
class ScopedEnvironment {
 public:
  ScopedEnvironment(std::string name, const std::string &value) : name_(std::move(name)) {
    if (const char *old = std::getenv(name_.c_str())) old_ = old;
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnvironment() {
    if (old_)
      ::setenv(name_.c_str(), old_->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  ScopedEnvironment(const ScopedEnvironment &) = delete;
  ScopedEnvironment &operator=(const ScopedEnvironment &) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_certificate_for_another_host_is_refused_without_retries) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_x");
  const std::string wrong_host = "othervault.vault.azure.net";  // not in the certificate
  Instance vault(
      plugin(),
      world.config({{"vault_url", "https://" + wrong_host + ":" + std::to_string(akv.https_port())},
                    {"max_attempts", 5}}));
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());
  Outcome refused = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST(refused.status == COFFER_STATUS_UNAVAILABLE);
  BOOST_TEST(contains(refused.message, "hostname mismatch"), refused.message);
  BOOST_TEST(contains(refused.message, wrong_host));
  BOOST_TEST(count_lines(vault, "connected to " + wrong_host) == 0u);
  BOOST_TEST(akv.requests("get") == 0u);    // nothing ever reached HTTP
  BOOST_TEST(akv.requests("token") == 1u);  // the one sent first; no retry fetched another
}

BOOST_AUTO_TEST_CASE(a_certificate_from_an_untrusted_ca_is_refused) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_x");
  akv.configure(R"({"untrusted_cert": true})");
  Instance vault(plugin(), world.config());
  Outcome refused = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST(refused.status == COFFER_STATUS_UNAVAILABLE);
  BOOST_TEST(contains(refused.message, "certificate verify failed"), refused.message);
  BOOST_TEST(akv.requests("get") == 0u);
  akv.configure(R"({"untrusted_cert": false})");
  BOOST_TEST(vault.get("VCS.GithubAdminPAT").ok());
}

BOOST_AUTO_TEST_CASE(the_system_store_alone_does_not_trust_a_private_ca) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_x");
  Instance vault(plugin(), world.config({{"ca_file", ""}}));
  Outcome refused = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST(refused.status == COFFER_STATUS_UNAVAILABLE);
  BOOST_TEST(contains(refused.message, "certificate verify failed"), refused.message);
}

BOOST_AUTO_TEST_CASE(a_bad_ca_file_is_a_configuration_error) {
  World world;
  kvtest::write_file(world.dir() / "not-a-ca.pem", "garbage");
  Instance vault(plugin(), world.config({{"ca_file", (world.dir() / "not-a-ca.pem").string()}}));
  BOOST_TEST(vault.open_status() == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(vault.open_error(), "ca_file"));
}

BOOST_AUTO_TEST_CASE(connect_tunnel_through_the_configured_proxy) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_proxied");
  kvtest::ConnectProxy proxy;
  const std::string proxy_url = "http://user:pa%40ss@127.0.0.1:" + std::to_string(proxy.port());
  Instance vault(plugin(), world.config({{"proxy", proxy_url}, {"connect_to", ""}}));
  BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());
  Outcome got = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST_REQUIRE(got.ok(), got.message);
  BOOST_TEST(got.value == "ghp_proxied");
  const std::string port = std::to_string(akv.https_port());
  auto targets = proxy.targets();
  BOOST_TEST(std::count(targets.begin(), targets.end(),
                        std::string(kvtest::kVaultHost) + ":" + port) == 1);  // one pooled tunnel
  BOOST_TEST(std::count(targets.begin(), targets.end(), "localhost:" + port) == 1);  // Entra
  for (const auto &authorization : proxy.authorizations())
    BOOST_TEST(authorization == "Basic dXNlcjpwYUBzcw==");  // user:pa@ss
  for (const auto &[level, line] : vault.logs().lines) BOOST_TEST(!contains(line, "pa@ss"));
}

BOOST_AUTO_TEST_CASE(https_proxy_and_no_proxy_from_the_environment) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_env");
  kvtest::ConnectProxy proxy;
  ScopedEnvironment https_proxy("HTTPS_PROXY", proxy.url());
  ScopedEnvironment no_proxy("NO_PROXY", "localhost,.example.internal");
  Instance vault(plugin(), world.config({{"connect_to", ""}}));
  Outcome got = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST_REQUIRE(got.ok(), got.message);
  auto targets = proxy.targets();
  BOOST_TEST_REQUIRE(targets.size() == 1u);  // the vault; Entra at localhost went direct
  BOOST_TEST(targets[0] ==
             std::string(kvtest::kVaultHost) + ":" + std::to_string(akv.https_port()));

  // "none" in the configuration wins over the environment.
  Instance direct(plugin(), world.config({{"proxy", "none"}}));
  BOOST_TEST(direct.get("VCS.GithubAdminPAT").ok());
  BOOST_TEST(proxy.targets().size() == 1u);
}

BOOST_AUTO_TEST_CASE(imds_is_never_proxied) {
  World world;
  auto &akv = world.emulator();
  akv.set_secret("VCS-GithubAdminPAT", "ghp_mi");
  kvtest::ConnectProxy proxy;
  ScopedEnvironment https_proxy("HTTPS_PROXY", proxy.url());
  boost::json::object credential{{"type", "managed_identity"},
                                 {"imds_endpoint", akv.imds_endpoint()}};
  Instance vault(plugin(), world.config({{"credential", credential}, {"connect_to", ""}}));
  BOOST_TEST_REQUIRE(vault.get("VCS.GithubAdminPAT").ok());
  auto targets = proxy.targets();
  BOOST_TEST_REQUIRE(targets.size() == 1u);
  BOOST_TEST(contains(targets[0], kvtest::kVaultHost));
  BOOST_TEST(akv.requests("imds") == 1u);
}

BOOST_AUTO_TEST_CASE(a_proxy_that_wants_credentials_is_reported) {
  World world;
  kvtest::ConnectProxy proxy(407);
  Instance vault(plugin(), world.config({{"proxy", proxy.url()}, {"max_attempts", 5}}));
  Outcome refused = vault.get("VCS.GithubAdminPAT");
  BOOST_TEST(refused.status == COFFER_STATUS_UNAVAILABLE);
  BOOST_TEST(contains(refused.message, "407"), refused.message);
  BOOST_TEST(proxy.targets().size() == 1u);  // not retried
}

BOOST_AUTO_TEST_CASE(keep_alive_connections_are_reused_and_bounded) {
  World world;
  auto &akv = world.emulator();
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) {
    akv.set_secret("Load-Secret" + std::to_string(i), "value-" + std::to_string(i));
    keys.push_back("Load.Secret" + std::to_string(i));
  }
  Instance vault(plugin(), world.config({{"max_connections_per_host", 4}}));
  for (int i = 0; i < 20; ++i) BOOST_TEST(vault.get(keys[static_cast<std::size_t>(i)]).ok());
  const std::string opened = std::string("connected to ") + kvtest::kVaultHost;
  BOOST_TEST(count_lines(vault, opened) == 1u);  // one connection served 20 sequential gets
  std::vector<std::string> burst;
  for (int round = 0; round < 10; ++round) burst.insert(burst.end(), keys.begin(), keys.end());
  auto outcomes = kvtest::get_concurrently(vault, burst);
  for (const auto &outcome : outcomes) BOOST_TEST(outcome.ok(), outcome.message);
  BOOST_TEST(count_lines(vault, opened) <= 4u);
}
