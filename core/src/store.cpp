#include <coffer/store.hpp>

#include <sys/stat.h>

#include <cxxabi.h>

#include <condition_variable>
#include <cstdlib>
#include <future>
#include <sstream>
#include <typeinfo>

#include "cache.hpp"
#include "policy.hpp"
#include "store_impl.hpp"

namespace coffer {

using detail::ProviderInstance;
using detail::Snapshot;
using Clock = std::chrono::steady_clock;

namespace {

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
  Clock::time_point start;
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

// Waits for an asynchronous result.
template <class T>
struct Waiter {
  std::promise<T> promise;
  std::future<T> future = promise.get_future();
};

}  // namespace

namespace {
// The identity of a file's current content, as far as stat can tell: the
// inode changes when an editor or a ConfigMap update replaces the file.
struct FileStamp {
  std::filesystem::file_time_type time{};
  std::uintmax_t size = 0;
  std::uintmax_t inode = 0;
};
std::optional<FileStamp> stamp_of(const std::filesystem::path &file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return std::nullopt;
  std::error_code ec;
  FileStamp s;
  s.time = std::filesystem::last_write_time(file, ec);
  s.size = static_cast<std::uintmax_t>(st.st_size);
  s.inode = static_cast<std::uintmax_t>(st.st_ino);
  return s;
}
}  // namespace

Store::Impl::Impl(StoreOptions options, std::optional<std::filesystem::path> file, std::string text,
                  std::filesystem::path base_directory)
    : options_(std::move(options)),
      logger_(options_.log, options_.log_level),
      file_(std::move(file)),
      text_(std::move(text)),
      base_directory_(std::move(base_directory)),
      worker_(std::make_unique<detail::Worker>()),
      deadlines_(std::make_unique<detail::Worker>()),
      subscriptions_(std::make_shared<detail::Subscriptions>(*worker_)) {}

Store::Impl::~Impl() {
  shutdown();
}

void Store::Impl::shutdown() {
  if (closing_.exchange(true)) return;
  watcher_.reset();
  // Operations in flight (a health probe retrying an unreachable vault, say)
  // finish promptly where the plugin can cancel them.
  std::vector<std::shared_ptr<detail::ProviderInstance>> running;
  {
    std::lock_guard lock(load_mutex_);
    for (const auto &weak : opened_)
      if (auto instance = weak.lock()) running.push_back(std::move(instance));
  }
  for (const auto &instance : running) instance->cancel();
  running.clear();
  answers_.wait_idle();  // bounded by the calls' deadlines
  auto in_force = current();
  auto grace = in_force ? in_force->policy.timeout : std::chrono::milliseconds(30000);
  in_force.reset();
  if (!tracker_.wait_idle_for(grace)) {
    // Closing an instance with calls outstanding breaks the ABI, and waiting
    // could be forever: leave those providers be, and say so.
    abandoned_ = true;
    logger_.error("closing the Store: " + std::to_string(tracker_.running()) +
                  " call(s) into providers still unanswered " + std::to_string(grace.count()) +
                  " ms after they were asked to cancel; their providers are left open, not "
                  "closed, until the process ends");
    return;
  }
  fast_.store(nullptr);
  detail::ReadDomain::synchronize();
  set_current(nullptr);  // instances no longer used post their close to the worker
  worker_.reset();       // runs those closes and the tasks due, then stops
  deadlines_.reset();    // no call is left whose deadline it could enforce
  subscriptions_.reset();
  libraries_.clear();
}

std::shared_ptr<Snapshot> Store::Impl::snapshot() const {
  return current();
}

void Store::Impl::load() {
  std::lock_guard lock(load_mutex_);
  std::string source = file_ ? file_->string() : "<string>";
  std::uint64_t next = generation_.load() + 1;
  try {
    detail::Policy policy =
        file_ ? detail::read_policy(*file_) : detail::parse_policy(source, text_, base_directory_);
    auto previous = current();
    bool isolate = options_.open_failures == OpenFailures::isolate ||
                   (options_.open_failures == OpenFailures::policy && policy.isolate_open_failures);
    detail::SnapshotContext context{.options = options_,
                                    .logger = logger_,
                                    .worker = *worker_,
                                    .deadlines = *deadlines_,
                                    .tracker = tracker_,
                                    .answers = answers_,
                                    .metrics = metrics_,
                                    .isolate_open_failures = isolate,
                                    .libraries = libraries_};
    auto fresh = detail::build_snapshot(std::move(policy), context, previous.get(), next);
    std::erase_if(opened_, [](const auto &weak) { return weak.expired(); });
    for (const auto &instance : fresh->instances) {
      bool known = std::any_of(opened_.begin(), opened_.end(),
                               [&](const auto &weak) { return weak.lock() == instance; });
      if (!known) opened_.push_back(instance);
    }
    probe_health(*fresh, previous.get(), isolate);
    std::vector<IsolatedProvider> isolated = fresh->isolated();
    set_current(fresh);
    fast_.store(fresh.get(), std::memory_order_seq_cst);
    detail::ReadDomain::synchronize();  // no cache-hit reader still looks at `previous`
    generation_ = next;
    if (file_) {
      if (auto stamp = stamp_of(*file_)) {
        watched_time_ = stamp->time;
        watched_size_ = stamp->size;
        watched_inode_ = stamp->inode;
      }
    }
    if (next > 1)
      logger_.info("policy " + source + " loaded (generation " + std::to_string(next) + ")");
    metrics_.policy_load(true);
    std::vector<std::string> isolated_names;
    for (const auto &i : isolated) isolated_names.push_back(i.provider);
    metrics_.set_isolated(std::move(isolated_names));
    PolicyEvent event;
    event.loaded = true;
    event.source = source;
    event.generation = next;
    event.isolated = std::move(isolated);
    report_policy(fresh.get(), event);
    // A policy that drops or moves the audit log is recorded in the old one too.
    if (previous && previous->audit && previous->audit != fresh->audit)
      previous->audit->on_policy(event);
  } catch (const Error &e) {
    auto current = generation_.load();
    if (current > 0)
      logger_.error("policy reload failed, keeping generation " + std::to_string(current) + ": " +
                    e.what());
    metrics_.policy_load(false);
    PolicyEvent event;
    event.loaded = false;
    event.source = source;
    event.message = e.what();
    event.generation = current;
    report_policy(this->current().get(), event);
    throw;
  }
  if (!subscriptions_->empty()) worker_->post([this] { refresh_subscribed(); });
}

// Asks every newly opened provider for its health, all at once, and waits a
// short while: a provider that quickly says its configuration is wrong is
// isolated, or fails the load (`isolate` false); an answer that takes longer
// (a backend that is slow or unreachable) is only logged when it comes, so
// that opening a Store never waits on the network.
void Store::Impl::probe_health(const Snapshot &fresh, const Snapshot *previous, bool isolate) {
  struct Misconfigured {
    ProviderInstance *instance;
    std::string message;
  };
  struct Probes {
    std::mutex mutex;
    std::condition_variable answered;
    std::size_t pending = 0;
    bool waiting = true;
    std::vector<Misconfigured> misconfigured;
  };
  auto probes = std::make_shared<Probes>();
  std::vector<ProviderInstance *> asked;
  for (const auto &instance : fresh.instances) {
    bool reused = false;
    if (previous != nullptr)
      for (const auto &old : previous->instances) reused = reused || old == instance;
    if (!reused && instance->isolation().empty() && instance->can(COFFER_CAP_HEALTH))
      asked.push_back(instance.get());
  }
  probes->pending = asked.size();
  for (ProviderInstance *instance : asked) {
    std::string name = instance->name();
    const detail::ProviderSpec *spec = fresh.policy.provider(name);
    std::string where = spec != nullptr ? spec->where() : std::string();
    instance->health(
        fresh.policy.timeout, [this, probes, instance, name, where](Code code, const std::string &,
                                                                    const std::string &m) {
          std::lock_guard lock(probes->mutex);
          --probes->pending;
          if (code == Code::invalid_config && probes->waiting)
            probes->misconfigured.push_back({instance, where + "provider '" + name + "': " + m});
          else if (code != Code::ok)
            // A probe the Store's shutdown cut short says nothing about the backend.
            logger_.log(closing_                       ? LogLevel::debug
                        : code == Code::invalid_config ? LogLevel::error
                                                       : LogLevel::warning,
                        "provider '" + name + "' health: " + std::string(to_string(code)) +
                            (m.empty() ? "" : ": " + m));
          probes->answered.notify_all();
        });
  }
  std::vector<Misconfigured> misconfigured;
  {
    std::unique_lock lock(probes->mutex);
    probes->answered.wait_for(lock, kHealthProbeWait, [&] { return probes->pending == 0; });
    probes->waiting = false;
    misconfigured = std::move(probes->misconfigured);
  }
  if (misconfigured.empty()) return;
  if (!isolate) throw Error(Code::invalid_config, misconfigured.front().message);
  // Not yet published: nothing but the probe has used these instances.
  for (auto &m : misconfigured) {
    logger_.error(m.message + "; the provider is isolated: its routes answer unavailable");
    m.instance->isolate(std::move(m.message));
  }
}

void Store::Impl::report_policy(const Snapshot *snapshot, const PolicyEvent &event) {
  if (snapshot != nullptr && snapshot->audit) snapshot->audit->on_policy(event);
  if (options_.observer) options_.observer->on_policy(event);
}

bool Store::Impl::report_access(AuditLog *audit, const AccessRecord &access) {
  auto latency = Clock::now() - access.start;
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
                                            .start = Clock::now(),
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
  auto op = std::make_shared<GetOperation>();
  op->start = Clock::now();
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

void Store::Impl::refresh_subscribed() {
  // Held before closing_ is read: shutdown() sets closing_ and then waits for
  // every hold, so either it waits for this refresh or the refresh sees it.
  auto hold = tracker_.hold();
  if (closing_) return;
  auto snap = current();
  if (!snap) return;
  auto targets = subscriptions_->targets();
  for (const auto &entry : snap->catalog->entries()) {
    bool wanted = false;
    for (const auto &t : targets)
      wanted = wanted || t == entry.key || t == entry.category || t == "*";
    if (!wanted) continue;
    GetOptions options;
    options.bypass_cache = true;
    options.caller = "coffer:subscriptions";
    get_async(
        entry.key, [](Result) {}, options);
  }
}

void Store::Impl::schedule_refresh() {
  if (refresh_scheduled_.exchange(true)) return;
  auto snap = current();
  auto period = options_.subscription_refresh.count() > 0
                    ? options_.subscription_refresh
                    : std::chrono::duration_cast<std::chrono::milliseconds>(snap->policy.cache.ttl);
  if (period.count() <= 0) period = std::chrono::seconds(1);
  std::weak_ptr<Impl> weak = weak_from_this();
  auto tick = std::make_shared<std::function<void()>>();
  *tick = [weak, period, tick_ref = std::weak_ptr<std::function<void()>>(tick)] {
    auto self = weak.lock();
    if (!self || self->closing_) return;
    self->refresh_subscribed();
    if (auto next = tick_ref.lock())
      self->worker_->post_at(Clock::now() + period, [next] { (*next)(); });
  };
  worker_->post_at(Clock::now() + period, [tick] { (*tick)(); });
}

void Store::Impl::watch_tick() {
  auto hold = tracker_.hold();  // see refresh_subscribed()
  if (closing_ || !file_) return;
  auto now = stamp_of(*file_);
  if (!now) return;  // between an editor's delete and create: wait for the next event
  {
    std::lock_guard lock(load_mutex_);
    if (now->time == watched_time_ && now->size == watched_size_ && now->inode == watched_inode_)
      return;
  }
  try {
    load();
  } catch (const Error &) {  // reported by load(); the old policy stays
    std::lock_guard lock(load_mutex_);
    // Do not retry the same broken content at every nudge.
    watched_time_ = now->time;
    watched_size_ = now->size;
    watched_inode_ = now->inode;
  }
}

// ---------------------------------------------------------------------------

namespace {
// Shuts a Store down on the caller's thread while it still owns the Impl, so
// that no worker or provider thread can end up destroying it. An Impl whose
// providers still hold calls is kept for the life of the process: their late
// answers find everything they touch.
void close_store(std::shared_ptr<Store::Impl> impl) {
  impl->shutdown();
  if (!impl->abandoned_) return;
  static std::mutex mutex;
  static auto *kept = new std::vector<std::shared_ptr<Store::Impl>>();  // never freed
  std::lock_guard lock(mutex);
  kept->push_back(std::move(impl));
}
}  // namespace

Store::Store(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store &&) noexcept = default;
Store &Store::operator=(Store &&other) noexcept {
  if (this != &other) {
    if (impl_) close_store(std::move(impl_));
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Store::~Store() {
  if (impl_) close_store(std::move(impl_));
}

namespace {
void start_watching(const std::shared_ptr<Store::Impl> &impl) {
  if (!impl->options_.watch_policy || !impl->file_) return;
  std::weak_ptr<Store::Impl> weak = impl;
  Store::Impl *raw = impl.get();
  impl->watcher_ = std::make_unique<detail::FileWatcher>(*impl->file_, [weak, raw] {
    // Debounce: an editor's save is a burst of events; look once it settled.
    raw->worker_->post_at(Clock::now() + std::chrono::milliseconds(50), [weak] {
      if (auto self = weak.lock()) self->watch_tick();
    });
  });
  if (!impl->watcher_->using_inotify())
    impl->logger_.warning("cannot watch " + impl->file_->string() +
                          " with inotify; checking it every 2 seconds");
}
}  // namespace

Store Store::open(const std::filesystem::path &policy, StoreOptions options) {
  auto impl = std::make_shared<Impl>(std::move(options), policy, std::string(),
                                     std::filesystem::absolute(policy).parent_path());
  impl->load();
  start_watching(impl);
  return Store(std::move(impl));
}

Store Store::from_string(std::string_view policy_json, StoreOptions options,
                         const std::filesystem::path &base_directory) {
  auto base = base_directory.empty() ? std::filesystem::current_path() : base_directory;
  auto impl = std::make_shared<Impl>(std::move(options), std::nullopt, std::string(policy_json),
                                     std::filesystem::absolute(base));
  impl->load();
  return Store(std::move(impl));
}

Result Store::try_get(std::string_view key, const GetOptions &options) {
  if (auto hit = impl_->get_cached_result(key, options)) return std::move(*hit);
  std::string k(key);
  auto waiter = std::make_shared<Waiter<Result>>();
  impl_->get_async(
      k, [waiter](Result r) { waiter->promise.set_value(std::move(r)); }, options);
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

namespace {
// The first provider of a key's chain, for writes.
ProviderInstance *writer_for(const Snapshot &snap, const std::string &key,
                             detail::Resolution &resolution) {
  resolution = snap.resolve(key);
  if (resolution.code != Code::ok) throw Error(resolution.code, resolution.message);
  return resolution.chain.front();
}

// What a provider's Done completion reported.
struct DoneOutcome {
  Code code = Code::internal;
  std::string result;   // a put's version, an admin command's JSON; may be empty
  std::string message;  // why, on failure
};

DoneOutcome wait_done(const std::function<void(ProviderInstance::Done)> &start) {
  auto waiter = std::make_shared<Waiter<DoneOutcome>>();
  start([waiter](Code c, const std::string &result, const std::string &message) {
    waiter->promise.set_value({c, result, message});
  });
  return waiter->future.get();
}
}  // namespace

void Store::Impl::refuse_unaudited_write(const Snapshot &snap, const std::string &key,
                                         const ProviderInstance &provider, const char *operation,
                                         Clock::time_point start, std::string_view caller) {
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
                               const std::string &message, Clock::time_point start,
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

std::string Store::Impl::routed_write(std::string_view key, const char *operation,
                                      std::string_view caller, const WriteCall &call) {
  auto snap = snapshot();
  std::string k(key);
  auto start = Clock::now();
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

namespace {
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
}  // namespace

Result Store::get_from(std::string_view provider, std::string_view key, const GetOptions &options) {
  auto snap = impl_->snapshot();
  ProviderInstance *p = named(*snap, provider);
  std::string k(key);
  auto start = Clock::now();
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
  auto start = Clock::now();
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
  auto start = Clock::now();
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

std::string Store::put_to(std::string_view provider, std::string_view key, const Secret &value,
                          std::string_view caller) {
  auto snap = impl_->snapshot();
  ProviderInstance *p = named(*snap, provider);
  std::string k(key);
  if (!is_canonical_key(k))
    throw Error(Code::invalid_argument, "'" + k + "' is not a key name: expected Category.Name");
  auto start = Clock::now();
  impl_->refuse_unaudited_write(*snap, k, *p, "put", start, caller);
  DoneOutcome outcome = wait_done([&](ProviderInstance::Done done) {
    p->put(k, value.bytes(), snap->policy.timeout, std::move(done));
  });
  p->cache().invalidate(k);
  impl_->finish_write(*snap, k, *p, "put", outcome.code, outcome.message, start, caller);
  return outcome.result;
}

std::vector<ListEntry> Store::list(std::string_view provider) {
  auto snap = impl_->snapshot();
  ProviderInstance *p = named(*snap, provider);
  auto waiter = std::make_shared<Waiter<std::tuple<Code, std::vector<ListEntry>, std::string>>>();
  p->list(snap->policy.timeout,
          [waiter](Code c, std::vector<ListEntry> entries, const std::string &m) {
            waiter->promise.set_value({c, std::move(entries), m});
          });
  auto [code, entries, message] = waiter->future.get();
  if (code != Code::ok) throw Error(code, provider_message(*p, code, message));
  return entries;
}

std::string Store::admin(std::string_view provider, std::string_view command,
                         std::string_view arguments_json) {
  auto snap = impl_->snapshot();
  ProviderInstance *p = named(*snap, provider);
  std::string cmd(command);
  std::string args(arguments_json.empty() ? "{}" : arguments_json);
  DoneOutcome outcome = wait_done([&](ProviderInstance::Done done) {
    p->admin(cmd, args, snap->policy.timeout, std::move(done));
  });
  if (outcome.code != Code::ok) {
    std::string message = provider_message(*p, outcome.code, outcome.message);
    if (!outcome.result.empty()) throw AdminError(outcome.code, message, outcome.result);
    throw Error(outcome.code, message);
  }
  return outcome.result;
}

void Store::reload() {
  impl_->load();
}

std::uint64_t Store::generation() const {
  return impl_->generation_.load();
}

std::string Store::metrics() const {
  return impl_->metrics_.exposition(impl_->generation_.load());
}

Subscription Store::subscribe(std::string key_or_category,
                              std::function<void(const ChangeEvent &)> on_change) {
  auto snap = impl_->snapshot();
  bool known = key_or_category == "*" || snap->catalog->contains(key_or_category);
  if (!known) {
    for (const auto &c : snap->catalog->categories()) known = known || c == key_or_category;
  }
  if (!known)
    throw Error(Code::invalid_argument, "cannot subscribe to '" + key_or_category +
                                            "': neither a catalog key nor a category");
  auto subscription = impl_->subscriptions_->add(std::move(key_or_category), std::move(on_change));
  impl_->worker_->post([weak = std::weak_ptr<Impl>(impl_)] {
    if (auto self = weak.lock()) self->refresh_subscribed();
  });
  impl_->schedule_refresh();
  return subscription;
}

bool Store::permits(const Peer &peer, std::string_view key) const {
  auto snap = impl_->snapshot();
  if (!snap) return false;
  const detail::Resolution *known = snap->find(key);
  if (known != nullptr ? known->code != Code::ok : snap->resolve(std::string(key)).code != Code::ok)
    return false;
  return snap->decide(peer, key).allowed;
}

std::vector<HelperEntry> Store::helpers(std::string_view tool) const {
  auto snap = impl_->snapshot();
  if (!snap) return {};
  auto it = snap->policy.helpers.find(tool);
  return it == snap->policy.helpers.end() ? std::vector<HelperEntry>{} : it->second;
}

Explanation Store::explain(std::string_view key) {
  auto snap = impl_->snapshot();
  std::string k(key);
  Explanation out;
  out.key = k;
  out.category = std::string(category_of(k));
  out.in_catalog = snap->catalog->contains(k);
  detail::Resolution r = snap->resolve(k);
  out.rule = r.rule;
  if (r.code != Code::ok) {
    out.access = r.message;
    if (r.spec == nullptr) return out;
  } else {
    out.access = "allowed";
  }
  bool answered = r.code != Code::ok;
  for (ProviderInstance *p : r.chain) {
    Explanation::Step step;
    step.provider = p->name();
    step.plugin = p->plugin();
    ProviderInstance::KeyName named = p->key_name(k);
    step.name = named.code == Code::ok ? named.name : "(cannot name it: " + named.message + ")";
    if (answered) {
      step.outcome = "skipped";
      step.note = r.code != Code::ok ? "the policy denies the key" : "an earlier provider answered";
      out.chain.push_back(std::move(step));
      continue;
    }
    auto waiter = std::make_shared<Waiter<std::pair<Code, std::string>>>();
    p->get(k, {}, snap->policy.timeout, [waiter](Code c, const std::string &m, Secret) {
      waiter->promise.set_value({c, m});
    });
    auto [code, message] = waiter->future.get();
    step.outcome = code == Code::ok ? "found" : std::string(to_string(code));
    if (code == Code::ok) {
      step.note = "answers the key";
      answered = true;
    } else if (r.spec->action(code) == detail::OnFailure::next) {
      step.note = (message.empty() ? std::string(to_string(code)) : message) +
                  "; the chain continues on " + std::string(to_string(code));
    } else {
      step.note = (message.empty() ? std::string(to_string(code)) : message) +
                  "; the chain stops on " + std::string(to_string(code));
      answered = true;
    }
    out.chain.push_back(std::move(step));
  }
  return out;
}

bool Store::audit(const AccessEvent &event) {
  auto snap = impl_->snapshot();
  bool recorded = snap->audit == nullptr || snap->audit->record(event);
  if (impl_->options_.observer) impl_->options_.observer->on_access(event);
  return recorded;
}

RouteInfo Store::route(std::string_view key) const {
  auto snap = impl_->snapshot();
  RouteInfo out;
  out.key = std::string(key);
  out.category = std::string(category_of(key));
  detail::Resolution r = snap->resolve(out.key);
  out.rule = r.rule;
  out.override = r.rule.rfind("keys.", 0) == 0;
  out.access = r.code;
  out.message = r.message;
  if (r.spec != nullptr) out.chain = r.spec->providers;
  return out;
}

std::vector<ProviderHealth> Store::health() {
  auto snap = impl_->snapshot();
  using Answer = std::pair<Code, std::string>;
  std::vector<std::future<Answer>> answers;
  for (const auto &instance : snap->instances) {
    auto waiter = std::make_shared<Waiter<Answer>>();
    answers.push_back(std::move(waiter->future));
    instance->health(snap->policy.timeout,
                     [waiter](Code code, const std::string &, const std::string &message) {
                       waiter->promise.set_value({code, message});
                     });
  }
  std::vector<ProviderHealth> out;
  for (std::size_t i = 0; i < snap->instances.size(); ++i) {
    const ProviderInstance &instance = *snap->instances[i];
    auto [code, message] = answers[i].get();
    ProviderHealth health;
    health.provider = instance.name();
    health.plugin = instance.plugin();
    health.code = code;
    health.isolated = !instance.isolation().empty();
    health.message =
        health.isolated ? instance.isolation() : (code == Code::ok ? std::string() : message);
    health.can_put = instance.can(COFFER_CAP_PUT);
    health.can_remove = instance.can(COFFER_CAP_REMOVE);
    health.has_history = instance.can(COFFER_CAP_HISTORY);
    health.soft_delete = instance.can(COFFER_CAP_SOFT_DELETE);
    out.push_back(std::move(health));
  }
  return out;
}

std::string Store::key_name(std::string_view key, std::string_view provider) {
  auto snap = impl_->snapshot();
  ProviderInstance *p = named(*snap, provider);
  ProviderInstance::KeyName named = p->key_name(std::string(key));
  if (named.code != Code::ok)
    throw Error(named.code, provider_message(*p, named.code, named.message));
  return std::move(named.name);
}

bool CheckReport::ok() const noexcept {
  if (!problems.empty()) return false;
  for (const auto &k : keys)
    if (k.code != Code::ok) return false;
  return true;
}

CheckReport Store::check(const std::function<void(std::size_t, std::size_t)> &progress) {
  CheckReport report;
  auto snap = impl_->snapshot();
  for (const auto &instance : snap->instances) {
    DoneOutcome outcome = wait_done(
        [&](ProviderInstance::Done done) { instance->health(snap->policy.timeout, done); });
    if (outcome.code != Code::ok)
      report.problems.push_back(provider_message(*instance, outcome.code, outcome.message));
  }
  std::vector<std::string> keys;
  for (const auto &entry : snap->catalog->entries()) keys.push_back(entry.key);
  GetOptions options;
  options.caller = "coffer:check";
  // As get_many, but the waiting thread wakes at each answer to report it.
  struct Batch {
    std::mutex mutex;
    std::condition_variable answered;
    std::vector<Result> results;
    std::size_t done = 0;
  };
  auto batch = std::make_shared<Batch>();
  batch->results.resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i)
    get_async(
        keys[i],
        [batch, i](Result r) {
          std::lock_guard lock(batch->mutex);
          batch->results[i] = std::move(r);
          ++batch->done;
          batch->answered.notify_all();
        },
        options);
  {
    std::unique_lock lock(batch->mutex);
    for (std::size_t shown = 0;;) {
      if (progress) {
        lock.unlock();
        progress(shown, keys.size());
        lock.lock();
      }
      if (shown == keys.size()) break;
      batch->answered.wait(lock, [&] { return batch->done != shown; });
      shown = batch->done;
    }
  }
  std::lock_guard lock(batch->mutex);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    CheckReport::KeyOutcome outcome;
    outcome.key = keys[i];
    outcome.provider = batch->results[i].provider;
    outcome.code = batch->results[i].code;
    outcome.message = batch->results[i].message;
    report.keys.push_back(std::move(outcome));
  }
  return report;
}

std::shared_ptr<const Catalog> Store::catalog() const {
  return impl_->snapshot()->catalog;
}

std::vector<IsolatedProvider> Store::isolated_providers() const {
  return impl_->snapshot()->isolated();
}

std::vector<std::string> Store::providers() const {
  std::vector<std::string> out;
  for (const auto &i : impl_->snapshot()->instances) out.push_back(i->name());
  return out;
}

ProviderFeatures Store::features(std::string_view provider) const {
  auto snap = impl_->snapshot();
  const ProviderInstance *p = named(*snap, provider);
  if (!p->isolation().empty()) return {};
  return {.can_put = p->can(COFFER_CAP_PUT),
          .can_remove = p->can(COFFER_CAP_REMOVE),
          .has_history = p->can(COFFER_CAP_HISTORY),
          .soft_delete = p->can(COFFER_CAP_SOFT_DELETE)};
}

std::string Store::plugin_of(std::string_view provider) const {
  return named(*impl_->snapshot(), provider)->plugin();
}

std::vector<PluginInfo> Store::plugins() const {
  return scan_plugins(impl_->snapshot()->plugin_dirs);
}

}  // namespace coffer
