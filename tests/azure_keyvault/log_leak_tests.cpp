// A whole run of the plugin at debug level — challenge, token exchanges of all
// three credentials, gets, puts, listing, deletes, the JSON bundle, retries
// after faults, an expired access token, refusals of Entra ID and of the
// vault, a proxy with credentials — and then a search of every log line and
// every message it produced for the secret values, the access tokens, the
// federated assertions, the client secrets and the proxy password.
#define BOOST_TEST_MODULE azure_keyvault_log_leak
#include <boost/test/unit_test.hpp>

#include "connect_proxy.hpp"
#include "kv_fixture.hpp"

#include <regex>

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

struct Transcript {
  std::vector<std::string> lines;  // log lines and operation messages
  int debug_lines = 0;

  void take(Instance &instance) {
    std::lock_guard lock(instance.logs().mutex);
    for (const auto &[level, line] : instance.logs().lines) {
      if (level == COFFER_LOG_DEBUG) ++debug_lines;
      lines.push_back(line);
    }
  }
  void note(const Outcome &outcome) { lines.push_back(outcome.message); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(no_secret_token_or_assertion_in_a_debug_log_of_a_whole_run) {
  World world;
  auto &akv = world.emulator();
  const std::string tag = std::to_string(::getpid());
  std::vector<std::string> values;
  for (int i = 0; i < 6; ++i) values.push_back("S3cr3t-value-" + tag + "-" + std::to_string(i));
  std::vector<std::string> assertions{world.assertion()};
  Transcript transcript;

  {  // workload identity: the main flow, faults, an expired token, refusals
    akv.set_secret("VCS-GithubAdminPAT", values[0]);
    akv.set_secret("VCS-Denied", values[1]);
    akv.deny("VCS-Denied", "ForbiddenByRbac");
    Instance vault(plugin(), world.config());
    BOOST_TEST_REQUIRE(vault.opened(), vault.open_error());
    Outcome got = vault.get("VCS.GithubAdminPAT");
    BOOST_TEST_REQUIRE(got.ok(), got.message);
    transcript.note(got);
    Outcome put = vault.put("Email.SMTPPassword", values[2]);
    BOOST_TEST(put.ok(), put.message);
    transcript.note(put);
    transcript.note(vault.get("Email.SMTPPassword", put.version.c_str()));
    akv.inject_rule(boost::json::object{
        {"route", "get"}, {"fault", "429-retry-after"}, {"count", 1}, {"retry_after", "0"}});
    akv.inject("get", "503", 1);
    akv.inject("get", "reset", 1);
    akv.inject("get", "malformed-json", 1);
    akv.inject("get", "expired-token", 1);
    transcript.note(vault.get("VCS.GithubAdminPAT"));
    transcript.note(vault.get("VCS.Denied"));
    transcript.note(vault.get("VCS.Missing"));
    transcript.note(vault.list());
    transcript.note(vault.remove("Email.SMTPPassword"));
    transcript.note(vault.health());
    world.rotate_assertion("2");  // the kubelet rotates; the next exchange uses it
    assertions.push_back(world.assertion());
    akv.inject("get", "expired-token", 1);
    transcript.note(vault.get("VCS.GithubAdminPAT"));
    transcript.take(vault);
  }
  {  // a stale federated token is refused by Entra ID (AADSTS700024)
    kvtest::write_file(world.dir() / "stale", assertions[0]);
    boost::json::object credential{{"type", "workload_identity"},
                                   {"tenant_id", akv.tenant()},
                                   {"client_id", akv.client_id()},
                                   {"token_file", (world.dir() / "stale").string()}};
    Instance stale(plugin(), world.config({{"credential", credential}}));
    Outcome refused = stale.get("VCS.GithubAdminPAT");
    BOOST_TEST(refused.status == COFFER_STATUS_DENIED);
    transcript.note(refused);
    transcript.take(stale);
  }
  {  // the JSON bundle, read and rewritten
    akv.set_secret("PMP-Credentials", "{\"VCS-GitlabAdminPAT\":\"" + values[3] + "\"}");
    Instance bundle(
        plugin(),
        world.config({{"layout", boost::json::object{{"json_bundle", "PMP-Credentials"}}}}));
    transcript.note(bundle.get("VCS.GitlabAdminPAT"));
    transcript.note(bundle.put("VCS.GithubOrgOwnerPAT", values[4]));
    transcript.note(bundle.list());
    transcript.take(bundle);
  }
  const std::string wrong_secret = "wrong-client-secret-" + tag;
  {  // client secret, right and wrong, through a proxy with a password
    kvtest::ConnectProxy proxy;
    const std::string proxy_password = "proxy-pass-" + tag;
    Instance right(plugin(), world.config({{"credential", world.client_secret_credential()},
                                           {"proxy", "http://u:" + proxy_password + "@127.0.0.1:" +
                                                         std::to_string(proxy.port())}}));
    transcript.note(right.get("VCS.GithubAdminPAT"));
    transcript.take(right);
    ::setenv("COFFER_AKV_LEAK_SECRET", wrong_secret.c_str(), 1);
    boost::json::object credential = world.client_secret_credential();
    credential.erase("client_secret_file");
    credential["client_secret_env"] = "COFFER_AKV_LEAK_SECRET";
    Instance wrong(plugin(), world.config({{"credential", credential}}));
    Outcome refused = wrong.get("VCS.GithubAdminPAT");
    BOOST_TEST(refused.status == COFFER_STATUS_DENIED);
    transcript.note(refused);
    transcript.take(wrong);
    ::unsetenv("COFFER_AKV_LEAK_SECRET");
    for (const auto &line : transcript.lines) BOOST_TEST(!contains(line, proxy_password), line);
  }
  {  // managed identity
    boost::json::object credential{{"type", "managed_identity"},
                                   {"imds_endpoint", akv.imds_endpoint()}};
    akv.set_secret("VCS-AzureAuthSecret", values[5]);
    Instance identity(plugin(), world.config({{"credential", credential}}));
    transcript.note(identity.get("VCS.AzureAuthSecret"));
    transcript.take(identity);
  }

  // The log really was written at debug level, and covered the flows.
  BOOST_TEST(transcript.debug_lines >= 30);
  std::string all;
  for (const auto &line : transcript.lines) all += line + "\n";
  BOOST_TEST(contains(all, "obtained an access token"));
  BOOST_TEST(contains(all, "retrying in"));
  BOOST_TEST(contains(all, "AADSTS700024"));
  BOOST_TEST(contains(all, "AADSTS7000215"));

  std::vector<std::string> forbidden = values;
  for (const auto &assertion : assertions) {
    forbidden.push_back(assertion);
    forbidden.push_back(assertion.substr(assertion.rfind('.') + 1));  // its signature
  }
  forbidden.push_back(world.client_secret());
  forbidden.push_back(wrong_secret);
  forbidden.push_back("Bearer ");
  forbidden.push_back("access_token");
  forbidden.push_back("client_assertion=");
  // The emulator's access tokens are 48 random bytes in base64url: no log line
  // may hold a run of 40 or more such characters (names and ids here are
  // shorter; a UUID is 36).
  const std::regex token_like("[A-Za-z0-9_-]{40,}");
  for (const auto &line : transcript.lines) {
    for (const auto &secret : forbidden) BOOST_TEST(!contains(line, secret), line);
    BOOST_TEST(!std::regex_search(line, token_like), line);
  }
}
