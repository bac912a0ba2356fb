// A key's versions, through its route or from a named provider.
#include "store/store_calls.hpp"
#include "store/store_impl.hpp"

namespace coffer {

using detail::audit_refusal;
using detail::named;
using detail::provider_message;
using detail::ProviderInstance;
using detail::Snapshot;
using detail::Waiter;
using SteadyClock = std::chrono::steady_clock;

namespace {
struct VersionsAnswer {
  Code code = Code::internal;
  std::vector<VersionInfo> versions;
  std::string message;
};

// A provider's versions of a key. One without history that has the key
// answers unsupported; it is asked for the key directly (as explain asks),
// so that a chain passes by a provider that does not have it.
VersionsAnswer versions_of(ProviderInstance &p, const std::string &key,
                           std::chrono::milliseconds timeout) {
  auto waiter = std::make_shared<Waiter<VersionsAnswer>>();
  if (p.can(COFFER_CAP_HISTORY)) {
    p.versions(key, timeout,
               [waiter](Code c, std::vector<VersionInfo> versions, const std::string &m) {
                 waiter->promise.set_value({c, std::move(versions), m});
               });
    return waiter->future.get();
  }
  p.get(key, {}, timeout, [waiter](Code c, const std::string &m, Secret) {
    waiter->promise.set_value({c, {}, m});
  });
  VersionsAnswer answer = waiter->future.get();
  if (answer.code == Code::ok) {
    answer.code = Code::unsupported;
    answer.message = "it has the key but keeps no version history (plugin " + p.plugin() + ")";
  }
  return answer;
}
}  // namespace

std::vector<VersionInfo> Store::versions(std::string_view key, std::string_view caller) {
  auto snap = impl_->snapshot();
  std::string k(key);
  auto start = SteadyClock::now();
  detail::Resolution resolution = snap->resolve(k);
  if (resolution.code != Code::ok) throw Error(resolution.code, resolution.message);
  Code worst = Code::not_found;
  const ProviderInstance *blamed = resolution.chain.front();
  std::string trail;
  for (ProviderInstance *p : resolution.chain) {
    VersionsAnswer answer = versions_of(*p, k, snap->policy.timeout);
    if (answer.code == Code::ok) {
      if (!impl_->report_access(snap->audit.get(), {.key = k,
                                                    .provider = p->name(),
                                                    .operation = "versions",
                                                    .outcome = Code::ok,
                                                    .start = start,
                                                    .caller = caller}))
        throw Error(Code::unavailable, audit_refusal(k, *snap->audit));
      return std::move(answer.versions);
    }
    trail += (trail.empty() ? "" : "; ") + provider_message(*p, answer.code, answer.message);
    if (worst == Code::not_found) {
      worst = answer.code;
      blamed = p;
    }
    if (answer.code == Code::unsupported ||
        resolution.spec->action(answer.code) != detail::OnFailure::next)
      break;
  }
  (void)impl_->report_access(snap->audit.get(), {.key = k,
                                                 .provider = blamed->name(),
                                                 .operation = "versions",
                                                 .outcome = worst,
                                                 .message = trail,
                                                 .start = start,
                                                 .caller = caller});
  throw Error(worst, k + ": " + trail);
}

std::vector<VersionInfo> Store::versions_from(std::string_view provider, std::string_view key,
                                              std::string_view caller) {
  auto snap = impl_->snapshot();
  ProviderInstance *p = named(*snap, provider);
  std::string k(key);
  if (!is_canonical_key(k))
    throw Error(Code::invalid_argument, "'" + k + "' is not a key name: expected Category.Name");
  auto start = SteadyClock::now();
  VersionsAnswer answer = versions_of(*p, k, snap->policy.timeout);
  std::string message =
      answer.code == Code::ok ? std::string() : provider_message(*p, answer.code, answer.message);
  if (!impl_->report_access(snap->audit.get(), {.key = k,
                                                .provider = p->name(),
                                                .operation = "versions",
                                                .outcome = answer.code,
                                                .message = message,
                                                .start = start,
                                                .caller = caller}) &&
      answer.code == Code::ok)
    throw Error(Code::unavailable, audit_refusal(k, *snap->audit));
  if (answer.code != Code::ok) throw Error(answer.code, k + ": " + message);
  return std::move(answer.versions);
}

}  // namespace coffer
