// The emulated vault's contents: secrets with their versions, soft-deleted
// secrets, and the names the emulator was told to deny. Names are
// case-insensitive, as in Key Vault; a secret keeps the spelling it was
// created with. Not thread-safe (the server calls it from one thread).
#ifndef COFFER_AZURE_EMULATOR_VAULT_STATE_HPP
#define COFFER_AZURE_EMULATOR_VAULT_STATE_HPP

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace coffer::emulator {

struct SecretAttributes {
  bool enabled = true;
  std::optional<std::int64_t> not_before;  // nbf, Unix seconds
  std::optional<std::int64_t> expires;     // exp, Unix seconds
  std::int64_t created = 0;
  std::int64_t updated = 0;
};

struct SecretVersion {
  std::string version;  // 32 lowercase hex characters
  std::string value;
  std::optional<std::string> content_type;
  std::optional<std::map<std::string, std::string>> tags;
  SecretAttributes attributes;
};

struct Secret {
  std::string name;                     // as first created
  std::vector<SecretVersion> versions;  // in creation order; back() is the latest
};

struct DeletedSecret {
  Secret secret;
  std::int64_t deleted_date = 0;
  std::int64_t scheduled_purge_date = 0;
  int pending_gets = 0;  // GET /deletedsecrets answers 404 this many more times
};

// What a PUT or the control API asks for; absent fields take defaults.
struct SecretWrite {
  std::string value;
  std::optional<std::string> content_type;
  std::optional<std::map<std::string, std::string>> tags;
  std::optional<bool> enabled;
  std::optional<std::int64_t> not_before;
  std::optional<std::int64_t> expires;
};

// Key Vault's name rule: 1-127 characters of 0-9 a-z A-Z and '-'.
bool valid_secret_name(const std::string &name);
// A new version id: a random UUID's 32 hex digits, like Key Vault's.
std::string new_version_id();

class VaultState {
 public:
  Secret *find(const std::string &name);
  DeletedSecret *find_deleted(const std::string &name);

  // Adds a version (creating the secret if needed) and returns it. The caller
  // checks first that the name is not soft-deleted.
  const SecretVersion &set(const std::string &name, const SecretWrite &write, std::int64_t now);
  // Moves the secret to the deleted secrets; nullptr when there is none.
  DeletedSecret *remove(const std::string &name, std::int64_t now, int retention_days,
                        int pending_gets);
  bool purge(const std::string &name);
  Secret *recover(const std::string &name);

  // Sorted as Key Vault lists them: by upper-cased name.
  [[nodiscard]] std::vector<const Secret *> secrets() const;
  [[nodiscard]] std::vector<const DeletedSecret *> deleted_secrets() const;

  // A denial for one name, or for every name with "*".
  void deny(const std::string &name, const std::string &code);
  void allow(const std::string &name);
  [[nodiscard]] std::optional<std::string> denial(const std::string &name) const;

 private:
  std::map<std::string, Secret> secrets_;  // keyed by upper-cased name
  std::map<std::string, DeletedSecret> deleted_;
  std::map<std::string, std::string> denials_;
};

std::string uppercase(const std::string &text);

}  // namespace coffer::emulator

#endif
