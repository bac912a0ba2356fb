// What the panel does to one credential: store a value the administrator
// entered (write-only: the value goes from the request into secret memory
// and into the provider, and is wiped; only its new version comes back) and
// "Test" (resolve it now and show how: the `explain` steps). Both are done
// in the name of `caller`, which the audit log records.
//
// Both block on the Store: call them off the I/O threads.
#ifndef COFFER_ADMIN_CREDENTIAL_ACTIONS_HPP
#define COFFER_ADMIN_CREDENTIAL_ACTIONS_HPP

#include <coffer/secret.hpp>
#include <coffer/store.hpp>

#include <boost/json/object.hpp>

#include <string>

namespace coffer::admin {

// Writes `value` as a new version of `key` through the first provider of
// its route; returns {"key", "provider", "version"}. Throws Error: the
// Store's (unsupported for a provider that does not write, ...), or
// invalid_argument for a key no catalog has or an empty value.
boost::json::object enter_value(Store &store, const std::string &key, const Secret &value,
                                const std::string &caller);

// Resolves `key` now (bypassing the cache) and explains its chain: {"key",
// "rule", "access", "status": {"state", "provider", "version", "message"},
// "steps": [{"provider", "plugin", "name", "outcome", "note"}]}.
boost::json::object test_credential(Store &store, const std::string &key,
                                    const std::string &caller);

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_CREDENTIAL_ACTIONS_HPP
