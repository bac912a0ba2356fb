// The azure_keyvault instance configuration: parsed and checked once in
// open(), immutable afterwards (thread-safe to read). The environment is read
// through a seam so that tests can supply their own.
#ifndef COFFER_AZURE_CONFIG_HPP
#define COFFER_AZURE_CONFIG_HPP

#include "challenge.hpp"
#include "proxy.hpp"
#include "retry.hpp"
#include "url.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::azure {

// Reads an environment variable; nothing when unset.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string &)>;
// The process environment.
EnvironmentLookup process_environment();

// One row per cloud: vault DNS suffix, authority host and Key Vault resource.
struct Cloud {
  std::string_view name;
  std::string_view vault_suffix;    // "vault.azure.net"
  std::string_view authority_host;  // "https://login.microsoftonline.com/"
  std::string_view resource;        // "https://vault.azure.net"
};
const Cloud *find_cloud(std::string_view name) noexcept;
// The cloud whose vault suffix `host` ends with, or nothing.
const Cloud *cloud_for_vault_host(std::string_view host) noexcept;

enum class CredentialType { workload_identity, managed_identity, client_secret };
std::string_view credential_type_name(CredentialType type) noexcept;

struct CredentialConfig {
  CredentialType type = CredentialType::workload_identity;
  std::string tenant_id;           // workload identity, client secret
  std::string client_id;           // optional for managed identity
  std::string token_file;          // workload identity (absolute)
  std::string client_secret_file;  // client secret (absolute), or
  std::string client_secret_env;   // the variable that holds it
  Url imds_endpoint;               // managed identity
};

struct Config {
  std::string instance_name;
  Url vault;  // https://host[:port]/
  const Cloud *cloud = nullptr;
  Url authority;  // https://login.microsoftonline.com/
  std::string api_version = "7.6";
  std::string ca_file;  // absolute, or empty
  bool verify_challenge_resource = true;
  // Send a token with the first request when the tenant and the resource are
  // known beforehand (see expected_challenge); else learn them from a 401.
  bool send_token_first = true;
  std::optional<std::string> bundle_secret;  // JSON bundle layout
  Milliseconds bundle_refresh{30000};
  CredentialConfig credential;
  Milliseconds connect_timeout{5000};
  Milliseconds request_timeout{10000};
  RetryPolicy retry;
  std::size_t max_connections_per_host = 16;
  ProxySettings proxy;
  std::optional<Endpoint> connect_to;
};

// The challenge the vault is expected to send, known before asking it: the
// credential's tenant (workload identity and client secret name one; managed
// identity needs none, its tenant stays empty) and the resource of the cloud
// whose vault DNS suffix the vault host ends with (e.g. NAME.vault.azure.net
// -> https://vault.azure.net/.default). Nothing when `send_token_first` is
// off or the host is not under a known cloud's vault suffix (private names,
// emulators): such a vault's first request learns its challenge. A token sent
// first goes only to a host that check_challenge_resource would accept.
std::optional<Challenge> expected_challenge(const Config &config);

// Parses the instance's `config` JSON object. Relative paths resolve against
// `base_directory` (or the working directory when it is empty). Throws
// coffer::provider::Error (COFFER_STATUS_INVALID_CONFIG) naming the field.
Config parse_config(std::string_view json, std::string_view base_directory,
                    const EnvironmentLookup &environment);

}  // namespace coffer::azure

#endif  // COFFER_AZURE_CONFIG_HPP
