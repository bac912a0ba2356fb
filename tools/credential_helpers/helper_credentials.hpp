// What both credential helpers do with a "helpers" entry of the policy:
// read its user name and secret, and decide whether a credential handed
// back by git or docker is stored (docs/credential-helpers.md).
#ifndef COFFER_HELPERS_HELPER_CREDENTIALS_HPP
#define COFFER_HELPERS_HELPER_CREDENTIALS_HPP

#include <coffer/store.hpp>

#include <string>

#include "secret_source.hpp"

namespace coffer::helpers {

// The user name of `entry`: its literal "username", or the value of its
// "username_key" (in the Result's secret either way).
Result read_username(tools::SecretSource &source, const HelperEntry &entry);

// The user name and secret of an entry. On failure, `code` and `message`
// say which key failed and why (never a value).
struct Credential {
  Code code = Code::ok;
  std::string message;
  Secret username;
  Secret secret;
  [[nodiscard]] bool ok() const noexcept { return code == Code::ok; }
};
Credential read_credential(tools::SecretSource &source, const HelperEntry &entry);

enum class StoreOutcome {
  unchanged,  // the key already holds this secret: nothing written
  stored,     // written through the Store of the policy
  refused,    // not written; `code` and `message` say why
};
struct StoreResult {
  StoreOutcome outcome = StoreOutcome::refused;
  Code code = Code::ok;
  std::string message;
};

// Stores `secret` as the value of entry.secret_key when the credential is
// the entry's: `username` must equal the entry's user name (a credential of
// another account never overwrites the mapped one). Writes only through a
// Store the tool opened itself (the agent only reads) and only when the
// value differs; the write goes through the first provider of the key's
// route, which may refuse it.
StoreResult store_credential(tools::SecretSource &source, const HelperEntry &entry,
                             std::string_view username, const Secret &secret);

}  // namespace coffer::helpers

#endif  // COFFER_HELPERS_HELPER_CREDENTIALS_HPP
