// The JSON the panel's pages are built from, computed from the Store's public
// API: the credentials in their catalog groups with where each routes, its
// name in every provider of its chain and its status from a real resolution;
// the providers with their health; the recent audit events. Never a value:
// a resolved credential's value is dropped as soon as its version is read.
//
// Every function blocks on the Store (call it off the I/O threads) and
// reads in the name of `caller`, which the audit log records.
#ifndef COFFER_ADMIN_PANEL_VIEWS_HPP
#define COFFER_ADMIN_PANEL_VIEWS_HPP

#include <coffer/store.hpp>

#include <boost/json/object.hpp>

#include <string>

#include "recent_events.hpp"

namespace coffer::admin {

// {"generation", "groups": [{"name", "services": [{"name", "keys": [{"key",
// "description", "category", "rule", "override", "access", "access_message",
// "chain": [{"provider", "plugin", "name"}], "status": {"state", "provider",
// "version", "message"}}]}]}]}. "state" is "resolved", "not_found",
// "denied", "unavailable", "refused" (the policy denies the key) or "error".
boost::json::object credentials_view(Store &store, const std::string &caller);

// {"providers": [{"name", "plugin", "health", "message", "isolated",
// "writable", "keys", "settings"}]}: "keys" counts the catalog keys whose
// chain starts there; "settings" are the provider's entry in `settings`
// (see provider_settings.hpp).
boost::json::object providers_view(Store &store, const boost::json::object &settings);

// {"events": [{"time", "key", "provider", "operation", "outcome", "message",
// "caller", "peer"}]}, newest first.
boost::json::object audit_view(const RecentEvents &events);

// The state name of a get's outcome, as the panel shows it.
std::string_view status_state(Code code) noexcept;

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_PANEL_VIEWS_HPP
