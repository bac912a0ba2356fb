// Key Vault's JSON shapes for secrets: SecretBundle, SecretItem,
// DeletedSecretBundle, and the request bodies of PUT and PATCH.
#ifndef COFFER_AZURE_EMULATOR_SECRET_JSON_HPP
#define COFFER_AZURE_EMULATOR_SECRET_JSON_HPP

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "settings.hpp"
#include "vault_state.hpp"

namespace coffer::emulator {

// authority is "host:port" as the client addressed the vault.
boost::json::object secret_bundle(const Settings &settings, const std::string &authority,
                                  const Secret &secret, const SecretVersion &version,
                                  bool with_value);
// A listing entry (no value): with_version picks the versioned id (versions
// listing) or the base id (secrets listing).
boost::json::object secret_item(const Settings &settings, const std::string &authority,
                                const Secret &secret, const SecretVersion &version,
                                bool with_version);
boost::json::object deleted_bundle(const Settings &settings, const std::string &authority,
                                   const DeletedSecret &deleted);

// A parsed PUT (value required) or PATCH body, or why it is invalid.
class ParsedWrite {
 public:
  explicit ParsedWrite(SecretWrite write) : write_(std::move(write)) {}
  explicit ParsedWrite(std::string error) : error_(std::move(error)) {}
  explicit operator bool() const { return write_.has_value(); }
  const SecretWrite &operator*() const { return *write_; }
  const SecretWrite *operator->() const { return &*write_; }
  [[nodiscard]] const std::string &error() const { return error_; }

 private:
  std::optional<SecretWrite> write_;
  std::string error_;
};

ParsedWrite parse_secret_write(const std::string &body, bool value_required);

}  // namespace coffer::emulator

#endif
