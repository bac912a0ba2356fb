// Unit tests of the azure_keyvault provider's pure layers: names, config,
// challenge parsing and resource verification, Retry-After and backoff, Entra
// errors, Key Vault answers, the JSON bundle, proxy rules and secret memory.
#define BOOST_TEST_MODULE azure_keyvault_unit
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "catalog_keys.hpp"
#include "challenge.hpp"
#include "config.hpp"
#include "credential.hpp"
#include "entra.hpp"
#include "json_bundle.hpp"
#include "names.hpp"
#include "proxy.hpp"
#include "retry.hpp"
#include "secret_memory.hpp"
#include "temp_directory.hpp"
#include "url.hpp"
#include "vault_response.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

using coffer::provider::Error;
using coffer::provider::SecretBytes;
using kvtest::kCatalog;
using namespace coffer::azure;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

// Runs `body`, expecting coffer::provider::Error; returns it.
template <class Body>
Error expect_error(Body body) {
  try {
    body();
  } catch (const Error &error) {
    return error;
  }
  BOOST_FAIL("expected coffer::provider::Error");
  return Error(COFFER_STATUS_OK, "");
}

EnvironmentLookup fake_environment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string &name) -> std::optional<std::string> {
    auto found = values.find(name);
    if (found == values.end()) return std::nullopt;
    return found->second;
  };
}

const std::map<std::string, std::string> kWorkloadEnvironment = {
    {"AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555"},
    {"AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"},
    {"AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token"},
    {"AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/"}};

Config parse(const std::string &json,
             std::map<std::string, std::string> environment = kWorkloadEnvironment,
             const std::string &base = "/etc/coffer") {
  return parse_config(json, base, fake_environment(std::move(environment)));
}

}  // namespace

// ---------------------------------------------------------------- names

BOOST_AUTO_TEST_SUITE(names)

BOOST_AUTO_TEST_CASE(catalog_keys_map_to_hyphen_names_and_back) {
  for (const char *key : kCatalog) {
    std::string name = secret_name_for_key(key);
    BOOST_TEST(name.find('.') == std::string::npos);
    BOOST_TEST(is_valid_secret_name(name));
    BOOST_TEST(key_for_secret_name(name).value_or("") == key);
  }
  BOOST_TEST(secret_name_for_key("Email.SMTPPassword") == "Email-SMTPPassword");
}

BOOST_AUTO_TEST_CASE(invalid_keys_are_refused_with_the_key_named) {
  Error bad = expect_error([] { secret_name_for_key("VCS.Github_PAT"); });
  BOOST_TEST(bad.status() == COFFER_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(contains(bad.what(), "VCS.Github_PAT"));
  BOOST_TEST(contains(bad.what(), "'_'"));
  Error long_key = expect_error([] { secret_name_for_key("A." + std::string(126, 'x')); });
  BOOST_TEST(contains(long_key.what(), "128 characters"));
  BOOST_TEST(secret_name_for_key("A." + std::string(125, 'x')).size() == 127u);
  expect_error([] { secret_name_for_key(""); });
  Error control = expect_error([] { secret_name_for_key("A.B\x01"); });
  BOOST_TEST(contains(control.what(), "0x01"));
}

BOOST_AUTO_TEST_CASE(names_without_exactly_one_inner_hyphen_have_no_key) {
  BOOST_TEST(key_for_secret_name("VCS-GithubAdminPAT").value_or("") == "VCS.GithubAdminPAT");
  BOOST_TEST(!key_for_secret_name("PMP-Credentials-2").has_value());
  BOOST_TEST(!key_for_secret_name("Standalone").has_value());
  BOOST_TEST(!key_for_secret_name("-Leading").has_value());
  BOOST_TEST(!key_for_secret_name("Trailing-").has_value());
  BOOST_TEST(!key_for_secret_name("bad_name-x").has_value());
}

BOOST_AUTO_TEST_CASE(versions_are_alphanumeric) {
  BOOST_TEST(is_valid_version("41cce6796d81438f9dad0d96bf85d50d"));
  BOOST_TEST(!is_valid_version(""));
  BOOST_TEST(!is_valid_version("../x"));
  BOOST_TEST(!is_valid_version("a-b"));
  BOOST_TEST(!is_valid_version(std::string(65, 'a')));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- config

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(vault_name_and_cloud_come_from_one_table) {
  Config public_cloud = parse(R"({"vault_name": "PMP-Production-Vault"})");
  BOOST_TEST(public_cloud.vault.endpoint.host == "pmp-production-vault.vault.azure.net");
  BOOST_TEST(public_cloud.vault.endpoint.port == 443);
  BOOST_TEST(std::string(public_cloud.cloud->resource) == "https://vault.azure.net");
  BOOST_TEST(public_cloud.authority.endpoint.host == "login.microsoftonline.com");
  BOOST_TEST(public_cloud.api_version == "7.6");

  auto china_env = kWorkloadEnvironment;
  china_env.erase("AZURE_AUTHORITY_HOST");
  Config china = parse(R"({"vault_name": "myvault", "cloud": "china"})", china_env);
  BOOST_TEST(china.vault.endpoint.host == "myvault.vault.azure.cn");
  BOOST_TEST(china.authority.endpoint.host == "login.chinacloudapi.cn");
  Config gov = parse(R"({"vault_name": "myvault", "cloud": "usgovernment"})", china_env);
  BOOST_TEST(gov.vault.endpoint.host == "myvault.vault.usgovcloudapi.net");
  BOOST_TEST(gov.authority.endpoint.host == "login.microsoftonline.us");
  BOOST_TEST(std::string(gov.cloud->resource) == "https://vault.usgovcloudapi.net");
}

BOOST_AUTO_TEST_CASE(vault_url_infers_the_cloud) {
  auto env = kWorkloadEnvironment;
  env.erase("AZURE_AUTHORITY_HOST");
  Config china = parse(R"({"vault_url": "https://x.vault.azure.cn/"})", env);
  BOOST_TEST(std::string(china.cloud->name) == "china");
  BOOST_TEST(china.authority.endpoint.host == "login.chinacloudapi.cn");
  Config custom = parse(R"({"vault_url": "https://localhost:8443", "authority_host":
                         "https://localhost:8443/"})",
                        env);
  BOOST_TEST(custom.vault.endpoint.port == 8443);
  BOOST_TEST(custom.authority.endpoint.port == 8443);
}

BOOST_AUTO_TEST_CASE(unknown_fields_name_the_nearest_known_one) {
  Error top = expect_error([] { parse(R"({"vault_nme": "x"})"); });
  BOOST_TEST(top.status() == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(top.what(), "'vault_nme'"));
  BOOST_TEST(contains(top.what(), "did you mean 'vault_name'"));
  Error nested =
      expect_error([] { parse(R"({"vault_name": "abc", "credential": {"tokn_file": "x"}})"); });
  BOOST_TEST(contains(nested.what(), "'credential.tokn_file'"));
  BOOST_TEST(contains(nested.what(), "'credential.token_file'"));
  Error far = expect_error([] { parse(R"({"vault_name": "abc", "zzzzzzzzzzzz": 1})"); });
  BOOST_TEST(contains(far.what(), "known fields are"));
  Error type = expect_error(
      [] { parse(R"({"vault_name": "abc", "credential": {"type": "workload_identiy"}})"); });
  BOOST_TEST(contains(type.what(), "did you mean 'workload_identity'"));
  Error twice = expect_error([] {
    parse(R"({"vault_name": "abc", "credential": {"client_id": "a", "client_id": "b"}})");
  });
  BOOST_TEST(contains(twice.what(), "field 'credential.client_id' appears twice"), twice.what());
}

BOOST_AUTO_TEST_CASE(workload_identity_takes_the_webhook_variables_and_config_overrides) {
  Config from_env = parse(R"({"vault_name": "abc"})");
  BOOST_TEST((from_env.credential.type == CredentialType::workload_identity));
  BOOST_TEST(from_env.credential.client_id == "11111111-2222-3333-4444-555555555555");
  BOOST_TEST(from_env.credential.tenant_id == "72f988bf-86f1-41af-91ab-2d7cd011db47");
  BOOST_TEST(from_env.credential.token_file ==
             "/var/run/secrets/azure/tokens/azure-identity-token");
  Config overridden = parse(R"({"vault_name": "abc", "authority_host": "https://login.example/",
    "credential": {"type": "workload_identity", "client_id": "cid", "tenant_id": "contoso.com",
                   "token_file": "tokens/token"}})");
  BOOST_TEST(overridden.credential.client_id == "cid");
  BOOST_TEST(overridden.credential.tenant_id == "contoso.com");
  BOOST_TEST(overridden.credential.token_file == "/etc/coffer/tokens/token");
  BOOST_TEST(overridden.authority.endpoint.host == "login.example");

  Error missing = expect_error([] { parse(R"({"vault_name": "abc"})", {}); });
  BOOST_TEST(contains(missing.what(), "AZURE_TENANT_ID"));
  BOOST_TEST(contains(missing.what(), "azure.workload.identity/use"));
}

BOOST_AUTO_TEST_CASE(secrets_never_go_over_plain_http) {
  Error vault = expect_error([] { parse(R"({"vault_url": "http://x.vault.azure.net"})"); });
  BOOST_TEST(contains(vault.what(), "https://"));
  Error authority = expect_error(
      [] { parse(R"({"vault_name": "abc", "authority_host": "http://login.example/"})"); });
  BOOST_TEST(contains(authority.what(), "authority_host"));
  // IMDS is plain HTTP by design.
  Config imds = parse(R"({"vault_name": "abc", "credential": {"type": "managed_identity",
                          "imds_endpoint": "http://127.0.0.1:9/metadata/identity/oauth2/token"}})");
  BOOST_TEST(!imds.credential.imds_endpoint.endpoint.tls);
  Config default_imds =
      parse(R"({"vault_name": "abc", "credential": {"type": "managed_identity"}})", {});
  BOOST_TEST(default_imds.credential.imds_endpoint.endpoint.host == "169.254.169.254");
}

BOOST_AUTO_TEST_CASE(client_secret_comes_from_a_file_or_a_variable_never_the_policy) {
  Config file = parse(R"({"vault_name": "abc", "ca_file": "ca.pem", "credential": {
      "type": "client_secret", "client_secret_file": "secret.txt"}})");
  BOOST_TEST(file.credential.client_secret_file == "/etc/coffer/secret.txt");
  BOOST_TEST(file.ca_file == "/etc/coffer/ca.pem");
  Config variable = parse(R"({"vault_name": "abc", "credential": {
      "type": "client_secret", "client_secret_env": "KV_SECRET"}})");
  BOOST_TEST(variable.credential.client_secret_env == "KV_SECRET");
  Error both = expect_error([] {
    parse(R"({"vault_name": "abc", "credential": {"type": "client_secret",
             "client_secret_env": "A", "client_secret_file": "b"}})");
  });
  BOOST_TEST(contains(both.what(), "exactly one"));
  Error secret_field = expect_error([] {
    parse(
        R"({"vault_name": "abc", "credential": {"type": "client_secret", "client_secret": "x"}})");
  });
  BOOST_TEST(contains(secret_field.what(), "unknown field 'credential.client_secret'"));
}

BOOST_AUTO_TEST_CASE(layouts_timeouts_and_connection_settings) {
  Config bundle = parse(R"({"vault_name": "abc", "layout": {"json_bundle": "PMP-Credentials",
                            "refresh_s": 5}, "max_attempts": 7, "retry_base_delay_ms": 10,
                            "operation_timeout_ms": 3000, "connect_to": "127.0.0.1:8443"})");
  BOOST_TEST(bundle.bundle_secret.value_or("") == "PMP-Credentials");
  BOOST_TEST(bundle.bundle_refresh.count() == 5000);
  BOOST_TEST(bundle.retry.max_attempts == 7);
  BOOST_TEST(bundle.retry.base_delay.count() == 10);
  BOOST_TEST(bundle.retry.operation_timeout.count() == 3000);
  BOOST_TEST(bundle.connect_to->host == "127.0.0.1");
  BOOST_TEST(bundle.connect_to->port == 8443);
  BOOST_TEST(!parse(R"({"vault_name": "abc", "layout": "per_key"})").bundle_secret.has_value());
  expect_error([] { parse(R"({"vault_name": "abc", "layout": "bundle"})"); });
  expect_error([] { parse(R"({"vault_name": "abc", "layout": {"json_bundle": "a.b"}})"); });
  expect_error([] { parse(R"({"vault_name": "abc", "max_attempts": 0})"); });
  expect_error([] { parse(R"({"vault_name": "abc", "connect_to": "nope"})"); });
  expect_error([] { parse(R"({"vault_name": "a"})"); });
  expect_error(
      [] { parse(R"({"vault_name": "abc", "vault_url": "https://abc.vault.azure.net"})"); });
}

BOOST_AUTO_TEST_CASE(numbers_are_range_checked_and_strings_hold_no_nul) {
  // 2^32 + 1 ms would be 1 ms if it were ever narrowed to 32 bits.
  for (const char *number : {"4294967297", "18446744073709551615", "1e3", "1e400", "-1", "2.5"}) {
    Error error = expect_error([&] {
      parse(std::string(R"({"vault_name": "abc", "request_timeout_ms": )") + number + "}");
    });
    BOOST_TEST(contains(error.what(), "'request_timeout_ms'"), number << ": " << error.what());
    BOOST_TEST(contains(error.what(), "between 1 and 600000"), number << ": " << error.what());
  }
  Error nul = expect_error([] {
    parse(R"({"vault_name": "abc", "credential": {"token_file": "/var/run/token\u0000.x"}})");
  });
  BOOST_TEST(contains(nul.what(), "'credential.token_file'"), nul.what());
  BOOST_TEST(contains(nul.what(), "NUL"), nul.what());
}

BOOST_AUTO_TEST_CASE(proxy_from_environment_or_config) {
  auto env = kWorkloadEnvironment;
  env["HTTPS_PROXY"] = "http://proxy.internal:3128";
  env["NO_PROXY"] = "localhost,.internal.example";
  Config from_env = parse(R"({"vault_name": "abc"})", env);
  BOOST_TEST(from_env.proxy.enabled());
  BOOST_TEST(from_env.proxy.proxy_for("abc.vault.azure.net") != nullptr);
  BOOST_TEST(from_env.proxy.proxy_for("localhost") == nullptr);
  BOOST_TEST(from_env.proxy.proxy_for("a.internal.example") == nullptr);
  Config none = parse(R"({"vault_name": "abc", "proxy": "none"})", env);
  BOOST_TEST(!none.proxy.enabled());
  Error https_proxy =
      expect_error([] { parse(R"({"vault_name": "abc", "proxy": "https://proxy:3128"})"); });
  BOOST_TEST(contains(https_proxy.what(), "field 'proxy'"));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- challenge

BOOST_AUTO_TEST_SUITE(challenge)

BOOST_AUTO_TEST_CASE(parses_the_recorded_challenge) {
  auto parsed = parse_challenge(
      R"(Bearer authorization="https://login.windows.net/12345678-1234-1234-1234-123456789012", resource="https://vault.azure.net")");
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->tenant == "12345678-1234-1234-1234-123456789012");
  BOOST_TEST(parsed->scope == "https://vault.azure.net/.default");
  BOOST_TEST(parsed->resource_host == "vault.azure.net");
}

BOOST_AUTO_TEST_CASE(parses_variants) {
  auto scope_only = parse_challenge(
      R"(bearer AUTHORIZATION_URI="https://login.microsoftonline.com/contoso.com/", scope="https://vault.azure.cn/.default")");
  BOOST_TEST_REQUIRE(scope_only.has_value());
  BOOST_TEST(scope_only->tenant == "contoso.com");
  BOOST_TEST(scope_only->scope == "https://vault.azure.cn/.default");
  BOOST_TEST(scope_only->resource_host == "vault.azure.cn");
  auto trailing = parse_challenge(
      R"(PoP nonce="abc", Bearer authorization="https://login.windows.net/t1", resource="https://vault.azure.net/")");
  BOOST_TEST_REQUIRE(trailing.has_value());
  BOOST_TEST(trailing->scope == "https://vault.azure.net/.default");
  BOOST_TEST(!parse_challenge("Basic realm=\"x\"").has_value());
  BOOST_TEST(!parse_challenge("Bearer resource=\"https://vault.azure.net\"").has_value());
  BOOST_TEST(
      !parse_challenge(
           R"(Bearer authorization="https://login.windows.net/a%2F..%2Fb", resource="https://vault.azure.net")")
           .has_value());
  BOOST_TEST(
      !parse_challenge(
           R"(Bearer authorization="https://login.windows.net/t", resource="http://vault.azure.net")")
           .has_value());
}

BOOST_AUTO_TEST_CASE(resource_must_be_a_dot_suffix_of_the_vault_host) {
  Challenge challenge{"t", "https://vault.azure.net/.default", "vault.azure.net"};
  BOOST_TEST(check_challenge_resource(challenge, "myvault.vault.azure.net").empty());
  BOOST_TEST(check_challenge_resource(challenge, "MyVault.Vault.Azure.Net").empty());
  std::string refusal = check_challenge_resource(challenge, "localhost");
  BOOST_TEST(contains(refusal, "verify_challenge_resource"));
  BOOST_TEST(contains(refusal, "localhost"));
  BOOST_TEST(!check_challenge_resource(challenge, "evilvault.azure.net").empty());
  BOOST_TEST(!check_challenge_resource(challenge, "vault.azure.net").empty());
  BOOST_TEST(!check_challenge_resource(challenge, "myvault.vault.azure.net.evil.com").empty());
}

BOOST_AUTO_TEST_CASE(the_expected_challenge_comes_from_the_tenant_and_the_vault_hosts_cloud) {
  auto env = kWorkloadEnvironment;
  env.erase("AZURE_AUTHORITY_HOST");
  const std::string tenant = env.at("AZURE_TENANT_ID");
  auto expected = expected_challenge(parse(R"({"vault_name": "PMP-Vault"})", env));
  BOOST_TEST_REQUIRE(expected.has_value());
  BOOST_TEST(expected->tenant == tenant);
  BOOST_TEST(expected->scope == "https://vault.azure.net/.default");
  BOOST_TEST(expected->resource_host == "vault.azure.net");
  // What is sent first would pass the check a learnt challenge must pass.
  BOOST_TEST(check_challenge_resource(*expected, "pmp-vault.vault.azure.net").empty());

  auto china = expected_challenge(parse(R"({"vault_url": "https://X.Vault.Azure.CN/"})", env));
  BOOST_TEST_REQUIRE(china.has_value());
  BOOST_TEST(china->scope == "https://vault.azure.cn/.default");
  auto gov = expected_challenge(parse(R"({"vault_name": "xyz", "cloud": "usgovernment"})", env));
  BOOST_TEST_REQUIRE(gov.has_value());
  BOOST_TEST(gov->scope == "https://vault.usgovcloudapi.net/.default");

  // Managed identity needs no tenant for its token.
  auto managed = expected_challenge(
      parse(R"({"vault_name": "xyz", "credential": {"type": "managed_identity"}})", env));
  BOOST_TEST_REQUIRE(managed.has_value());
  BOOST_TEST(managed->tenant.empty());
  BOOST_TEST(managed->scope == "https://vault.azure.net/.default");

  // Hosts outside a cloud's vault domain learn their challenge first.
  for (const char *url : {"https://localhost:8443", "https://vault.azure.net/",
                          "https://myvault.vault.azure.net.evil.com/",
                          "https://myvault.privatelink.vaultcore.azure.net/"}) {
    BOOST_TEST_CONTEXT(url) {
      boost::json::object config{{"vault_url", url}, {"authority_host", "https://localhost:8443/"}};
      BOOST_TEST(!expected_challenge(parse(boost::json::serialize(config), env)).has_value());
    }
  }
  // And so does every vault when told to.
  BOOST_TEST(!expected_challenge(parse(R"({"vault_name": "xyz", "send_token_first": false})", env))
                  .has_value());
  Error wrong =
      expect_error([&] { parse(R"({"vault_name": "xyz", "send_token_first": 1})", env); });
  BOOST_TEST(contains(wrong.what(), "send_token_first"));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- retry

BOOST_AUTO_TEST_SUITE(retry)

BOOST_AUTO_TEST_CASE(retry_after_in_seconds_and_http_dates) {
  const int64_t now = 784111777000;  // Sun, 06 Nov 1994 08:49:37 GMT
  BOOST_TEST(parse_retry_after("2", now)->count() == 2000);
  BOOST_TEST(parse_retry_after(" 0 ", now)->count() == 0);
  BOOST_TEST(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").value_or(0) == 784111777);
  BOOST_TEST(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT").value_or(0) == 784111777);
  BOOST_TEST(parse_http_date("Sun Nov  6 08:49:37 1994").value_or(0) == 784111777);
  BOOST_TEST(parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now)->count() == 3000);
  BOOST_TEST(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now)->count() == 0);
  BOOST_TEST(!parse_retry_after("soon", now).has_value());
  BOOST_TEST(!parse_retry_after("-1", now).has_value());
  BOOST_TEST(!parse_retry_after("Sun, 32 Nov 1994 08:49:37 GMT", now).has_value());
  BOOST_TEST(parse_retry_after_ms("1500")->count() == 1500);
}

BOOST_AUTO_TEST_CASE(transient_statuses_only) {
  for (unsigned status : {408u, 429u, 500u, 502u, 503u, 504u})
    BOOST_TEST(is_retryable_status(status));
  for (unsigned status : {200u, 400u, 401u, 403u, 404u, 405u, 409u, 501u, 505u})
    BOOST_TEST(!is_retryable_status(status));
}

BOOST_AUTO_TEST_CASE(exponential_backoff_with_full_jitter) {
  RetryPolicy policy;
  policy.base_delay = 100ms;
  policy.max_delay = 1000ms;
  BOOST_TEST(backoff_delay(policy, 1, std::nullopt, 0.0).count() == 0);
  BOOST_TEST(backoff_delay(policy, 1, std::nullopt, 0.999).count() == 99);
  BOOST_TEST(backoff_delay(policy, 2, std::nullopt, 0.999).count() == 199);
  BOOST_TEST(backoff_delay(policy, 3, std::nullopt, 0.5).count() == 200);
  BOOST_TEST(backoff_delay(policy, 20, std::nullopt, 0.999).count() == 999);
  // The server's Retry-After is a floor.
  BOOST_TEST(backoff_delay(policy, 1, 2000ms, 0.5).count() == 2000);
  BOOST_TEST(backoff_delay(policy, 4, 10ms, 0.999).count() == 799);
}

BOOST_AUTO_TEST_CASE(attempts_and_deadline_bound_the_retries) {
  RetryPolicy policy;
  policy.max_attempts = 3;
  policy.base_delay = 100ms;
  BOOST_TEST(next_retry_delay(policy, 1, std::nullopt, 10000ms, 0.5).has_value());
  BOOST_TEST(next_retry_delay(policy, 2, std::nullopt, 10000ms, 0.5).has_value());
  BOOST_TEST(!next_retry_delay(policy, 3, std::nullopt, 10000ms, 0.5).has_value());
  BOOST_TEST(!next_retry_delay(policy, 1, 5000ms, 1000ms, 0.5).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- entra

BOOST_AUTO_TEST_SUITE(entra)

BOOST_AUTO_TEST_CASE(token_answers_of_entra_and_imds) {
  const int64_t now = 1'700'000'000'000;
  AccessToken entra = parse_token_response(
      R"({"token_type":"Bearer","expires_in":86399,"ext_expires_in":86399,"access_token":"abc.def"})",
      now);
  BOOST_TEST(entra.value.view() == "abc.def");
  BOOST_TEST(entra.expires_at_ms == now + 86399000);
  BOOST_TEST(entra.refresh_at_ms == now + 86399000 - 120000);
  AccessToken imds = parse_token_response(
      R"({"access_token":"tok","refresh_token":"","expires_in":"3599","expires_on":"1700003599","not_before":"1700000000","resource":"https://vault.azure.net","token_type":"Bearer"})",
      now);
  BOOST_TEST(imds.expires_at_ms == now + 3599000);
  AccessToken on = parse_token_response(R"({"access_token":"tok","expires_on":"1700000600"})", now);
  BOOST_TEST(on.expires_at_ms == 1700000600000);
  AccessToken short_lived = parse_token_response(R"({"access_token":"tok","expires_in":10})", now);
  BOOST_TEST(short_lived.refresh_at_ms == now + 5000);
  AccessToken hinted =
      parse_token_response(R"({"access_token":"tok","expires_in":86400,"refresh_in":43200})", now);
  BOOST_TEST(hinted.refresh_at_ms == now + 43200000);
  AccessToken huge_hint = parse_token_response(
      R"({"access_token":"tok","expires_in":3600,"refresh_in":18446744073709552})", now);
  BOOST_TEST(huge_hint.refresh_at_ms == now + 3600000 - 120000);
}

BOOST_AUTO_TEST_CASE(unusable_token_answers_are_refused_without_quoting_them) {
  for (const char *body : {R"({"expires_in":10})", R"({"access_token":"a b","expires_in":10})",
                           "{\"access_token\":\"a\\r\\nX-Injected: 1\",\"expires_in\":10}",
                           R"({"access_token":"tok"})", R"({"access_token":"tok","expires_in":0})",
                           R"({"access_token":"tok","expires_in":9,"token_type":"pop"})",
                           "not json", R"({"access_token":"tok","expires_in":1e300})"}) {
    Error error = expect_error([&] { parse_token_response(body, 1000); });
    BOOST_TEST(error.status() == COFFER_STATUS_UNAVAILABLE);
    BOOST_TEST(!contains(error.what(), "tok\""));
  }
  // Expiries that do not fit a 64-bit count of milliseconds (the first one
  // times 1000 wraps around to 384 ms).
  for (const char *body : {R"({"access_token":"tok","expires_in":18446744073709552})",
                           R"({"access_token":"tok","expires_on":"-9223372036854775808"})"}) {
    Error error = expect_error([&] { parse_token_response(body, 1000); });
    BOOST_TEST(error.status() == COFFER_STATUS_UNAVAILABLE);
    BOOST_TEST(contains(error.what(), "out of range"), error.what());
  }
}

BOOST_AUTO_TEST_CASE(entra_errors_say_what_to_fix_by_code) {
  TokenRequestContext context;
  context.credential = "workload_identity";
  context.tenant = "t-1";
  context.client_id = "c-1";
  context.authority = "https://login.microsoftonline.com";
  context.token_file = "/var/run/secrets/azure/tokens/azure-identity-token";
  context.claims = {"https://oidc.example/issuer",
                    "system:serviceaccount:pmp-prod:pmp-secret-accessor",
                    "api://AzureADTokenExchange"};
  auto message = [&](unsigned status, const std::string &body) {
    Error error = describe_token_failure(status, body, context);
    BOOST_TEST(error.status() == COFFER_STATUS_DENIED);
    return std::string(error.what());
  };
  // The description's words must never decide nor appear: only codes.
  std::string expired = message(
      401,
      R"({"error":"invalid_client","error_description":"SENTINEL words","error_codes":[700024]})");
  BOOST_TEST(contains(expired, "AADSTS700024"));
  BOOST_TEST(contains(expired, context.token_file));
  BOOST_TEST(!contains(expired, "SENTINEL"));
  std::string no_match = message(
      400, R"({"error":"invalid_request","error_description":"SENTINEL","error_codes":[70021]})");
  BOOST_TEST(contains(no_match, "system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT"));
  BOOST_TEST(contains(no_match, "api://AzureADTokenExchange"));
  BOOST_TEST(contains(no_match, "issuer"));
  BOOST_TEST(contains(no_match, "system:serviceaccount:pmp-prod:pmp-secret-accessor"));
  BOOST_TEST(contains(message(400, R"({"error":"invalid_request","error_codes":[700213]})"),
                      "federated identity credential"));
  context.credential = "client_secret";
  context.secret_source = "the file /etc/coffer/secret";
  std::string wrong_secret = message(401, R"({"error":"invalid_client","error_codes":[7000215]})");
  BOOST_TEST(contains(wrong_secret, "Value, not its Secret ID"));
  BOOST_TEST(contains(wrong_secret, "/etc/coffer/secret"));
  std::string tenant = message(400, R"({"error":"invalid_tenant","error_codes":[90002]})");
  BOOST_TEST(contains(tenant, "tenant 't-1'"));
  BOOST_TEST(contains(tenant, "tenant_id"));
  std::string unknown = message(400, R"({"error":"weird_thing","error_codes":[123456]})");
  BOOST_TEST(contains(unknown, "AADSTS123456"));
  BOOST_TEST(contains(unknown, "error?code=123456"));
  std::string garbage = message(500, "<html>SENTINEL</html>");
  BOOST_TEST(!contains(garbage, "SENTINEL"));
  std::string hostile = message(400, R"({"error":"x\r\nSet-Cookie: a","error_codes":[1]})");
  BOOST_TEST(!contains(hostile, "\r"));
}

BOOST_AUTO_TEST_CASE(imds_errors) {
  TokenRequestContext context;
  context.credential = "managed_identity";
  context.authority = "http://169.254.169.254";
  Error error = describe_imds_failure(
      400, R"({"error":"invalid_request","error_description":"Identity not found"})", context);
  BOOST_TEST(error.status() == COFFER_STATUS_DENIED);
  BOOST_TEST(contains(error.what(), "node pool"));
}

BOOST_AUTO_TEST_CASE(assertion_claims_for_messages) {
  // {"aud":["api://AzureADTokenExchange"],"iss":"https://issuer","sub":"system:serviceaccount:ns:sa"}
  std::string jwt =
      "eyJhbGciOiJSUzI1NiJ9."
      "eyJhdWQiOlsiYXBpOi8vQXp1cmVBRFRva2VuRXhjaGFuZ2UiXSwiaXNzIjoiaHR0cHM6Ly9pc3N1ZXIiLCJzdWIi"
      "OiJzeXN0ZW06c2VydmljZWFjY291bnQ6bnM6c2EifQ.sig";
  AssertionClaims claims = read_assertion_claims(jwt);
  BOOST_TEST(claims.issuer == "https://issuer");
  BOOST_TEST(claims.subject == "system:serviceaccount:ns:sa");
  BOOST_TEST(claims.audience == "api://AzureADTokenExchange");
  BOOST_TEST(read_assertion_claims("not-a-jwt").issuer.empty());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- vault answers

BOOST_AUTO_TEST_SUITE(vault_answers)

BOOST_AUTO_TEST_CASE(secret_ids) {
  SecretId latest =
      parse_secret_id("https://keyvault_name.vault.azure.net/secrets/listSecretName-x");
  BOOST_TEST(latest.name == "listSecretName-x");
  BOOST_TEST(latest.version.empty());
  SecretId versioned = parse_secret_id(
      "https://kv.vault.azure.net:443/secrets/CRUD-a/41cce6796d81438f9dad0d96bf85d50d");
  BOOST_TEST(versioned.name == "CRUD-a");
  BOOST_TEST(versioned.version == "41cce6796d81438f9dad0d96bf85d50d");
  BOOST_TEST(parse_secret_id("Sanitized").name.empty());
  // With a port, a query or a fragment; a host alone; escapes are no name.
  SecretId ported = parse_secret_id(
      "https://myvault.vault.azure.net:8443/secrets/Db-Password/0123456789abcdef0123456789abcdef"
      "?api-version=7.6");
  BOOST_TEST(ported.name == "Db-Password");
  BOOST_TEST(ported.version == "0123456789abcdef0123456789abcdef");
  BOOST_TEST(parse_secret_id("https://myvault.vault.azure.net/secrets/Db-Password#x").name ==
             "Db-Password");
  BOOST_TEST(parse_secret_id("https://myvault.vault.azure.net").name.empty());
  BOOST_TEST(parse_secret_id("https://myvault.vault.azure.net/secrets/Db%2DPassword").name.empty());
}

BOOST_AUTO_TEST_CASE(errors_by_code_with_the_role_to_grant) {
  FailureContext get{Operation::get, "v.vault.azure.net", "VCS-GithubAdminPAT",
                     "VCS.GithubAdminPAT"};
  FailureContext put = get;
  put.operation = Operation::put;
  const std::string rbac =
      R"({"error":{"code":"Forbidden","message":"SENTINEL Caller is not authorized","innererror":{"code":"ForbiddenByRbac"}}})";
  Error read = describe_vault_failure(403, rbac, get);
  BOOST_TEST(read.status() == COFFER_STATUS_DENIED);
  BOOST_TEST(contains(read.what(), "ForbiddenByRbac"));
  BOOST_TEST(contains(read.what(), "\"Key Vault Secrets User\""));
  BOOST_TEST(contains(read.what(), "VCS.GithubAdminPAT"));
  BOOST_TEST(!contains(read.what(), "SENTINEL"));
  BOOST_TEST(
      contains(describe_vault_failure(403, rbac, put).what(), "\"Key Vault Secrets Officer\""));
  Error policy = describe_vault_failure(
      403, R"({"error":{"code":"Forbidden","innererror":{"code":"AccessDenied"}}})", get);
  BOOST_TEST(contains(policy.what(), "access polic"));
  Error disabled = describe_vault_failure(
      403, R"({"error":{"code":"Forbidden","innererror":{"code":"SecretDisabled"}}})", get);
  BOOST_TEST(contains(disabled.what(), "disabled"));
  Error missing = describe_vault_failure(404, R"({"error":{"code":"SecretNotFound"}})", get);
  BOOST_TEST(missing.status() == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(describe_vault_failure(401, "{}", get).status() == COFFER_STATUS_DENIED);
  BOOST_TEST(
      describe_vault_failure(405, R"({"error":{"code":"MethodNotAllowed"}})", put).status() ==
      COFFER_STATUS_INVALID_ARGUMENT);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- JSON bundle

BOOST_AUTO_TEST_SUITE(json_bundle)

BOOST_AUTO_TEST_CASE(flat_members_and_a_nested_value_error_naming_the_key) {
  JsonBundle bundle = JsonBundle::parse(
      "PMP-Credentials",
      R"({"VCS-GithubAdminPAT":"ghp_x","Email-SMTPPassword":"s\"mtp","VCS-Nested":{"a":"b"},"VCS-Number":5})");
  BOOST_TEST(bundle.value("VCS-GithubAdminPAT", "VCS.GithubAdminPAT").view() == "ghp_x");
  BOOST_TEST(bundle.value("Email-SMTPPassword", "Email.SMTPPassword").view() == "s\"mtp");
  Error nested = expect_error([&] { (void)bundle.value("VCS-Nested", "VCS.Nested"); });
  BOOST_TEST(nested.status() == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(contains(nested.what(), "VCS.Nested"));
  BOOST_TEST(contains(nested.what(), "an object"));
  BOOST_TEST(contains(expect_error([&] { (void)bundle.value("VCS-Number", "VCS.Number"); }).what(),
                      "a number"));
  BOOST_TEST(expect_error([&] { (void)bundle.value("VCS-Missing", "VCS.Missing"); }).status() ==
             COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(expect_error([] { (void)JsonBundle::parse("B", "[1,2]"); }).status() ==
             COFFER_STATUS_DATA_ERROR);
  // 2.5e308 reads as infinity, which a rewrite would turn into text that
  // does not parse: refused before anything is written.
  BOOST_TEST(expect_error([] {
               (void)JsonBundle::parse("B", R"({"a":"x","n":[2.5e308]})");
             }).status() == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(expect_error([] { (void)JsonBundle::parse("B", "{oops"); }).status() ==
             COFFER_STATUS_DATA_ERROR);
}

BOOST_AUTO_TEST_CASE(a_member_defined_twice_is_an_error_naming_it) {
  // Boost.JSON, like most readers, would keep the last definition silently.
  Error twice = expect_error([] {
    (void)JsonBundle::parse("PMP-Credentials",
                            R"({"VCS-GithubAdminPAT":"old","Email-SMTPPassword":"s",
                                "VCS-GithubAdminPAT":"new"})");
  });
  BOOST_TEST(twice.status() == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(contains(twice.what(), "'PMP-Credentials'"), twice.what());
  BOOST_TEST(contains(twice.what(), "member 'VCS-GithubAdminPAT' more than once"), twice.what());
  BOOST_TEST(!contains(twice.what(), "old"), twice.what());
  BOOST_TEST(!contains(twice.what(), "new"), twice.what());
  Error nested = expect_error(
      [] { (void)JsonBundle::parse("B", R"({"A-x":"1","B-nested":[{"k":1,"k":2}]})"); });
  BOOST_TEST(contains(nested.what(), "member 'k' more than once"), nested.what());
  // The same name in different objects is no duplicate.
  JsonBundle fine = JsonBundle::parse("B", R"({"A-x":"1","B-n":{"A-x":"2"},"C-n":[{"A-x":3}]})");
  BOOST_TEST(fine.value("A-x", "A.x").view() == "1");
}

BOOST_AUTO_TEST_CASE(rewrite_keeps_other_members) {
  JsonBundle bundle = JsonBundle::parse("B", R"({"A-x":"1","B-nested":{"k":[1,2]}})");
  bundle.set("C-new", "line\nbreak");
  bundle.set("A-x", "2");
  BOOST_TEST(bundle.erase("A-x"));
  BOOST_TEST(!bundle.erase("A-x"));
  JsonBundle again = JsonBundle::parse("B", bundle.serialize().view());
  BOOST_TEST(again.value("C-new", "C.new").view() == "line\nbreak");
  BOOST_TEST(again.members().size() == 2u);
  BOOST_TEST(contains(std::string(again.serialize().view()), R"("B-nested":{"k":[1,2]})"));
}

// Boost.JSON 1.81 alone reads 5e36 as 5.0000000000000004e36, so every write
// of the bundle would have changed the number a little.
BOOST_AUTO_TEST_CASE(rewrite_keeps_numbers_exact) {
  JsonBundle bundle =
      JsonBundle::parse("B", R"({"A-x":"1","n":0.05e38,"m":[5e36,-1.5e-300,0.1],"i":-0})");
  bundle.set("A-x", "2");
  std::string text(bundle.serialize().view());
  BOOST_TEST(contains(text, R"("n":5E36)"), text);
  BOOST_TEST(contains(text, R"("m":[5E36,-1.5E-300,1E-1])"), text);
  JsonBundle again = JsonBundle::parse("B", text);
  BOOST_TEST(std::string(again.serialize().view()) == text);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- proxy and URLs

BOOST_AUTO_TEST_SUITE(proxy_and_urls)

BOOST_AUTO_TEST_CASE(no_proxy_rules) {
  ProxySettings settings("http://user:p%40ss@proxy:3128",
                         "localhost, .corp.example,internal.example:443,10.0.0.0/8,*.svc,[::1]");
  BOOST_TEST(settings.authorization().view() == "Basic dXNlcjpwQHNz");  // user:p@ss
  BOOST_TEST(settings.describe() == "http://proxy:3128");
  BOOST_TEST(settings.proxy_for("abc.vault.azure.net") != nullptr);
  BOOST_TEST(settings.proxy_for("localhost") == nullptr);
  BOOST_TEST(settings.proxy_for("a.corp.example") == nullptr);
  BOOST_TEST(settings.proxy_for("corp.example") == nullptr);
  BOOST_TEST(settings.proxy_for("a.internal.example") == nullptr);
  BOOST_TEST(settings.proxy_for("notinternal.example") != nullptr);
  BOOST_TEST(settings.proxy_for("10.1.2.3") == nullptr);
  BOOST_TEST(settings.proxy_for("11.1.2.3") != nullptr);
  BOOST_TEST(settings.proxy_for("kv.svc") == nullptr);
  BOOST_TEST(settings.proxy_for("::1") == nullptr);
  BOOST_TEST(ProxySettings("http://p:1", "*").proxy_for("x") == nullptr);
  BOOST_TEST(ProxySettings("proxy:8080", "").proxy_for("x")->port == 8080);
  BOOST_TEST(!ProxySettings("", "").enabled());
}

BOOST_AUTO_TEST_CASE(urls) {
  auto url = parse_url("https://KV.vault.azure.net:443/secrets?api-version=7.3&$skiptoken=a");
  BOOST_TEST_REQUIRE(url.has_value());
  BOOST_TEST(url->endpoint.host == "kv.vault.azure.net");
  BOOST_TEST(url->endpoint.origin() == "https://kv.vault.azure.net");
  BOOST_TEST(url->target() == "/secrets?api-version=7.3&$skiptoken=a");
  BOOST_TEST(parse_url("https://[::1]:8443/")->endpoint.authority() == "[::1]:8443");
  BOOST_TEST(!parse_url("ftp://x/").has_value());
  BOOST_TEST(!parse_url("https://u:p@x/").has_value());
  // A host is an IP literal or a DNS name, however it is percent-encoded.
  BOOST_TEST(parse_url("https://%61b.example/")->endpoint.host == "ab.example");
  BOOST_TEST(!parse_url("https://vault%0d%0aX-Injected%3a%20x.example/").has_value());
  BOOST_TEST(!parse_url("https://a%2Fb.example/").has_value());
  BOOST_TEST(!parse_url("https://a%40b.example/").has_value());
  BOOST_TEST(!parse_url("https://[v1.x]/").has_value());
  // Boost.URL 1.81 would read host 1.2.3.4 and path ".5/".
  BOOST_TEST(!parse_url("https://1.2.3.4.5/").has_value());
  BOOST_TEST(!parse_host_port("a\x7f:1").has_value());
  BOOST_TEST(!parse_host_port(std::string_view("[::\0\0001]:8443", 12)).has_value());
  BOOST_TEST(!parse_host_port("[::%1]:8443").has_value());
  BOOST_TEST(parse_host_port("[::1]:443")->host == "::1");
  BOOST_TEST(!parse_host_port("host").has_value());
  BOOST_TEST(!parse_host_port("host:99999").has_value());
  BOOST_TEST(percent_encode("https://vault.azure.net/.default") ==
             "https%3A%2F%2Fvault.azure.net%2F.default");
  SecretBytes form;
  append_form_encoded(form, "a b+c");
  BOOST_TEST(form.view() == "a%20b%2Bc");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- secret memory

BOOST_AUTO_TEST_SUITE(secret_memory)

BOOST_AUTO_TEST_CASE(json_strings_and_utf8) {
  SecretBytes out;
  append_json_string(out, std::string("q\"b\\n\n\x01", 7));
  BOOST_TEST(out.view() == R"("q\"b\\n\n\u0001")");
  BOOST_TEST(is_valid_utf8("plain"));
  BOOST_TEST(is_valid_utf8("gr\xc3\xbc\xc3\x9f \xf0\x9f\x94\x91"));
  BOOST_TEST(!is_valid_utf8("\xc3"));
  BOOST_TEST(!is_valid_utf8("\xc0\xaf"));      // overlong
  BOOST_TEST(!is_valid_utf8("\xed\xa0\x80"));  // surrogate
  BOOST_TEST(!is_valid_utf8("\xff"));
  boost::system::error_code error;
  auto value = parse_secret_json(R"({"value":"s3cr\u00e9t"})", error);
  BOOST_TEST(!error);
  BOOST_TEST(std::string(value.at("value").as_string()) == "s3cr\xc3\xa9t");
  parse_secret_json("{", error);
  BOOST_TEST(static_cast<bool>(error));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- credentials

BOOST_AUTO_TEST_SUITE(credentials)

struct Files {
  coffer::test::TempDirectory scratch{"coffer-akv-unit"};
  std::filesystem::path dir = scratch.path();
  std::string write(const std::string &name, const std::string &content) const {
    return scratch.write(name, content).string();
  }
};

BOOST_FIXTURE_TEST_CASE(the_token_file_is_read_anew_and_trimmed_at_every_exchange, Files) {
  const std::string file = write("token", "  first.assertion.sig\n");
  Config config =
      parse(R"({"vault_name": "abc", "credential": {"token_file": ")" + file + R"("}})");
  coffer::provider::Host host(nullptr);
  auto credential = make_credential(config, fake_environment({}), host);
  HttpRequest first = credential->token_request("t-1", "https://vault.azure.net/.default");
  BOOST_TEST(first.method == "POST");
  BOOST_TEST(first.url.target() == "/t-1/oauth2/v2.0/token");
  BOOST_TEST(first.content_type == "application/x-www-form-urlencoded");
  BOOST_TEST(std::string(first.body.view()) ==
             "grant_type=client_credentials&client_id=11111111-2222-3333-4444-555555555555"
             "&scope=https%3A%2F%2Fvault.azure.net%2F.default"
             "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-"
             "bearer&client_assertion=first.assertion.sig");
  write("token", "second.assertion.sig\r\n");  // the kubelet rotated it
  HttpRequest second = credential->token_request("t-1", "https://vault.azure.net/.default");
  BOOST_TEST(contains(std::string(second.body.view()), "&client_assertion=second.assertion.sig"));
  BOOST_TEST(!contains(std::string(second.body.view()), "first"));
  write("token", " \n");
  Error empty = expect_error([&] { credential->token_request("t", "s/.default"); });
  BOOST_TEST(empty.status() == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(empty.what(), file));
  std::filesystem::remove(file);
  Error missing = expect_error([&] { credential->token_request("t", "s/.default"); });
  BOOST_TEST(contains(missing.what(), "No such file"));
}

BOOST_FIXTURE_TEST_CASE(client_secret_and_managed_identity_requests, Files) {
  const std::string file = write("secret", "s3cr&t=v\n");
  Config config = parse(R"({"vault_name": "abc", "credential": {"type": "client_secret",
                            "client_secret_file": ")" +
                        file + R"("}})");
  coffer::provider::Host host(nullptr);
  auto secret = make_credential(config, fake_environment({}), host);
  HttpRequest request = secret->token_request("t-1", "https://vault.azure.cn/.default");
  BOOST_TEST(contains(std::string(request.body.view()), "&client_secret=s3cr%26t%3Dv"));
  BOOST_TEST(!contains(std::string(request.body.view()), "client_assertion"));

  Config imds = parse(R"({"vault_name": "abc", "credential": {"type": "managed_identity",
                          "client_id": "c-1"}})",
                      {});
  auto identity = make_credential(imds, fake_environment({}), host);
  HttpRequest metadata = identity->token_request("ignored", "https://vault.azure.net/.default");
  BOOST_TEST(metadata.method == "GET");
  BOOST_TEST(metadata.url.endpoint.origin() == "http://169.254.169.254");
  BOOST_TEST(metadata.url.target() ==
             "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="
             "https%3A%2F%2Fvault.azure.net&client_id=c-1");
  bool has_metadata_header = false;
  for (const auto &[name, value] : metadata.headers)
    if (name == "Metadata" && value == "true") has_metadata_header = true;
  BOOST_TEST(has_metadata_header);
  BOOST_TEST(identity->tenant().empty());
  BOOST_TEST(identity->retryable(410));
  BOOST_TEST(!secret->retryable(410));
}

BOOST_AUTO_TEST_SUITE_END()
