// Writes: put, remove and purge through a key's route or to a named provider.
#include "hosting/cache.hpp"
#include "store/store_calls.hpp"
#include "store/store_impl.hpp"

namespace coffer {

using detail::DoneOutcome;
using detail::named;
using detail::ProviderInstance;
using detail::Snapshot;
using detail::wait_done;
using SteadyClock = std::chrono::steady_clock;

namespace {
// The first provider of a key's chain, for writes.
ProviderInstance *writer_for(const Snapshot &snap, const std::string &key,
                             detail::Resolution &resolution) {
  resolution = snap.resolve(key);
  if (resolution.code != Code::ok) throw Error(resolution.code, resolution.message);
  return resolution.chain.front();
}

}  // namespace

std::string Store::Impl::routed_write(std::string_view key, const char *operation,
                                      std::string_view caller, const WriteCall &call) {
  auto snap = snapshot();
  std::string k(key);
  auto start = SteadyClock::now();
  detail::Resolution resolution;
  ProviderInstance *provider = writer_for(*snap, k, resolution);
  refuse_unaudited_write(*snap, k, *provider, operation, start, caller);
  DoneOutcome outcome = wait_done([&](ProviderInstance::Done done) {
    call(*provider, k, snap->policy.timeout, std::move(done));
  });
  for (ProviderInstance *p : resolution.chain) p->cache().invalidate(k);
  finish_write(*snap, k, *provider, operation, outcome.code, outcome.message, start, caller);
  return outcome.result;
}

std::string Store::put(std::string_view key, const Secret &value, std::string_view caller) {
  return impl_->routed_write(key, "put", caller,
                             [&](ProviderInstance &provider, const std::string &k,
                                 std::chrono::milliseconds timeout, ProviderInstance::Done done) {
                               provider.put(k, value.bytes(), timeout, std::move(done));
                             });
}

void Store::remove(std::string_view key, std::string_view caller) {
  (void)impl_->routed_write(
      key, "remove", caller,
      [](ProviderInstance &provider, const std::string &k, std::chrono::milliseconds timeout,
         ProviderInstance::Done done) { provider.remove(k, timeout, std::move(done)); });
}

void Store::purge(std::string_view key, std::string_view caller) {
  (void)impl_->routed_write(
      key, "purge", caller,
      [](ProviderInstance &provider, const std::string &k, std::chrono::milliseconds timeout,
         ProviderInstance::Done done) { provider.purge(k, timeout, std::move(done)); });
}

std::string Store::put_to(std::string_view provider, std::string_view key, const Secret &value,
                          std::string_view caller) {
  auto snap = impl_->snapshot();
  ProviderInstance *p = named(*snap, provider);
  std::string k(key);
  if (!is_canonical_key(k))
    throw Error(Code::invalid_argument, "'" + k + "' is not a key name: expected Category.Name");
  auto start = SteadyClock::now();
  impl_->refuse_unaudited_write(*snap, k, *p, "put", start, caller);
  DoneOutcome outcome = wait_done([&](ProviderInstance::Done done) {
    p->put(k, value.bytes(), snap->policy.timeout, std::move(done));
  });
  p->cache().invalidate(k);
  impl_->finish_write(*snap, k, *p, "put", outcome.code, outcome.message, start, caller);
  return outcome.result;
}

}  // namespace coffer
