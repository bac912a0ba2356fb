#include "config.hpp"

#include "challenge.hpp"
#include "names.hpp"

#include <coffer/config_fields.hpp>
#include <coffer/provider.hpp>
#include <coffer/provider_helpers.hpp>

#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace coffer::azure {
namespace {

using coffer::provider::ConfigFields;
using coffer::provider::Error;

constexpr std::array<Cloud, 3> kClouds = {{
    {"public", "vault.azure.net", "https://login.microsoftonline.com/", "https://vault.azure.net"},
    {"china", "vault.azure.cn", "https://login.chinacloudapi.cn/", "https://vault.azure.cn"},
    {"usgovernment", "vault.usgovcloudapi.net", "https://login.microsoftonline.us/",
     "https://vault.usgovcloudapi.net"},
}};

const std::vector<std::string_view> kTopFields = {"vault_name",
                                                  "cloud",
                                                  "vault_url",
                                                  "authority_host",
                                                  "api_version",
                                                  "ca_file",
                                                  "verify_challenge_resource",
                                                  "send_token_first",
                                                  "layout",
                                                  "credential",
                                                  "connect_timeout_ms",
                                                  "request_timeout_ms",
                                                  "operation_timeout_ms",
                                                  "max_attempts",
                                                  "retry_base_delay_ms",
                                                  "retry_max_delay_ms",
                                                  "max_connections_per_host",
                                                  "proxy",
                                                  "no_proxy",
                                                  "connect_to"};
const std::vector<std::string_view> kCredentialFields = {
    "type",         "tenant_id",          "client_id",
    "token_file",   "client_secret_file", "client_secret_env",
    "imds_endpoint"};
const std::vector<std::string_view> kLayoutFields = {"json_bundle", "refresh_s"};

constexpr std::string_view kDefaultImds = "http://169.254.169.254/metadata/identity/oauth2/token";

[[noreturn]] void fail(const std::string &message) {
  throw Error(COFFER_STATUS_INVALID_CONFIG, message);
}

std::string resolve_path(const std::string &path, std::string_view base_directory) {
  std::filesystem::path file(path);
  if (file.is_absolute()) return file.lexically_normal().string();
  std::filesystem::path base = base_directory.empty() ? std::filesystem::current_path()
                                                      : std::filesystem::path(base_directory);
  return (base / file).lexically_normal().string();
}

std::string non_empty(std::optional<std::string> value) {
  return value && !value->empty() ? *value : std::string();
}

Url parse_https_origin(const std::string &text, const std::string &field) {
  auto url = parse_url(text);
  if (!url) fail("field '" + field + "' is not an absolute https:// URL: '" + text + "'");
  if (!url->endpoint.tls)
    fail("field '" + field +
         "' must use https:// (credentials and tokens are never sent over "
         "plain HTTP): '" +
         text + "'");
  if (!url->query.empty()) fail("field '" + field + "' must not have a query: '" + text + "'");
  return *url;
}

// The "credential" object; an absent one is read as {} (workload identity from
// the webhook's variables).
CredentialConfig parse_credential(const ConfigFields &top, std::string_view base,
                                  const EnvironmentLookup &environment) {
  static const boost::json::value empty = boost::json::object();
  const ConfigFields fields =
      top.object("credential", kCredentialFields)
          .value_or(ConfigFields(empty, kCredentialFields, top.nested("credential")));
  CredentialConfig credential;
  std::string type = fields.string("type").value_or("workload_identity");
  if (type == "workload_identity") {
    credential.type = CredentialType::workload_identity;
  } else if (type == "managed_identity") {
    credential.type = CredentialType::managed_identity;
  } else if (type == "client_secret") {
    credential.type = CredentialType::client_secret;
  } else {
    fail("field 'credential.type' is '" + type +
         "'; it must be workload_identity, managed_identity or client_secret" +
         coffer::provider::did_you_mean(
             type, {"workload_identity", "managed_identity", "client_secret"}));
  }
  auto from_env = [&](const char *name) { return non_empty(environment(name)); };
  const bool uses_entra = credential.type != CredentialType::managed_identity;
  const bool workload = credential.type == CredentialType::workload_identity;

  credential.tenant_id = non_empty(fields.string("tenant_id"));
  if (credential.tenant_id.empty() && uses_entra)
    credential.tenant_id = from_env("AZURE_TENANT_ID");
  credential.client_id = non_empty(fields.string("client_id"));
  if (credential.client_id.empty() && uses_entra)
    credential.client_id = from_env("AZURE_CLIENT_ID");

  const std::string webhook_hint =
      " (the workload identity webhook injects it into pods labelled "
      "azure.workload.identity/use: \"true\" whose service account is annotated "
      "azure.workload.identity/client-id)";
  if (uses_entra) {
    if (credential.tenant_id.empty())
      fail("field 'credential.tenant_id' is not set and AZURE_TENANT_ID is empty" +
           (workload ? webhook_hint : std::string()));
    if (!is_valid_tenant(credential.tenant_id))
      fail("field 'credential.tenant_id' is not a tenant ID or domain: '" + credential.tenant_id +
           "'");
    if (credential.client_id.empty())
      fail("field 'credential.client_id' is not set and AZURE_CLIENT_ID is empty" +
           (workload ? webhook_hint : std::string()));
  }
  if (!workload && fields.has("token_file"))
    fail("field 'credential.token_file' applies only to type workload_identity");
  if (credential.type != CredentialType::client_secret &&
      (fields.has("client_secret_file") || fields.has("client_secret_env")))
    fail(
        "fields 'credential.client_secret_file' and 'credential.client_secret_env' apply only "
        "to type client_secret");
  if (credential.type != CredentialType::managed_identity && fields.has("imds_endpoint"))
    fail("field 'credential.imds_endpoint' applies only to type managed_identity");

  if (workload) {
    std::string file = non_empty(fields.string("token_file"));
    if (file.empty()) file = from_env("AZURE_FEDERATED_TOKEN_FILE");
    if (file.empty())
      fail("field 'credential.token_file' is not set and AZURE_FEDERATED_TOKEN_FILE is empty" +
           webhook_hint);
    credential.token_file = resolve_path(file, base);
  }
  if (credential.type == CredentialType::client_secret) {
    std::string file = non_empty(fields.string("client_secret_file"));
    std::string variable = non_empty(fields.string("client_secret_env"));
    if (file.empty() == variable.empty())
      fail(
          "type client_secret needs exactly one of 'credential.client_secret_file' and "
          "'credential.client_secret_env' (the secret itself never goes into the policy)");
    if (!file.empty()) credential.client_secret_file = resolve_path(file, base);
    credential.client_secret_env = variable;
  }
  if (credential.type == CredentialType::managed_identity) {
    std::string endpoint = non_empty(fields.string("imds_endpoint"));
    if (endpoint.empty()) endpoint = std::string(kDefaultImds);
    auto url = parse_url(endpoint);
    if (!url || !url->query.empty())
      fail("field 'credential.imds_endpoint' is not an http:// URL without query: '" + endpoint +
           "'");
    credential.imds_endpoint = *url;
  }
  return credential;
}

// Where the vault is ("vault_name" with "cloud", or "vault_url"), and which
// cloud it belongs to.
void read_vault(const ConfigFields &fields, Config &config) {
  auto vault_name = fields.string("vault_name");
  auto vault_url = fields.string("vault_url");
  auto cloud_name = fields.string("cloud");
  if (cloud_name) {
    config.cloud = find_cloud(*cloud_name);
    if (config.cloud == nullptr)
      fail("field 'cloud' is '" + *cloud_name + "'; it must be public, china or usgovernment");
  }
  if (vault_name.has_value() == vault_url.has_value())
    fail("set exactly one of 'vault_name' (with 'cloud') and 'vault_url'");
  if (vault_name) {
    const std::string &name = *vault_name;
    bool valid = name.size() >= 3 && name.size() <= 24 &&
                 std::isalpha(static_cast<unsigned char>(name.front())) && name.back() != '-' &&
                 std::all_of(name.begin(), name.end(), [](char c) {
                   return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
                 });
    if (!valid)
      fail("field 'vault_name' is '" + name +
           "'; a vault name has 3 to 24 characters of 0-9, a-z, A-Z and '-', starts with a "
           "letter and does not end with '-'");
    if (config.cloud == nullptr) config.cloud = find_cloud("public");
    config.vault = *parse_url("https://" + to_lower(name) + "." +
                              std::string(config.cloud->vault_suffix) + "/");
    return;
  }
  config.vault = parse_https_origin(*vault_url, "vault_url");
  if (config.vault.path != "/")
    fail(
        "field 'vault_url' must be the vault's origin without a path, e.g. "
        "https://NAME.vault.azure.net/: '" +
        *vault_url + "'");
  if (config.cloud == nullptr) config.cloud = cloud_for_vault_host(config.vault.endpoint.host);
  if (config.cloud == nullptr) config.cloud = find_cloud("public");
}

// The Entra ID authority: "authority_host", else AZURE_AUTHORITY_HOST (not for
// managed identity), else the cloud's. Needs the vault and the credential.
void read_authority(const ConfigFields &fields, const EnvironmentLookup &environment,
                    Config &config) {
  std::string authority = non_empty(fields.string("authority_host"));
  std::string authority_field = "authority_host";
  if (authority.empty() && config.credential.type != CredentialType::managed_identity) {
    authority = non_empty(environment("AZURE_AUTHORITY_HOST"));
    authority_field = "AZURE_AUTHORITY_HOST";
  }
  if (authority.empty()) {
    authority = std::string(config.cloud->authority_host);
    authority_field = "authority_host";
  }
  config.authority = parse_https_origin(authority, authority_field);
}

// How the vault is spoken to: the API version, the CA file and whether the
// challenge's resource is checked.
void read_protocol(const ConfigFields &fields, std::string_view base_directory, Config &config) {
  if (auto version = fields.string("api_version")) {
    bool valid = !version->empty() && version->size() <= 32 &&
                 std::all_of(version->begin(), version->end(), [](char c) {
                   return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
                 });
    if (!valid)
      fail("field 'api_version' is not an API version such as \"7.6\": '" + *version + "'");
    config.api_version = *version;
  }
  if (auto ca_file = fields.string("ca_file"); ca_file && !ca_file->empty())
    config.ca_file = resolve_path(*ca_file, base_directory);
  config.verify_challenge_resource = fields.boolean("verify_challenge_resource").value_or(true);
  config.send_token_first = fields.boolean("send_token_first").value_or(true);
}

// "layout": "per_key" (the default) or {"json_bundle": SECRET_NAME, "refresh_s": N}.
void read_layout(const ConfigFields &fields, Config &config) {
  const boost::json::value *layout = fields.find("layout");
  if (layout == nullptr) return;
  if (layout->is_string() && layout->get_string() == "per_key") return;
  if (!layout->is_object())
    fail("field 'layout' must be \"per_key\" or {\"json_bundle\": \"SECRET_NAME\"}");
  const ConfigFields bundle_fields = *fields.object("layout", kLayoutFields);
  auto bundle = bundle_fields.string("json_bundle");
  if (!bundle) fail("field 'layout.json_bundle' is required in a layout object");
  if (!is_valid_secret_name(*bundle))
    fail(
        "field 'layout.json_bundle' is not a Key Vault secret name (1-127 characters of "
        "0-9, a-z, A-Z and '-'): '" +
        *bundle + "'");
  config.bundle_secret = *bundle;
  if (auto refresh = bundle_fields.integer("refresh_s", 0, 86400))
    config.bundle_refresh = Milliseconds(*refresh * 1000);
}

// Timeouts, retries and connections.
void read_connections(const ConfigFields &fields, Config &config) {
  if (auto value = fields.integer("connect_timeout_ms", 1, 600000))
    config.connect_timeout = Milliseconds(*value);
  if (auto value = fields.integer("request_timeout_ms", 1, 600000))
    config.request_timeout = Milliseconds(*value);
  if (auto value = fields.integer("operation_timeout_ms", 1, 3600000))
    config.retry.operation_timeout = Milliseconds(*value);
  if (auto value = fields.integer("max_attempts", 1, 50))
    config.retry.max_attempts = static_cast<int>(*value);
  if (auto value = fields.integer("retry_base_delay_ms", 0, 600000))
    config.retry.base_delay = Milliseconds(*value);
  if (auto value = fields.integer("retry_max_delay_ms", 0, 600000))
    config.retry.max_delay = Milliseconds(*value);
  if (auto value = fields.integer("max_connections_per_host", 1, 1024))
    config.max_connections_per_host = static_cast<std::size_t>(*value);
  if (auto connect_to = fields.string("connect_to"); connect_to && !connect_to->empty()) {
    config.connect_to = parse_host_port(*connect_to);
    if (!config.connect_to)
      fail("field 'connect_to' must be HOST:PORT (e.g. 10.1.2.3:443): '" + *connect_to + "'");
  }
}

// The proxy: the configuration wins over the environment; "" or "none" is none.
void read_proxy(const ConfigFields &fields, const EnvironmentLookup &environment, Config &config) {
  std::string proxy;
  std::string proxy_source = "proxy";
  if (auto configured = fields.string("proxy")) {
    proxy = *configured == "none" ? std::string() : *configured;
  } else if (auto upper = environment("HTTPS_PROXY"); upper && !upper->empty()) {
    proxy = *upper;
    proxy_source = "HTTPS_PROXY";
  } else if (auto lower = environment("https_proxy"); lower && !lower->empty()) {
    proxy = *lower;
    proxy_source = "https_proxy";
  }
  std::string no_proxy;
  if (auto configured = fields.string("no_proxy")) {
    no_proxy = *configured;
  } else if (auto upper = environment("NO_PROXY"); upper && !upper->empty()) {
    no_proxy = *upper;
  } else if (auto lower = environment("no_proxy")) {
    no_proxy = *lower;
  }
  try {
    config.proxy = ProxySettings(proxy, no_proxy);
  } catch (const std::invalid_argument &problem) {
    fail((proxy_source == "proxy" ? "field 'proxy'" : "the environment variable " + proxy_source) +
         " " + problem.what());
  }
}

}  // namespace

EnvironmentLookup process_environment() {
  return [](const std::string &name) -> std::optional<std::string> {
    const char *value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

const Cloud *find_cloud(std::string_view name) noexcept {
  for (const Cloud &cloud : kClouds)
    if (cloud.name == name) return &cloud;
  return nullptr;
}

const Cloud *cloud_for_vault_host(std::string_view host) noexcept {
  for (const Cloud &cloud : kClouds) {
    std::string_view suffix = cloud.vault_suffix;
    if (host.size() > suffix.size() + 1 && host.substr(host.size() - suffix.size()) == suffix &&
        host[host.size() - suffix.size() - 1] == '.')
      return &cloud;
  }
  return nullptr;
}

std::optional<Challenge> expected_challenge(const Config &config) {
  const bool knows_tenant = !config.credential.tenant_id.empty() ||
                            config.credential.type == CredentialType::managed_identity;
  if (!config.send_token_first || !knows_tenant) return std::nullopt;
  const Cloud *cloud = cloud_for_vault_host(to_lower(config.vault.endpoint.host));
  if (cloud == nullptr) return std::nullopt;
  Challenge challenge;
  challenge.tenant = config.credential.tenant_id;  // empty for managed identity: IMDS needs none
  challenge.scope = std::string(cloud->resource) + "/.default";
  challenge.resource_host = parse_url(std::string(cloud->resource))->endpoint.host;
  return challenge;
}

std::string_view credential_type_name(CredentialType type) noexcept {
  switch (type) {
    case CredentialType::workload_identity:
      return "workload_identity";
    case CredentialType::managed_identity:
      return "managed_identity";
    case CredentialType::client_secret:
      return "client_secret";
  }
  return "unknown";
}

Config parse_config(std::string_view json, std::string_view base_directory,
                    const EnvironmentLookup &environment) {
  const boost::json::value document = coffer::provider::parse_config_text(json);
  const ConfigFields fields(document, kTopFields);
  Config config;
  read_vault(fields, config);
  config.credential = parse_credential(fields, base_directory, environment);
  read_authority(fields, environment, config);
  read_protocol(fields, base_directory, config);
  read_layout(fields, config);
  read_connections(fields, config);
  read_proxy(fields, environment, config);
  return config;
}

}  // namespace coffer::azure
