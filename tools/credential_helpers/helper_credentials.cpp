#include "helper_credentials.hpp"

namespace coffer::helpers {

Result read_username(tools::SecretSource &source, const HelperEntry &entry) {
  if (entry.username_key.empty()) {
    Result literal;
    literal.code = Code::ok;
    literal.secret = Secret::copy_of(entry.username);
    return literal;
  }
  return source.get(entry.username_key);
}

Credential read_credential(tools::SecretSource &source, const HelperEntry &entry) {
  Credential credential;
  std::vector<std::string> keys{entry.secret_key};
  if (!entry.username_key.empty()) keys.push_back(entry.username_key);
  std::vector<Result> values = source.get_many(keys);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].ok()) continue;
    credential.code = values[i].code;
    credential.message = keys[i] + ": " + values[i].message;
    return credential;
  }
  credential.secret = std::move(values[0].secret);
  credential.username =
      entry.username_key.empty() ? Secret::copy_of(entry.username) : std::move(values[1].secret);
  return credential;
}

StoreResult store_credential(tools::SecretSource &source, const HelperEntry &entry,
                             std::string_view username, const Secret &secret) {
  StoreResult result;
  Result mapped = read_username(source, entry);
  if (!mapped.ok()) {
    result.code = mapped.code;
    result.message = "not stored: the user name in " + entry.username_key + ": " + mapped.message;
    return result;
  }
  if (!mapped.secret.equals(Secret::copy_of(username))) {
    result.code = Code::denied;
    result.message = "not stored: the user name is not the one the policy maps to " +
                     entry.secret_key + " (a credential of another account never replaces it)";
    return result;
  }
  Result current = source.get(entry.secret_key);
  if (current.ok() && current.secret.equals(secret)) {
    result.outcome = StoreOutcome::unchanged;
    return result;
  }
  if (!current.ok() && current.code != Code::not_found) {
    result.code = current.code;
    result.message = "not stored: " + entry.secret_key + ": " + current.message;
    return result;
  }
  Store *store = source.store();
  if (store == nullptr) {
    result.code = Code::unsupported;
    result.message = "not stored: the values come from " + source.description() +
                     ", which only reads; store it with 'coffer put " + entry.secret_key + "'";
    return result;
  }
  try {
    (void)store->put(entry.secret_key, secret);
    result.outcome = StoreOutcome::stored;
  } catch (const Error &e) {
    result.code = e.code();
    result.message = "not stored: " + std::string(e.what());
  }
  return result;
}

}  // namespace coffer::helpers
