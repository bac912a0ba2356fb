// The emulator's own mechanisms, each checked through its HTTP interface:
// token issuance and its checks, challenge authentication, Key Vault
// operations, paging, fault injection, certificate modes and concurrency.
#define BOOST_TEST_MODULE azure_emulator_behaviour
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include "emulator_process.hpp"
#include "temp_directory.hpp"

namespace json = boost::json;
using coffer::test::Emulator;
using coffer::test::EmulatorOptions;
using coffer::test::EmulatorReply;
using coffer::test::Headers;

namespace {

// Writes a file into the suite's scratch directory, removed when the suite ends.
std::filesystem::path write_temp(const std::string &name, const std::string &content) {
  static const coffer::test::TempDirectory scratch("coffer-emulator-test");
  static int written = 0;
  return scratch.write(name + "-" + std::to_string(++written), content);
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

BOOST_AUTO_TEST_CASE(secret_paths_accept_sdk_quirks_and_names_are_case_insensitive) {
  Emulator emulator;
  const std::string version = emulator.set_secret("Smtp-Password", "p@ss");
  const auto auth = bearer(emulator.access_token());
  for (const std::string &target : std::vector<std::string>{
           "/secrets/Smtp-Password?api-version=7.6", "/secrets/smtp-password/?api-version=7.6",
           "/secrets/SMTP-PASSWORD/%2F?api-version=7.6-preview.2",
           "/secrets/Smtp-Password/?api%2Dversion=7.4",
           "/secrets/Smtp-Password/" + version + "?api-version=2025-07-01"}) {
    const auto reply = emulator.https("GET", target, auth);
    BOOST_TEST_INFO(target);
    BOOST_TEST(reply.status == 200);
    BOOST_TEST(reply.header("Content-Type") == "application/json; charset=utf-8");
    BOOST_TEST(reply.header("Cache-Control") == "no-cache");
    BOOST_TEST(!reply.header("x-ms-request-id").empty());
    BOOST_TEST(!reply.header("x-ms-keyvault-service-version").empty());
    const auto body = reply.json().as_object();
    BOOST_TEST(body.at("value").as_string() == "p@ss");
    BOOST_TEST(body.at("id").as_string() ==
               emulator.vault_url() + "/secrets/Smtp-Password/" + version);
    const auto &attributes = body.at("attributes").as_object();
    BOOST_TEST(attributes.at("enabled").as_bool());
    BOOST_TEST(attributes.at("created").is_int64());
    BOOST_TEST(attributes.at("updated").is_int64());
    BOOST_TEST(attributes.at("recoveryLevel").as_string() == "Recoverable+Purgeable");
    BOOST_TEST(attributes.at("recoverableDays").as_int64() == 90);
  }
  auto reply = emulator.https("GET",
                              "/secrets/Smtp-Password/0123456789abcdef0123456789abcdef"
                              "?api-version=7.6",
                              auth);
  BOOST_TEST(reply.status == 404);
  BOOST_TEST(vault_code(reply) == "SecretNotFound");
  BOOST_TEST(
      std::string(reply.json().at("error").at("message").as_string())
          .starts_with("A secret with (name/id) Smtp-Password/0123456789abcdef0123456789abcdef"
                       " was not found in this key vault."));
  reply = emulator.https("GET", "/secrets/Smtp-Password", auth);
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(vault_code(reply) == "BadParameter");
  reply = emulator.https("GET", "/secrets/Smtp-Password?api-version=1999-01-01", auth);
  BOOST_TEST(reply.status == 400);
  reply = emulator.https("GET", "/secrets/bad_name?api-version=7.6", auth);
  BOOST_TEST(reply.status == 400);
}

BOOST_AUTO_TEST_CASE(set_update_delete_recover_purge_follow_the_service) {
  Emulator emulator;
  const auto auth = bearer(emulator.access_token());
  Headers json_auth = auth;
  json_auth.emplace_back("Content-Type", "application/json");
  const std::string put = "/secrets/Build-Token?api-version=7.6";
  auto reply = emulator.https("PUT", put, json_auth,
                              R"({"value":"v1","contentType":"text/plain","tags":{"a":"b"}})");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.json().at("value").as_string() == "v1");
  BOOST_TEST(reply.json().at("contentType").as_string() == "text/plain");
  BOOST_TEST(reply.json().at("tags").at("a").as_string() == "b");
  const std::string id1(reply.json().at("id").as_string());
  reply = emulator.https("PUT", put, json_auth, R"({"value":"v2"})");
  const std::string id2(reply.json().at("id").as_string());
  BOOST_TEST(id1 != id2);
  BOOST_TEST(id2.size() ==
             emulator.vault_url().size() + std::string("/secrets/Build-Token/").size() + 32);
  BOOST_TEST(emulator.secret_value("build-token").value() == "v2");

  reply = emulator.https("GET", "/secrets/Build-Token/versions?api-version=7.6", auth);
  BOOST_TEST(reply.status == 200);
  const auto listing = reply.json();
  BOOST_TEST(listing.at("value").as_array().size() == 2u);
  for (const auto &item : listing.at("value").as_array()) {
    BOOST_TEST(!item.as_object().contains("value"));
  }

  // PATCH with an empty version updates the latest; the answer has no value.
  reply = emulator.https("PATCH", "/secrets/Build-Token/?api-version=7.6", json_auth,
                         R"({"attributes":{"enabled":false,"exp":32503680000}})");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(!reply.json().as_object().contains("value"));
  BOOST_TEST(reply.json().at("attributes").at("exp").as_int64() == 32503680000);
  reply = emulator.https("GET", "/secrets/Build-Token/?api-version=7.6", auth);
  BOOST_TEST(reply.status == 403);
  BOOST_TEST(vault_code(reply) == "Forbidden");
  BOOST_TEST(reply.json().at("error").at("innererror").at("code").as_string() == "SecretDisabled");
  // Older versions stay readable.
  BOOST_TEST(emulator
                 .https("GET",
                        "/secrets/Build-Token/" + id1.substr(id1.size() - 32) + "?api-version=7.6",
                        auth)
                 .status == 200);

  reply = emulator.https("PUT", "/secrets/?api-version=7.6", json_auth, R"({"value":"x"})");
  BOOST_TEST(reply.status == 405);
  BOOST_TEST(reply.body ==
             R"({"error":{"code":"MethodNotAllowed","message":"HTTP PUT not allowed"}})");
  BOOST_TEST(emulator.https("PUT", put, json_auth, R"({"nothing":1})").status == 400);

  emulator.configure(R"({"recoverable_days": 7, "delete_pending_gets": 1})");
  reply = emulator.https("DELETE", "/secrets/build-token?api-version=7.6", auth);
  BOOST_TEST(reply.status == 200);
  auto deleted = reply.json().as_object();
  BOOST_TEST(deleted.at("recoveryId").as_string() ==
             emulator.vault_url() + "/deletedsecrets/Build-Token");
  BOOST_TEST(deleted.at("scheduledPurgeDate").as_int64() - deleted.at("deletedDate").as_int64() ==
             7 * 86400);
  BOOST_TEST(deleted.at("attributes").at("recoveryLevel").as_string() ==
             "CustomizedRecoverable+Purgeable");
  BOOST_TEST(!deleted.contains("value"));
  BOOST_TEST(emulator.https("GET", "/secrets/Build-Token?api-version=7.6", auth).status == 404);
  // Deletion completes after one more poll; until then the name cannot be reused.
  reply = emulator.https("GET", "/deletedsecrets/Build-Token?api-version=7.6", auth);
  BOOST_TEST(reply.status == 404);
  BOOST_TEST(reply.json().at("error").at("message").as_string() ==
             "Deleted Secret not found: Build-Token");
  BOOST_TEST(emulator.https("GET", "/deletedsecrets/Build-Token?api-version=7.6", auth).status ==
             200);
  reply = emulator.https("PUT", put, json_auth, R"({"value":"v3"})");
  BOOST_TEST(reply.status == 409);
  BOOST_TEST(reply.json().at("error").at("innererror").at("code").as_string() ==
             "ObjectIsDeletedButRecoverable");
  reply = emulator.https("POST", "/deletedsecrets/Build-Token/recover?api-version=7.6", auth);
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(emulator.https("DELETE", "/secrets/Build-Token?api-version=7.6", auth).status == 200);
  reply = emulator.https("DELETE", "/deletedsecrets/Build-Token?api-version=7.6", auth);
  BOOST_TEST(reply.status == 409);  // still being deleted (one pending poll)
  emulator.https("GET", "/deletedsecrets/Build-Token?api-version=7.6", auth);
  reply = emulator.https("DELETE", "/deletedsecrets/Build-Token?api-version=7.6", auth);
  BOOST_TEST(reply.status == 204);
  BOOST_TEST(reply.body.empty());
  BOOST_TEST(!reply.has_header("Content-Type"));
  BOOST_TEST(emulator.https("PUT", put, json_auth, R"({"value":"v4"})").status == 200);
}

BOOST_AUTO_TEST_CASE(listing_pages_with_empty_pages_and_absolute_next_links) {
  Emulator emulator;
  for (const char *name : {"b-two", "A-one", "c-three", "D-four", "e-five"}) {
    emulator.set_secret(name, "x");
  }
  emulator.configure(R"({"empty_pages": 2})");
  const auto auth = bearer(emulator.access_token());
  std::string target = "/secrets?api-version=7.6&maxresults=2";
  std::vector<std::size_t> page_sizes;
  std::vector<std::string> names;
  for (int guard = 0; guard < 20; ++guard) {
    const auto reply = emulator.https("GET", target, auth);
    BOOST_REQUIRE(reply.status == 200);
    const auto body = reply.json().as_object();
    page_sizes.push_back(body.at("value").as_array().size());
    for (const auto &item : body.at("value").as_array()) {
      BOOST_TEST(!item.as_object().contains("value"));
      const std::string id(item.at("id").as_string());
      names.push_back(id.substr(id.rfind('/') + 1));
    }
    BOOST_REQUIRE(body.contains("nextLink"));
    if (body.at("nextLink").is_null()) break;
    const std::string next(body.at("nextLink").as_string());
    const std::string prefix = emulator.vault_url() + "/secrets?api-version=7.6&$skiptoken=";
    BOOST_TEST(next.starts_with(prefix));
    BOOST_TEST(next.ends_with("&maxresults=2"));
    target = next.substr(emulator.vault_url().size());
  }
  BOOST_TEST((page_sizes == std::vector<std::size_t>{0, 0, 2, 2, 1}));
  BOOST_TEST((names == std::vector<std::string>{"A-one", "b-two", "c-three", "D-four", "e-five"}));

  // A last full page still has a nextLink; the end is {"value":[],"nextLink":null}.
  emulator.configure(R"({"empty_pages": 0})");
  auto reply = emulator.https("GET", "/secrets?api-version=7.6&maxresults=5", auth);
  target = std::string(reply.json().at("nextLink").as_string()).substr(emulator.vault_url().size());
  reply = emulator.https("GET", target, auth);
  BOOST_TEST(reply.body == R"({"value":[],"nextLink":null})");
  BOOST_TEST(emulator.https("GET", "/secrets?api-version=7.6&$skiptoken=garbage", auth).status ==
             400);
  BOOST_TEST(emulator.https("GET", "/secrets?api-version=7.6&maxresults=26", auth).status == 400);
  // The configured page size applies when the client sends no maxresults.
  emulator.configure(R"({"page_size": 3})");
  reply = emulator.https("GET", "/secrets?api-version=7.6", auth);
  BOOST_TEST(reply.json().at("value").as_array().size() == 3u);
  BOOST_TEST(std::string(reply.json().at("nextLink").as_string()).ends_with("&maxresults=3"));
}

BOOST_AUTO_TEST_CASE(denied_names_answer_403_with_the_service_codes) {
  Emulator emulator;
  emulator.set_secret("Registry-Password", "x");
  const auto auth = bearer(emulator.access_token());
  const std::string get = "/secrets/Registry-Password?api-version=7.6";
  emulator.deny("registry-password");
  auto reply = emulator.https("GET", get, auth);
  BOOST_TEST(reply.status == 403);
  BOOST_TEST(vault_code(reply) == "Forbidden");
  BOOST_TEST(reply.json().at("error").at("innererror").at("code").as_string() == "ForbiddenByRbac");
  const std::string message(reply.json().at("error").at("message").as_string());
  BOOST_TEST(message.find("Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'") !=
             std::string::npos);
  BOOST_TEST(message.find("\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\n") != std::string::npos);
  emulator.deny("Registry-Password", "AccessDenied");
  reply = emulator.https("GET", get, auth);
  BOOST_TEST(reply.json().at("error").at("innererror").at("code").as_string() == "AccessDenied");
  BOOST_TEST(std::string(reply.json().at("error").at("message").as_string())
                 .find("does not have secrets get permission on key vault") != std::string::npos);
  BOOST_TEST(emulator.https("GET", "/secrets?api-version=7.6", auth).status == 200);
  emulator.allow("Registry-Password");
  BOOST_TEST(emulator.https("GET", get, auth).status == 200);
  emulator.deny("*");
  BOOST_TEST(emulator.https("GET", "/secrets?api-version=7.6", auth).status == 403);
  // A mistake in a control request is refused, not ignored.
  reply = emulator.https("POST", "/_emulator/deny", {}, R"({"name":"x","code":"Nope"})",
                         "coffer-emulator-control");
  BOOST_TEST(reply.status == 400);
}

BOOST_AUTO_TEST_CASE(imds_requires_the_metadata_header_and_answers_strings) {
  Emulator emulator;
  const std::string target =
      "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net";
  auto reply = emulator.imds(target, {});
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(reply.json().at("error").as_string() == "invalid_request");
  reply = emulator.imds(target + "&client_id=someone-else");
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(reply.json().at("error_description").as_string() == "Identity not found");
  reply = emulator.imds(target + "&client_id=" + emulator.client_id());
  BOOST_TEST(reply.status == 200);
  const auto body = reply.json().as_object();
  for (const char *key :
       {"access_token", "expires_in", "expires_on", "not_before", "resource", "token_type"}) {
    BOOST_TEST_INFO(key);
    BOOST_TEST(body.at(key).is_string());
  }
  BOOST_TEST(body.at("expires_in").as_string() == "3600");
  BOOST_TEST(emulator.requests("imds") == 3u);
}

BOOST_AUTO_TEST_CASE(status_faults_are_count_based_per_route) {
  Emulator emulator;
  emulator.set_secret("Key", "x");
  const auto auth = bearer(emulator.access_token());
  const std::string get = "/secrets/Key?api-version=7.6";
  emulator.inject("get", "429", 2);
  for (int i = 0; i < 2; ++i) {
    const auto reply = emulator.https("GET", get, auth);
    BOOST_TEST(reply.status == 429);
    BOOST_TEST(!reply.has_header("Retry-After"));
    BOOST_TEST(reply.body ==
               R"({"error":{"code":"Throttled","message":"Request was not processed because too )"
               R"(many requests were received. Reason: VaultRequestTypeLimitReached"}})");
  }
  BOOST_TEST(emulator.https("GET", get, auth).status == 200);
  emulator.inject_rule(json::object{
      {"route", "get"}, {"fault", "429-retry-after"}, {"count", 1}, {"retry_after", "7"}});
  auto reply = emulator.https("GET", get, auth);
  BOOST_TEST(reply.status == 429);
  BOOST_TEST(reply.header("Retry-After") == "7");
  for (const std::string &status : std::vector<std::string>{"408", "500", "502", "503", "504"}) {
    emulator.inject("get", status, 1);
    reply = emulator.https("GET", get, auth);
    BOOST_TEST(std::to_string(reply.status) == status);
    BOOST_TEST(reply.json().at("error").at("code").is_string());
  }
  // Retry-After on other statuses only when asked for.
  BOOST_TEST(!reply.has_header("Retry-After"));
  emulator.inject_rule(json::object{{"route", "get"},
                                    {"fault", "503"},
                                    {"count", 1},
                                    {"retry_after", "Wed, 21 Oct 2015 07:28:00 GMT"}});
  reply = emulator.https("GET", get, auth);
  BOOST_TEST(reply.status == 503);
  BOOST_TEST(reply.header("Retry-After") == "Wed, 21 Oct 2015 07:28:00 GMT");
  // Other routes are untouched; "any" matches every route.
  emulator.inject("put", "503", 1);
  BOOST_TEST(emulator.https("GET", get, auth).status == 200);
  emulator.inject("any", "500", 1);
  BOOST_TEST(emulator.https("GET", "/secrets?api-version=7.6", auth).status == 500);
  reply = emulator.imds("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x");
  BOOST_TEST(reply.status == 200);
  emulator.inject("token", "503", 1);
  reply = post_token(emulator, token_form(emulator, "client_secret=x"));
  BOOST_TEST(reply.status == 503);
  BOOST_TEST(reply.json().at("error").as_string() == "temporarily_unavailable");
  emulator.inject("get", "500", 5);
  emulator.reset_faults();
  BOOST_TEST(emulator.https("GET", get, auth).status == 200);
  BOOST_TEST(emulator.stats().at("faults_injected").to_number<std::uint64_t>() == 11u);
}

BOOST_AUTO_TEST_CASE(transport_faults_reset_truncate_stall_and_malformed_json) {
  Emulator emulator;
  emulator.set_secret("Key", "a value long enough to be cut in half");
  const auto auth = bearer(emulator.access_token());
  const std::string get = "/secrets/Key?api-version=7.6";

  emulator.inject("get", "reset", 1);
  BOOST_CHECK_THROW(emulator.https("GET", get, auth), boost::system::system_error);
  BOOST_TEST(emulator.https("GET", get, auth).status == 200);

  emulator.inject("get", "truncate", 1);
  BOOST_CHECK_THROW(emulator.https("GET", get, auth), boost::system::system_error);

  emulator.inject("get", "malformed-json", 1);
  auto reply = emulator.https("GET", get, auth);
  BOOST_TEST(reply.status == 200);
  BOOST_CHECK_THROW((void)reply.json(), std::exception);

  // A stalled response comes late but whole.
  emulator.inject_rule(
      json::object{{"route", "get"}, {"fault", "stall"}, {"count", 1}, {"stall_ms", 300}});
  const auto start = std::chrono::steady_clock::now();
  reply = emulator.https("GET", get, auth);
  BOOST_TEST(reply.status == 200);
  const bool held_back = std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300);
  BOOST_TEST(held_back);
  // A client that gives up on a stall does not hold up the others.
  emulator.inject_rule(
      json::object{{"route", "get"}, {"fault", "stall"}, {"count", 1}, {"stall_ms", 600000}});
  BOOST_CHECK_THROW(emulator.https("GET", get, auth, {}, "localhost", std::chrono::seconds(1)),
                    boost::system::system_error);
  BOOST_TEST(emulator.https("GET", get, auth).status == 200);
}

BOOST_AUTO_TEST_CASE(expired_token_faults) {
  const auto secret_file = write_temp("client-secret", "s");
  EmulatorOptions options;
  options.client_secret_file = secret_file;
  Emulator emulator(options);
  emulator.set_secret("Key", "x");
  const std::string get = "/secrets/Key?api-version=7.6";
  const auto auth = bearer(emulator.access_token());
  // A valid token refused once as expired.
  emulator.inject("get", "expired-token", 1);
  auto reply = emulator.https("GET", get, auth);
  BOOST_TEST(reply.status == 401);
  BOOST_TEST(reply.has_header("WWW-Authenticate"));
  BOOST_TEST(reply.json().at("error").at("message").as_string() ==
             "[TokenExpired] Error validating token: 'S2S12086'.");
  BOOST_TEST(emulator.https("GET", get, auth).status == 200);
  // The token endpoint issues a token that is already expired.
  emulator.inject("token", "expired-token", 1);
  reply = post_token(emulator, token_form(emulator, "client_secret=s"));
  BOOST_TEST(reply.status == 200);
  const std::string dead(reply.json().at("access_token").as_string());
  BOOST_TEST(emulator.https("GET", get, bearer(dead)).status == 401);
  reply = post_token(emulator, token_form(emulator, "client_secret=s"));
  const std::string good(reply.json().at("access_token").as_string());
  BOOST_TEST(emulator.https("GET", get, bearer(good)).status == 200);
  std::filesystem::remove(secret_file);
}

BOOST_AUTO_TEST_CASE(probability_faults_replay_with_the_same_seed) {
  auto pattern = [](std::uint64_t seed) {
    EmulatorOptions options;
    options.rng_seed = seed;
    Emulator emulator(options);
    BOOST_TEST(emulator.rng_seed() == seed);
    emulator.set_secret("Key", "x");
    auto connection = emulator.connect();
    const auto auth = bearer(emulator.access_token());
    emulator.inject_probability("get", "503", 0.3);
    std::string outcome;
    for (int i = 0; i < 200; ++i) {
      outcome +=
          connection.request("GET", "/secrets/Key?api-version=7.6", auth).status == 503 ? 'F' : '.';
    }
    BOOST_TEST(emulator.stats().at("faults_injected").to_number<std::uint64_t>() ==
               static_cast<std::uint64_t>(std::count(outcome.begin(), outcome.end(), 'F')));
    return outcome;
  };
  const std::string first = pattern(42);
  const auto faults = std::count(first.begin(), first.end(), 'F');
  BOOST_TEST(faults > 20);
  BOOST_TEST(faults < 100);
  BOOST_TEST(pattern(42) == first);
  BOOST_TEST(pattern(43) != first);
}

BOOST_AUTO_TEST_CASE(untrusted_and_wrong_name_certificates_on_request) {
  EmulatorOptions options;
  options.sans = {"vault.coffer.test"};
  Emulator emulator(options);
  BOOST_TEST(emulator.https("GET", "/secrets?api-version=7.6").status == 401);
  BOOST_TEST(
      emulator.https("GET", "/secrets?api-version=7.6", {}, {}, "vault.coffer.test").status == 401);
  BOOST_TEST(emulator.https("GET", "/secrets?api-version=7.6", {}, {}, "127.0.0.1").status == 401);
  BOOST_CHECK_THROW(emulator.https("GET", "/secrets?api-version=7.6", {}, {}, "other.coffer.test"),
                    boost::system::system_error);

  emulator.configure(R"({"untrusted_cert": true})");
  BOOST_CHECK_THROW(emulator.https("GET", "/secrets?api-version=7.6"), boost::system::system_error);
  BOOST_TEST(emulator.stats().contains("requests"));  // the control API still answers
  emulator.configure(R"({"untrusted_cert": false, "cert_sans": ["elsewhere.coffer.test"]})");
  BOOST_CHECK_THROW(emulator.https("GET", "/secrets?api-version=7.6"), boost::system::system_error);
  BOOST_TEST(
      emulator.https("GET", "/secrets?api-version=7.6", {}, {}, "elsewhere.coffer.test").status ==
      401);
  emulator.configure(R"({"cert_sans": null})");
  BOOST_TEST(emulator.https("GET", "/secrets?api-version=7.6").status == 401);
}

BOOST_AUTO_TEST_CASE(openid_metadata_points_at_the_emulator) {
  Emulator emulator;
  auto reply =
      emulator.https("GET", "/" + emulator.tenant() + "/v2.0/.well-known/openid-configuration");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.json().at("token_endpoint").as_string() ==
             emulator.vault_url() + "/" + emulator.tenant() + "/oauth2/v2.0/token");
  reply = emulator.https("GET", "/nobody/v2.0/.well-known/openid-configuration");
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(entra_code(reply) == 90002);
}

BOOST_AUTO_TEST_CASE(many_concurrent_keep_alive_connections) {
  Emulator emulator;
  emulator.set_secret("Shared", "v");
  const auto auth = bearer(emulator.access_token());
  constexpr int kConnections = 200;
  constexpr int kRequestsEach = 5;
  std::atomic<int> connected{0};
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kConnections; ++i) {
    threads.emplace_back([&] {
      try {
        auto connection = emulator.connect();
        ++connected;
        // Every connection is open before any request goes out.
        while (connected.load() < kConnections)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        for (int r = 0; r < kRequestsEach; ++r) {
          if (connection.request("GET", "/secrets/Shared?api-version=7.6", auth).status == 200)
            ++ok;
        }
      } catch (const std::exception &) {
        connected += kConnections;  // unblock the others; the count check fails
      }
    });
  }
  for (auto &t : threads) t.join();
  BOOST_TEST(ok.load() == kConnections * kRequestsEach);
  BOOST_TEST(emulator.requests("get") == static_cast<std::uint64_t>(kConnections * kRequestsEach));
}

BOOST_AUTO_TEST_CASE(seed_file_endpoint_file_and_clean_shutdown) {
  const auto seed = write_temp("seed", R"({"Seeded-One": "1", "Seeded-Two": "two"})");
  EmulatorOptions options;
  options.seed_file = seed;
  options.rng_seed = 99;
  Emulator emulator(options);
  BOOST_TEST(emulator.secret_value("seeded-one").value() == "1");
  BOOST_TEST(emulator.secret_value("Seeded-Two").value() == "two");
  BOOST_TEST(!emulator.secret_value("Seeded-Three").has_value());
  const auto endpoint = json::parse([&] {
                          std::ifstream in(emulator.state_dir() / "endpoint.json");
                          return std::string(std::istreambuf_iterator<char>(in), {});
                        }())
                            .as_object();
  BOOST_TEST(endpoint.at("pid").to_number<std::int64_t>() == emulator.pid());
  BOOST_TEST(endpoint.at("ca_file").as_string() == emulator.ca_file().string());
  BOOST_TEST(endpoint.at("rng_seed").to_number<std::uint64_t>() == 99u);
  BOOST_TEST(std::filesystem::exists(emulator.ca_file()));
  BOOST_TEST(emulator.stop() == 0);  // SIGTERM: a clean exit, not a kill

  std::ofstream(seed) << R"(["not", "an", "object"])";
  BOOST_CHECK_THROW(Emulator{options}, std::runtime_error);
  std::filesystem::remove(seed);
}
