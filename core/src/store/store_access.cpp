// How the Store reports an access: the audit log, the metrics and the
// host's observer; and how it refuses a write the audit log cannot record.
#include "store/store_calls.hpp"
#include "store/store_impl.hpp"

namespace coffer {

using detail::audit_refusal;
using detail::provider_message;
using detail::ProviderInstance;
using detail::Snapshot;
using SteadyClock = std::chrono::steady_clock;

bool Store::Impl::report_access(AuditLog *audit, const AccessRecord &access) {
  auto latency = SteadyClock::now() - access.start;
  Code outcome = access.outcome;
  bool recorded = true;
  std::string refusal;
  AccessEvent event;
  if (options_.observer || audit != nullptr) {
    event.key = access.key;
    event.category = category_of(access.key);
    event.provider = access.provider;
    event.operation = access.operation;
    event.outcome = outcome;
    event.message = access.message;
    event.latency = latency;
    event.cache_hit = access.cache_hit;
    event.stale = access.stale;
    event.caller = access.caller.empty() ? std::string_view(options_.caller) : access.caller;
    event.peer = access.peer;
  }
  if (audit != nullptr && !audit->record(event) && audit->options().fail_closed &&
      outcome == Code::ok) {
    recorded = false;
    outcome = Code::unavailable;
    refusal = audit_refusal(access.key, *audit);
    event.outcome = outcome;
    event.message = refusal;
  }
  if (outcome != Code::ok && outcome != Code::not_found)
    logger_.debug(std::string(access.operation) + " " + std::string(access.key) + ": " +
                  std::string(to_string(outcome)) + ": " +
                  (recorded ? std::string(access.message) : refusal));
  if (!access.counted)
    metrics_.record(access.provider, category_of(access.key), access.operation, outcome, latency,
                    access.cache_hit, access.stale);
  if (options_.observer) options_.observer->on_access(event);
  return recorded;
}

void Store::Impl::refuse_unaudited_write(const Snapshot &snap, const std::string &key,
                                         const ProviderInstance &provider, const char *operation,
                                         SteadyClock::time_point start, std::string_view caller) {
  AuditLog *audit = snap.audit.get();
  if (audit == nullptr || !audit->options().fail_closed || audit->writable()) return;
  std::string refusal = audit_refusal(key, *audit);
  (void)report_access(audit, {.key = key,
                              .provider = provider.name(),
                              .operation = operation,
                              .outcome = Code::unavailable,
                              .message = refusal,
                              .start = start,
                              .caller = caller});
  throw Error(Code::unavailable, refusal);
}

void Store::Impl::finish_write(const Snapshot &snap, const std::string &key,
                               const ProviderInstance &provider, const char *operation, Code code,
                               const std::string &message, SteadyClock::time_point start,
                               std::string_view caller) {
  if (!report_access(snap.audit.get(), {.key = key,
                                        .provider = provider.name(),
                                        .operation = operation,
                                        .outcome = code,
                                        .message = message,
                                        .start = start,
                                        .caller = caller}))
    // Done already: say so, so that nobody takes the write for undone.
    throw Error(Code::unavailable, key + ": the " + operation + " through provider '" +
                                       provider.name() + "' was done, but the audit log " +
                                       snap.audit->options().file.string() +
                                       " cannot record it (audit.fail_closed)");
  if (code != Code::ok) throw Error(code, key + ": " + provider_message(provider, code, message));
}

bool Store::audit(const AccessEvent &event) {
  auto snap = impl_->snapshot();
  bool recorded = snap->audit == nullptr || snap->audit->record(event);
  if (impl_->options_.observer) impl_->options_.observer->on_access(event);
  return recorded;
}

}  // namespace coffer
