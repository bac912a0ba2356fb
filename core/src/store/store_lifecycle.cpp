// Store::Impl's life: construction, loading a policy (and probing the new
// providers' health), watching the policy file, and shutting down.
#include <sys/stat.h>

#include <condition_variable>

#include "policy/policy.hpp"
#include "store/store_impl.hpp"

namespace coffer {

using detail::ProviderInstance;
using detail::Snapshot;
using SteadyClock = std::chrono::steady_clock;

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

void Store::Impl::watch_policy_file() {
  if (!options_.watch_policy || !file_) return;
  std::weak_ptr<Impl> weak = weak_from_this();
  watcher_ = std::make_unique<detail::FileWatcher>(*file_, [weak, this] {
    // Debounce: an editor's save is a burst of events; look once it settled.
    worker_->post_at(SteadyClock::now() + std::chrono::milliseconds(50), [weak] {
      if (auto self = weak.lock()) self->watch_tick();
    });
  });
  if (!watcher_->using_inotify())
    logger_.warning("cannot watch " + file_->string() +
                    " with inotify; checking it every 2 seconds");
}

void Store::Impl::close(std::shared_ptr<Impl> impl) {
  impl->shutdown();
  if (!impl->abandoned_) return;
  static std::mutex mutex;
  static auto *kept = new std::vector<std::shared_ptr<Impl>>();  // never freed
  std::lock_guard lock(mutex);
  kept->push_back(std::move(impl));
}

}  // namespace coffer
