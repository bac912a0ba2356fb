// The small pieces the Store's operations share.
#include "store/store_calls.hpp"

namespace coffer::detail {

std::string provider_message(const ProviderInstance &p, Code code, const std::string &message) {
  std::string out = "provider '" + p.name() + "': ";
  out += message.empty() ? std::string(to_string(code)) : message;
  return out;
}

// Why an access was refused when the audit log fails closed.
std::string audit_refusal(std::string_view key, const AuditLog &audit) {
  return std::string(key) + ": refused: the audit log " + audit.options().file.string() +
         " cannot record the access (audit.fail_closed)";
}

DoneOutcome wait_done(const std::function<void(ProviderInstance::Done)> &start) {
  auto waiter = std::make_shared<Waiter<DoneOutcome>>();
  start([waiter](Code c, const std::string &result, const std::string &message) {
    waiter->promise.set_value({c, result, message});
  });
  return waiter->future.get();
}

ProviderInstance *named(const Snapshot &snap, std::string_view name) {
  ProviderInstance *p = snap.instance(name);
  if (p == nullptr) {
    std::string known;
    for (const auto &i : snap.instances) known += (known.empty() ? "" : ", ") + i->name();
    throw Error(Code::invalid_argument, "no provider named '" + std::string(name) +
                                            "' in the policy (it has: " + known + ")");
  }
  return p;
}

}  // namespace coffer::detail
