// The emulator's own mechanisms, each checked through its HTTP interface:
// token issuance and its checks, challenge authentication, Key Vault
// operations, paging, fault injection, certificate modes and concurrency.
#define BOOST_TEST_MODULE azure_emulator_behaviour
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <fstream>
#include <thread>

#include "emulator_process.hpp"

namespace json = boost::json;
using coffer::test::Emulator;
using coffer::test::EmulatorOptions;
using coffer::test::EmulatorReply;
using coffer::test::Headers;

namespace {

std::filesystem::path write_temp(const std::string &name, const std::string &content) {
  const auto path = std::filesystem::temp_directory_path() /
                    (name + "-" + std::to_string(::getpid()) + "-" +
                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::ofstream(path) << content;
  return path;
}

std::string token_form(const Emulator &emulator, const std::string &credential) {
  return "grant_type=client_credentials&client_id=" + emulator.client_id() +
         "&scope=https%3A%2F%2Fvault.azure.net%2F.default&" + credential;
}

EmulatorReply post_token(const Emulator &emulator, const std::string &form,
                         const std::string &tenant = {}) {
  return emulator.https("POST",
                        "/" + (tenant.empty() ? emulator.tenant() : tenant) + "/oauth2/v2.0/token",
                        {{"Content-Type", "application/x-www-form-urlencoded"}}, form);
}

std::string assertion_form(const Emulator &emulator, const std::string &assertion) {
  return token_form(emulator,
                    "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%"
                    "3Ajwt-bearer&client_assertion=" +
                        assertion);
}

Headers bearer(const std::string &token) {
  return {{"Authorization", "Bearer " + token}};
}

std::int64_t entra_code(const EmulatorReply &reply) {
  return reply.json().at("error_codes").as_array().at(0).as_int64();
}

std::string vault_code(const EmulatorReply &reply) {
  return std::string(reply.json().at("error").at("code").as_string());
}

}  // namespace

BOOST_AUTO_TEST_CASE(workload_identity_assertion_must_equal_the_current_token_file) {
  const auto token_file = write_temp("wi-token", "assertion-one\n");
  EmulatorOptions options;
  options.token_file = token_file;
  Emulator emulator(options);

  auto reply = post_token(emulator, assertion_form(emulator, "assertion-one"));
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.json().at("token_type").as_string() == "Bearer");
  BOOST_TEST(reply.json().at("expires_in").as_int64() == 3600);

  // The kubelet rotates the file: the old assertion is now refused as expired.
  std::ofstream(token_file) << "assertion-two";
  reply = post_token(emulator, assertion_form(emulator, "assertion-one"));
  BOOST_TEST(reply.status == 401);
  BOOST_TEST(reply.json().at("error").as_string() == "invalid_client");
  BOOST_TEST(entra_code(reply) == 700024);
  BOOST_TEST(post_token(emulator, assertion_form(emulator, "assertion-two")).status == 200);

  // An assertion never seen: no matching federated credential.
  reply = post_token(emulator, assertion_form(emulator, "something-else"));
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(reply.json().at("error").as_string() == "invalid_request");
  BOOST_TEST(entra_code(reply) == 70021);
  const std::string description(reply.json().at("error_description").as_string());
  BOOST_TEST(description.find("\r\nTrace ID: ") != std::string::npos);
  BOOST_TEST(description.find("\r\nCorrelation ID: ") != std::string::npos);
  std::filesystem::remove(token_file);
}

BOOST_AUTO_TEST_CASE(token_endpoint_checks_tenant_client_scope_and_secret) {
  const auto secret_file = write_temp("client-secret", "the-secret\n");
  EmulatorOptions options;
  options.client_secret_file = secret_file;
  Emulator emulator(options);

  BOOST_TEST(post_token(emulator, token_form(emulator, "client_secret=the-secret")).status == 200);
  auto reply = post_token(emulator, token_form(emulator, "client_secret=wrong"));
  BOOST_TEST(reply.status == 401);
  BOOST_TEST(entra_code(reply) == 7000215);

  reply = post_token(emulator, token_form(emulator, "client_secret=the-secret"), "other-tenant");
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(reply.json().at("error").as_string() == "invalid_tenant");
  BOOST_TEST(entra_code(reply) == 90002);

  reply = post_token(emulator,
                     "grant_type=client_credentials&client_id=nobody&scope=x%2F.default"
                     "&client_secret=the-secret");
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(entra_code(reply) == 700016);

  reply = post_token(emulator, "grant_type=client_credentials&client_id=" + emulator.client_id() +
                                   "&scope=https%3A%2F%2Fvault.azure.net&client_secret=the-secret");
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(reply.json().at("error").as_string() == "invalid_scope");

  reply = post_token(emulator, "client_id=" + emulator.client_id());
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(entra_code(reply) == 900144);

  reply = post_token(emulator, token_form(emulator, "nothing=here"));
  BOOST_TEST(reply.status == 401);
  BOOST_TEST(entra_code(reply) == 7000218);
  std::filesystem::remove(secret_file);
}

BOOST_AUTO_TEST_CASE(key_vault_accepts_only_unexpired_tokens_it_issued_for_its_resource) {
  Emulator emulator;
  emulator.set_secret("Db-Password", "hunter2");
  auto reply = emulator.https("GET", "/secrets/Db-Password?api-version=7.6");
  BOOST_TEST(reply.status == 401);
  BOOST_TEST(reply.header("WWW-Authenticate") ==
             "Bearer authorization=\"https://login.windows.net/" + emulator.tenant() +
                 "\", resource=\"https://vault.azure.net\"");
  BOOST_TEST(
      emulator.https("GET", "/secrets/Db-Password?api-version=7.6", bearer("made-up")).status ==
      401);

  const std::string token = emulator.access_token();
  reply = emulator.https("GET", "/secrets/Db-Password?api-version=7.6", bearer(token));
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.json().at("value").as_string() == "hunter2");

  // A token for another resource is refused (AKV10022).
  const auto other = emulator.imds(
      "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.cn");
  reply = emulator.https("GET", "/secrets/Db-Password?api-version=7.6",
                         bearer(std::string(other.json().at("access_token").as_string())));
  BOOST_TEST(reply.status == 401);
  BOOST_TEST(
      std::string(reply.json().at("error").at("message").as_string()).starts_with("AKV10022"));

  // A token that has expired is refused.
  emulator.configure(R"({"token_lifetime": 0})");
  const std::string expired = emulator.access_token();
  reply = emulator.https("GET", "/secrets/Db-Password?api-version=7.6", bearer(expired));
  BOOST_TEST(reply.status == 401);
  BOOST_TEST(vault_code(reply) == "Unauthorized");
  BOOST_TEST(reply.has_header("WWW-Authenticate"));
  BOOST_TEST(emulator.requests("unauthenticated") == 4u);
}
