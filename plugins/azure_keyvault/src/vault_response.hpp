// Key Vault answers: the secret bundle of a get or put, a page of a secrets
// listing, and error bodies turned into coffer statuses with messages that say
// what to fix. Decisions are made on status and error codes, never on the
// service's message text, and no server text is copied into a message.
// Pure functions; thread-safe.
#ifndef COFFER_AZURE_VAULT_RESPONSE_HPP
#define COFFER_AZURE_VAULT_RESPONSE_HPP

#include <coffer/provider.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::azure {

struct SecretBundle {
  coffer::provider::SecretBytes value;
  bool has_value = false;       // PATCH answers carry no value
  std::string version;          // empty when the id names none
  int64_t created_unix_ms = 0;  // attributes.created (Unix seconds) in ms; 0 when absent
};

// Parses a SecretBundle (get, put, delete answers). Throws
// coffer::provider::Error (COFFER_STATUS_UNAVAILABLE) on malformed JSON,
// naming `what` (e.g. "secret 'X'").
SecretBundle parse_secret_bundle(std::string_view body, std::string_view what);

struct SecretItem {
  std::string name;
  std::string version;  // only in version listings
  bool enabled = true;
  bool managed = false;         // backs a certificate
  int64_t created_unix_ms = 0;  // attributes.created in ms; 0 when absent
};

struct SecretListPage {
  std::vector<SecretItem> items;
  std::optional<std::string> next_link;  // absent or null: the last page
};

SecretListPage parse_secret_list(std::string_view body);

// The secret name and version of an id such as
// https://{vault}.vault.azure.net/secrets/{name}[/{version}]. Empty strings
// for parts that are not there (an id may also be opaque).
struct SecretId {
  std::string name, version;
};
SecretId parse_secret_id(std::string_view id);

struct VaultError {
  std::string code;        // error.code, sanitised
  std::string inner_code;  // error.innererror.code (innermost), sanitised
};
VaultError parse_vault_error(std::string_view body);

enum class Operation { get, put, remove, list, health, versions, purge };

// Where a failure happened, for the message.
struct FailureContext {
  Operation operation = Operation::get;
  std::string vault_host;
  std::string secret_name;  // empty for list and health
  std::string key;          // canonical key, when there is one
};

// The status and message for an error answer of Key Vault (not 401/retryable
// statuses, which the client handles itself, though they are described too).
coffer::provider::Error describe_vault_failure(unsigned status, std::string_view body,
                                               const FailureContext &context);

std::string_view operation_name(Operation operation) noexcept;

// "get of secret 'X' (key K)", "list of the secrets list", for messages.
std::string describe_operation(const FailureContext &context);

}  // namespace coffer::azure

#endif  // COFFER_AZURE_VAULT_RESPONSE_HPP
