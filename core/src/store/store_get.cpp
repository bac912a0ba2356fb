// The get path: cache hits served in a read section, and the asynchronous
// walk down a fallback chain for everything else.
#include <cxxabi.h>

#include <condition_variable>
#include <cstdlib>
#include <typeinfo>

#include "hosting/cache.hpp"
#include "hosting/caller_waits.hpp"
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

namespace detail {

// One get walking a fallback chain. Holds the snapshot it started with.
struct GetOperation : std::enable_shared_from_this<GetOperation> {
  // Not owning: the Store waits for every operation before it goes, and must
  // never be destroyed on a provider's thread.
  Store::Impl *store = nullptr;
  std::shared_ptr<Snapshot> snapshot;
  detail::Resolution resolution;
  std::string key;
  std::string version;
  std::string caller;
  std::optional<Peer> peer;  // the peer the get is for (GetOptions::peer)
  bool bypass = false;
  std::chrono::milliseconds timeout{0};
  std::size_t step = 0;
  std::string trail;             // what earlier providers said
  Code worst = Code::not_found;  // the first failure other than not_found
  std::string blamed;            // the provider whose failure decides the outcome
  SteadyClock::time_point start;
  std::function<void(Result)> handler;

  void finish(Result result, bool hit, bool stale) {
    if (!store->report_access(snapshot ? snapshot->audit.get() : nullptr,
                              {.key = key,
                               .provider = result.provider.empty() ? blamed : result.provider,
                               .operation = "get",
                               .outcome = result.code,
                               .message = result.message,
                               .start = start,
                               .cache_hit = hit,
                               .stale = stale,
                               .caller = caller,
                               .peer = peer ? &*peer : nullptr})) {
      result.code = Code::unavailable;
      result.message = audit_refusal(key, *snapshot->audit);
      result.secret.clear();
    }
    if (version.empty() && !store->subscriptions_->empty()) {
      if (result.ok())
        store->subscriptions_->observe(key, result.provider, result.secret);
      else if (result.code == Code::not_found)
        store->subscriptions_->observe_gone(key);
    }
    auto h = std::move(handler);
    store->complete(h, std::move(result));
  }

  void run() {
    if (step >= resolution.chain.size()) {
      Result r;
      r.code = worst;
      r.message = (worst == Code::not_found ? "no provider has " : "no provider could serve ") +
                  key + " (" + trail + ")";
      finish(std::move(r), false, false);
      return;
    }
    ProviderInstance *provider = resolution.chain[step];
    auto self = shared_from_this();
    auto fetch = [self, provider](detail::Cache::FetchDone done) {
      provider->get(self->key, self->version, self->timeout,
                    [done = std::move(done)](Code c, const std::string &m, Secret v) {
                      done(c, m, std::move(v));
                    });
    };
    provider->cache().get(key, version, bypass, fetch, [self, provider](detail::CacheAnswer a) {
      self->answer(provider, std::move(a));
    });
  }

  void answer(ProviderInstance *provider, detail::CacheAnswer a) {
    if (a.code == Code::ok) {
      if (a.stale)
        store->logger_.warning("serving a stale " + key + " from provider '" + provider->name() +
                               "': " + a.message);
      Result r;
      r.code = Code::ok;
      r.secret = std::move(a.value);
      r.provider = provider->name();
      finish(std::move(r), a.hit, a.stale);
      return;
    }
    std::string said = provider_message(*provider, a.code, a.message);
    trail += (trail.empty() ? "" : "; ") + said;
    if (worst == Code::not_found) {
      worst = a.code;
      blamed = provider->name();
    }
    if (resolution.spec->action(a.code) == detail::OnFailure::next) {
      store->metrics_.fallback(provider->name(), category_of(key), a.code);
      ++step;
      run();
      return;
    }
    Result r;
    r.code = a.code;
    r.message = key + ": " + said;
    r.provider = provider->name();
    finish(std::move(r), a.hit, false);
  }
};

}  // namespace detail

// The read section of a cache hit: finds the value and copies it, with what
// reporting the hit needs when anyone listens (observers, the audit log and
// subscribers are told after the section, which must stay short: a writer of
// any Store may be waiting for it).
std::optional<Secret> Store::Impl::find_cached(std::string_view key, const Peer *peer,
                                               std::string *provider_name,
                                               std::optional<ObservedHit> &observed) {
  auto guard = detail::ReadDomain::enter();
  const Snapshot *snap = fast_.load(std::memory_order_seq_cst);
  if (snap == nullptr) return std::nullopt;
  // A hit that its audit line may refuse takes the slow path, which can.
  if (snap->audit && snap->audit->options().fail_closed) return std::nullopt;
  const detail::Resolution *resolution = snap->find(key);
  if (resolution == nullptr || resolution->code != Code::ok) return std::nullopt;
  // A refused peer takes the slow path, which refuses and audits it: the
  // cache never answers a peer the clients do not allow.
  if (peer != nullptr && !snap->decide(*peer, key).allowed) return std::nullopt;
  for (std::size_t step = 0; step < resolution->chain.size(); ++step) {
    bool negative = false;
    bool refresh = false;
    auto value = detail::Cache::peek(resolution->entries[step], &negative, &refresh);
    if (value) {
      if (refresh) return std::nullopt;  // let the slow path start the refresh
      resolution->hits[step]->count.add_from(guard.thread_index());
      // Names are copied inside the section: after it, a reload may close the
      // instance that owns them.
      const std::string &provider = resolution->chain[step]->name();
      if (provider_name != nullptr) *provider_name = provider;
      if (options_.observer || snap->audit || !subscriptions_->empty())
        observed.emplace(ObservedHit{provider, snap->audit});
      return value;
    }
    if (!negative || resolution->spec->action(Code::not_found) != detail::OnFailure::next)
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Secret> Store::Impl::get_cached(std::string_view key, const GetOptions &options,
                                              std::string *provider_name) {
  if (options.bypass_cache || !options.version.empty()) return std::nullopt;
  std::optional<ObservedHit> observed;
  std::optional<Secret> value = find_cached(key, options.peer, provider_name, observed);
  if (value && observed) {
    if (options_.observer || observed->audit)
      report_access(observed->audit.get(), {.key = key,
                                            .provider = observed->provider,
                                            .operation = "get",
                                            .outcome = Code::ok,
                                            .start = SteadyClock::now(),
                                            .cache_hit = true,
                                            .caller = options.caller,
                                            .peer = options.peer,
                                            .counted = true});
    if (!subscriptions_->empty())
      subscriptions_->observe(std::string(key), observed->provider, *value);
  }
  return value;
}

std::optional<Result> Store::Impl::get_cached_result(std::string_view key,
                                                     const GetOptions &options) {
  std::string provider;
  std::optional<Secret> value = get_cached(key, options, &provider);
  if (!value) return std::nullopt;
  Result r;
  r.code = Code::ok;
  r.secret = std::move(*value);
  r.provider = std::move(provider);
  return r;
}

void Store::Impl::get_async(const std::string &key, std::function<void(Result)> handler,
                            const GetOptions &options) {
  auto op = std::make_shared<detail::GetOperation>();
  op->start = SteadyClock::now();
  op->store = this;
  op->snapshot = current();
  if (!op->snapshot) {  // the Store is shutting down
    Result r;
    r.code = Code::unavailable;
    r.message = "the Store is closing";
    complete(handler, std::move(r));
    return;
  }
  op->resolution = op->snapshot->resolve(key);
  op->key = key;
  op->version = std::string(options.version);
  op->caller = std::string(options.caller);
  if (options.peer != nullptr) op->peer = *options.peer;
  op->bypass = options.bypass_cache;
  op->timeout = options.timeout.count() > 0 ? options.timeout : op->snapshot->policy.timeout;
  op->handler = std::move(handler);
  if (op->resolution.code != Code::ok) {
    Result r;
    r.code = op->resolution.code;
    r.message = op->resolution.message;
    op->finish(std::move(r), false, false);
    return;
  }
  // After the route's own allow/deny, before anything reaches the cache.
  if (op->peer) {
    detail::PeerDecision decision = op->snapshot->decide(*op->peer, key);
    if (!decision.allowed) {
      Result r;
      r.code = Code::denied;
      r.message = std::move(decision.refusal);
      op->finish(std::move(r), false, false);
      return;
    }
  }
  op->run();
}

namespace {
// The type of the exception being handled, demangled ("std::runtime_error").
std::string current_exception_type() {
  const std::type_info *type = abi::__cxa_current_exception_type();
  if (type == nullptr) return "an unknown type";
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(type->name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? name.get() : type->name();
}
}  // namespace

void Store::Impl::complete(std::function<void(Result)> &handler, Result result) noexcept {
  try {
    handler(std::move(result));
  } catch (...) {
    // The message is not logged: the handler held the value and may quote it.
    metrics_.handler_exception();
    logger_.error("a get_async handler threw an exception of type " + current_exception_type() +
                  "; the core caught it (handlers must not throw)");
  }
}

Result Store::try_get(std::string_view key, const GetOptions &options) {
  if (auto hit = impl_->get_cached_result(key, options)) return std::move(*hit);
  std::string k(key);
  auto waiter = std::make_shared<Waiter<Result>>();
  {
    detail::CallerWaits waits(true);  // this thread blocks on the future below
    impl_->get_async(
        k, [waiter](Result r) { waiter->promise.set_value(std::move(r)); }, options);
  }
  return waiter->future.get();
}

Secret Store::get(std::string_view key, const GetOptions &options) {
  if (auto hit = impl_->get_cached(key, options, nullptr)) return std::move(*hit);
  Result r = try_get(key, options);
  if (!r.ok()) throw Error(r.code, r.message);
  return std::move(r.secret);
}

void Store::get_async(std::string_view key, std::function<void(Result)> handler,
                      const GetOptions &options) {
  if (auto hit = impl_->get_cached_result(key, options)) {
    impl_->complete(handler, std::move(*hit));
    return;
  }
  impl_->get_async(std::string(key), std::move(handler), options);
}

std::vector<Result> Store::get_many(std::span<const std::string> keys, const GetOptions &options) {
  std::vector<Result> results(keys.size());
  struct Batch {
    std::mutex mutex;
    std::condition_variable done;
    std::size_t remaining;
  };
  auto batch = std::make_shared<Batch>();
  batch->remaining = keys.size();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    get_async(
        keys[i],
        [batch, &results, i](Result r) {
          std::lock_guard lock(batch->mutex);
          results[i] = std::move(r);
          if (--batch->remaining == 0) batch->done.notify_all();
        },
        options);
  }
  std::unique_lock lock(batch->mutex);
  batch->done.wait(lock, [&] { return batch->remaining == 0; });
  return results;
}

Result Store::get_from(std::string_view provider, std::string_view key, const GetOptions &options) {
  auto snap = impl_->snapshot();
  ProviderInstance *p = named(*snap, provider);
  std::string k(key);
  auto start = SteadyClock::now();
  Result result;
  if (!is_canonical_key(k)) {
    result.code = Code::invalid_argument;
    result.message = "'" + k + "' is not a key name: expected Category.Name";
    return result;
  }
  if (options.peer != nullptr) {
    // A peer never reads what the routes refuse, whichever provider it names.
    detail::Resolution resolution = snap->resolve(k);
    detail::PeerDecision decision;
    if (resolution.code != Code::ok)
      decision.refusal = std::move(resolution.message);
    else
      decision = snap->decide(*options.peer, k);
    if (!decision.allowed) {
      result.code = resolution.code != Code::ok ? resolution.code : Code::denied;
      result.message = std::move(decision.refusal);
      (void)impl_->report_access(snap->audit.get(), {.key = k,
                                                     .provider = p->name(),
                                                     .outcome = result.code,
                                                     .message = result.message,
                                                     .start = start,
                                                     .caller = options.caller,
                                                     .peer = options.peer});
      return result;
    }
  }
  auto timeout = options.timeout.count() > 0 ? options.timeout : snap->policy.timeout;
  auto waiter = std::make_shared<Waiter<Result>>();
  p->get(k, std::string(options.version), timeout,
         [waiter](Code c, const std::string &m, Secret v) {
           Result r;
           r.code = c;
           r.message = m;
           r.secret = std::move(v);
           waiter->promise.set_value(std::move(r));
         });
  result = waiter->future.get();
  result.provider = p->name();
  if (!result.ok()) result.message = k + ": " + provider_message(*p, result.code, result.message);
  if (!impl_->report_access(snap->audit.get(), {.key = k,
                                                .provider = p->name(),
                                                .outcome = result.code,
                                                .message = result.message,
                                                .start = start,
                                                .caller = options.caller,
                                                .peer = options.peer})) {
    result.code = Code::unavailable;
    result.message = audit_refusal(k, *snap->audit);
    result.secret.clear();
  }
  return result;
}

}  // namespace coffer
