// What the Store's operations share: waiting for a provider's answer, naming
// a provider in a message, and finding a provider by name.
#ifndef COFFER_CORE_STORE_CALLS_HPP
#define COFFER_CORE_STORE_CALLS_HPP

#include <coffer/audit.hpp>
#include <coffer/error.hpp>

#include <functional>
#include <future>
#include <string>
#include <string_view>

#include "hosting/provider_instance.hpp"
#include "store/snapshot.hpp"

namespace coffer::detail {

// "provider 'NAME': MESSAGE" (the code's name when the message is empty).
std::string provider_message(const ProviderInstance &p, Code code, const std::string &message);

// Why an access was refused when the audit log fails closed.
std::string audit_refusal(std::string_view key, const AuditLog &audit);

// Waits for an asynchronous result.
template <class T>
struct Waiter {
  std::promise<T> promise;
  std::future<T> future = promise.get_future();
};

// What a provider's Done completion reported.
struct DoneOutcome {
  Code code = Code::internal;
  std::string result;   // a put's version, an admin command's JSON; may be empty
  std::string message;  // why, on failure
};

// Starts a call with a Done completion and waits for its answer.
DoneOutcome wait_done(const std::function<void(ProviderInstance::Done)> &start);

// The snapshot's provider of that name; throws Error(invalid_argument) naming
// the providers it has.
ProviderInstance *named(const Snapshot &snap, std::string_view name);

}  // namespace coffer::detail

#endif  // COFFER_CORE_STORE_CALLS_HPP
