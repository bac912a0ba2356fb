// coffer::Store: the host's handle on its secrets.
//
// A Store is opened from a policy (a JSON file, see docs/policy.md) that
// routes each credential category to a chain of providers. Hosts ask for
// credentials by their canonical names (`VCS.GithubAdminPAT`); the Store
// resolves the route, asks the providers through the C ABI, caches what they
// answer (TTL, refresh ahead, stale-if-error, one fetch per key however many
// callers wait) and hands back Secrets.
//
// Threading: every method may be called from many threads at once. Blocking
// methods must not be called from a callback the Store invokes (a get_async
// handler, an observer, a subscription), which run on the Store's or a
// provider's threads.
//
// Reloading builds a new immutable snapshot of the policy, validates it and
// opens its providers before swapping it in; requests in flight finish on the
// snapshot they started with. A policy that fails to load leaves the last good
// one in force and is reported through the Observer and the log.
#ifndef COFFER_STORE_HPP
#define COFFER_STORE_HPP

#include <coffer/catalog.hpp>
#include <coffer/clock.hpp>
#include <coffer/error.hpp>
#include <coffer/plugins.hpp>
#include <coffer/secret.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coffer {

enum class LogLevel { debug = 0, info = 1, warning = 2, error = 3 };

// Receives the Store's and the providers' log lines. Lines never contain
// secret values. Called from any thread; must be thread-safe.
using LogSink = std::function<void(LogLevel level, std::string_view line)>;

// Who is asking, as the host established it: a Unix-socket host reads uid, gid
// and pid with SO_PEERCRED; a host that authenticated a token names the policy
// client the token belongs to. Only the primary gid counts: supplementary
// groups of another process cannot be read race-free, so the policy never
// consults them.
struct Peer {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int32_t pid = 0;  // 0 when unknown (TCP)
  // Set: a token client (a policy "clients" entry) and uid/gid are ignored;
  // empty: a Unix-socket peer.
  std::string client;
};

// One access to a secret, for audit and metrics. Never carries the value.
// Every view points into the Store's own memory and is valid only while the
// callback that receives the event runs: copy what you keep.
struct AccessEvent {
  std::string_view key;
  std::string_view category;
  std::string_view provider;   // the provider that answered; empty if none did
  std::string_view operation;  // "get", "put", "remove", "purge", "versions", "list"
  Code outcome = Code::ok;
  std::string_view message;  // why it failed; empty on success
  std::chrono::nanoseconds latency{0};
  bool cache_hit = false;      // served from the cache
  bool stale = false;          // served from the cache past its TTL (stale-if-error)
  std::string_view caller;     // the caller identity the host supplied
  const Peer *peer = nullptr;  // the peer the read was made for (GetOptions::peer), if any
};

// A provider that failed to open and that the Store isolated: its routes
// answer Code::unavailable with `error`, the rest of the Store works.
struct IsolatedProvider {
  std::string provider;  // the policy's name for it
  std::string error;     // why it did not open; names the provider and file:line:col
};

// A policy load or reload.
struct PolicyEvent {
  bool loaded = false;                     // false: the load failed and the old policy stays
  std::string source;                      // file name, or "<string>"
  std::string message;                     // on failure, the error with file, line and column
  std::uint64_t generation = 0;            // the generation in force after the event
  std::vector<IsolatedProvider> isolated;  // after a load: the providers that did not open
};

// Callbacks for audit, metrics and alerting. Called synchronously on the
// thread that completes the access, so keep them short. Must not throw.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_access(const AccessEvent &event) noexcept { (void)event; }
  virtual void on_policy(const PolicyEvent &event) noexcept { (void)event; }
};

// A change of a key's value, seen after a refresh or a policy switch. Carries
// version identifiers, never values. A key that no provider has any more
// gives an event with empty `provider` and `new_version`; a key that was
// absent when first read and appears later, one with empty `old_provider`
// and `old_version`.
struct ChangeEvent {
  std::string key;
  std::string provider;      // the provider now serving the key; empty when gone
  std::string old_provider;  // the provider that served it before (differs after a switch)
  std::string old_version;   // the version served before
  std::string new_version;   // empty when the key disappeared
};

// Keeps a subscription alive; destroying it (or cancel()) ends it. After
// cancel() returns, the callback is not running and will not run again.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription &&other) noexcept : cancel_(std::move(other.cancel_)) {
    other.cancel_ = nullptr;
  }
  Subscription &operator=(Subscription &&other) noexcept {
    if (this != &other) {
      cancel();
      cancel_ = std::move(other.cancel_);
      other.cancel_ = nullptr;
    }
    return *this;
  }
  Subscription(const Subscription &) = delete;
  Subscription &operator=(const Subscription &) = delete;
  ~Subscription() { cancel(); }
  void cancel() noexcept {
    if (cancel_) std::exchange(cancel_, nullptr)();
  }

 private:
  std::function<void()> cancel_;
};

// What a provider that fails to open (or whose health check at load promptly
// reports its configuration wrong) does to a load.
enum class OpenFailures {
  policy,   // as the policy's "on_open_failure" says ("isolate" unless "fail")
  isolate,  // isolate it whatever the policy says (tools that only read the policy)
  fail,     // fail the load whatever the policy says
};

struct StoreOptions {
  // Catalog files to add to the built-in catalog.
  std::vector<std::filesystem::path> catalogs;
  // Whether the built-in catalog is used.
  bool builtin_catalog = true;
  // Whether keys that no catalog knows may be asked for (off: an unknown key
  // is an invalid_argument error that names the nearest known key).
  bool allow_unknown_keys = false;
  // Plugin directories searched before the policy's `plugin_dirs` and the
  // defaults (see plugins.hpp).
  std::vector<std::filesystem::path> plugin_dirs;
  std::shared_ptr<Observer> observer;
  LogSink log;  // default: lines at or above `log_level` go to stderr
  LogLevel log_level = LogLevel::warning;
  // The caller identity reported to the Observer when a call names none.
  std::string caller;
  // Reload automatically when the policy file changes (a file policy only).
  bool watch_policy = false;
  // How often subscribed keys are re-read to notice changes. Zero: the
  // policy's cache TTL.
  std::chrono::milliseconds subscription_refresh{0};
  // A provider that fails to open: isolated or a failed load (see OpenFailures).
  OpenFailures open_failures = OpenFailures::policy;
  // The time the cache's lifetimes are measured in (see clock.hpp); empty:
  // the monotonic clock. Shared by the Store for its whole life.
  std::shared_ptr<const Clock> clock;
};

struct GetOptions {
  std::string_view caller;   // overrides StoreOptions::caller
  std::string_view version;  // a named version (needs provider support)
  // Each provider asked gets this long to answer (zero: the policy's
  // timeout_ms); one that has not answered then counts as Code::timeout.
  std::chrono::milliseconds timeout{0};
  bool bypass_cache = false;  // ask the providers even if cached
  // When set, the policy's "clients" decide whether this peer may read the key
  // (after the route's own allow/deny, before the cache): a refusal is
  // Code::denied whose message names the client (or says the peer is not
  // named) and the rule, never a value, and is audited with the peer. Applies
  // to get, try_get, get_async, get_many and get_from. Must stay valid until
  // the call returns (get_async copies it). get_from, which otherwise skips
  // the routes, applies the key's route allow/deny too for a peer.
  const Peer *peer = nullptr;
};

// The outcome of one get.
struct Result {
  Code code = Code::internal;
  std::string message;  // on failure; never a value
  // On success; secret.version() and secret.created_unix_ms() say which
  // version it is and when the provider wrote it.
  Secret secret;
  std::string provider;  // the provider that answered
  [[nodiscard]] bool ok() const noexcept { return code == Code::ok; }
};

struct ListEntry {
  std::string key;   // canonical key, or empty when the name maps to none
  std::string name;  // the provider's own name
  std::string version;
};

// One version a provider keeps of a key (Store::versions). Never a value.
struct VersionInfo {
  std::string version;  // as Secret::version() gives it and GetOptions::version takes it
  std::int64_t created_unix_ms = 0;  // when it was written; 0 when the provider does not say
  bool enabled = true;               // false: the backend keeps it but refuses to serve it
};

// How a key resolves, for `coffer explain`.
struct Explanation {
  struct Step {
    std::string provider;
    std::string plugin;
    std::string name;     // the provider's name for the key, or why it has none
    std::string outcome;  // "found", "not_found", "denied", "skipped", ...
    std::string note;     // why the chain went on or stopped here
  };
  std::string key;
  std::string category;
  bool in_catalog = false;
  std::string rule;    // which policy rule chose the chain: keys.K, routes.C or routes.*
  std::string access;  // "allowed" or why the policy denies the key
  std::vector<Step> chain;
};

// Where a key routes under the policy in force, for screens that show it
// (the admin panel). Computed from the policy alone: no provider is asked.
struct RouteInfo {
  std::string key;
  std::string category;
  // The rule that chose the chain: "keys.K" (a per-key override), "routes.C"
  // or "routes.*"; empty when none does.
  std::string rule;
  bool override = false;           // a "keys" entry chose the chain
  std::vector<std::string> chain;  // provider names, in the order they are asked
  // ok; denied (the route's allow/deny list); invalid_config (no route for
  // the category); invalid_argument (not a key, or in no catalog).
  Code access = Code::ok;
  std::string message;  // why, when `access` is not ok
};

// What a provider says of its own health, with what a screen shows beside it.
struct ProviderHealth {
  std::string provider;  // the policy's name for it
  std::string plugin;
  Code code = Code::ok;      // the health answer (unavailable for an isolated provider)
  std::string message;       // the provider's message when not ok; never a value
  bool isolated = false;     // it failed to open (message: why)
  bool can_put = false;      // its plugin writes values (put); a config may still refuse
  bool can_remove = false;   // its plugin removes values
  bool has_history = false;  // its plugin lists a key's versions (Store::versions)
  // Its plugin's remove leaves the value recoverable in the backend until
  // purged (Store::purge), as Key Vault's soft delete does.
  bool soft_delete = false;
};

// What a provider's plugin can do, from its table alone (no provider is
// asked): for tools that must refuse an operation before they start it.
struct ProviderFeatures {
  bool can_put = false;
  bool can_remove = false;
  bool has_history = false;  // Store::versions
  bool soft_delete = false;  // remove leaves the value recoverable; Store::purge
};

// One "helpers" entry of the policy: how a credential helper answers a host.
struct HelperEntry {
  std::string match;         // git: a URL prefix "https://github.com/org"; docker: a server
  std::string username;      // a literal user name, or empty
  std::string username_key;  // or the canonical key holding the user name, or empty
  std::string secret_key;    // the canonical key holding the password / token
};

// The result of `check`: every provider opened, every catalog key tried.
struct CheckReport {
  struct KeyOutcome {
    std::string key;
    std::string provider;  // the provider that answered, if any
    Code code = Code::ok;
    std::string message;
  };
  std::vector<std::string> problems;  // policy, plugin and provider problems
  std::vector<KeyOutcome> keys;
  [[nodiscard]] bool ok() const noexcept;
};

class Store {
 public:
  // Opens the policy file. Throws Error(invalid_config) with file, line and
  // column for a bad policy. A provider that fails to open is isolated (see
  // IsolatedProvider, isolated_providers()) unless the policy's
  // "on_open_failure" or StoreOptions::open_failures says "fail": then this
  // throws the provider's message.
  static Store open(const std::filesystem::path &policy, StoreOptions options = {});
  // Opens a policy given as text. Relative paths resolve against
  // `base_directory` (the current directory when empty).
  static Store from_string(std::string_view policy_json, StoreOptions options = {},
                           const std::filesystem::path &base_directory = {});

  Store(Store &&) noexcept;
  Store &operator=(Store &&) noexcept;
  Store(const Store &) = delete;
  Store &operator=(const Store &) = delete;
  // Asks the providers to cancel what they are doing and waits until every
  // call has its answer (at the latest at its deadline), then up to
  // timeout_ms for the providers' own answers before closing them. A
  // provider that still holds a call is left open (logged as an error) and
  // the Store's state kept until the process ends.
  ~Store();

  // Every call into a provider has a deadline: GetOptions::timeout or the
  // policy's timeout_ms for gets, timeout_ms for the rest. A provider that has
  // not answered 100 ms after it is answered for with Code::timeout (a get's
  // chain then goes on as its "on" says); its late answer is discarded.
  //
  // When the policy's audit log fails closed ("audit": {"fail_closed": true})
  // an access whose audit line cannot be written is refused with
  // Code::unavailable: a get withholds the value, a put or remove is not
  // attempted.

  // Blocking get. Throws Error; Code::not_found when no provider has the key.
  Secret get(std::string_view key, const GetOptions &options = {});
  // Blocking get that reports failure in the Result instead of throwing.
  Result try_get(std::string_view key, const GetOptions &options = {});
  // Non-blocking get. `handler` runs exactly once, on a Store or provider
  // thread, or on the calling thread before get_async returns (cache hit).
  // It should not throw: an exception that escapes it is caught where the
  // core calls it, whichever thread that is (it would otherwise unwind
  // through a plugin's C frames), and is never propagated, not even to the
  // caller of get_async; the core logs an error naming the exception's type
  // (never its message, which may quote the value) and counts it in
  // coffer_handler_exceptions_total. The Store stays usable.
  // For Asio completion tokens (use_awaitable, ...) see coffer/asio.hpp.
  void get_async(std::string_view key, std::function<void(Result)> handler,
                 const GetOptions &options = {});
  // Resolves many keys concurrently; results in the order of `keys`.
  std::vector<Result> get_many(std::span<const std::string> keys, const GetOptions &options = {});

  // Writes a new version through the first provider of the key's route;
  // returns the provider's version id (may be empty). Invalidates the cache.
  std::string put(std::string_view key, const Secret &value, std::string_view caller = {});
  // Removes the key from the first provider of its route.
  void remove(std::string_view key, std::string_view caller = {});
  // Deletes for good what remove() left recoverable in the first provider of
  // the key's route (a provider with soft delete, ProviderHealth::soft_delete),
  // audited as operation "purge". Throws Error: Code::unsupported naming the
  // provider when it has no soft delete, not_found when it holds no removed
  // key of that name, denied when the backend refuses (its message names
  // what is missing).
  void purge(std::string_view key, std::string_view caller = {});
  // The versions the provider serving `key` keeps of it, newest first: the
  // key's chain is walked as a get walks it (a provider that does not have
  // the key is passed by as its route says). Audited as operation
  // "versions". Throws Error: Code::unsupported naming the provider that has
  // the key when it keeps no history (ProviderHealth::has_history),
  // not_found when no provider has it.
  std::vector<VersionInfo> versions(std::string_view key, std::string_view caller = {});
  // The versions the named provider keeps of `key`, with no route (as
  // get_from); the same errors.
  std::vector<VersionInfo> versions_from(std::string_view provider, std::string_view key,
                                         std::string_view caller = {});
  // Provider-level access for administration (`coffer migrate`): asks the
  // named provider directly, with no route, no allow/deny lists and no cache
  // (put_to invalidates the key in that provider's cache). `key` must have the
  // canonical form but need not be in a catalog. Failures: get_from reports
  // them in the Result, put_to throws Error. A get_from for a peer
  // (GetOptions::peer) is a peer's read: the key must resolve under the
  // routes (catalog, allow/deny) and the clients must allow it.
  Result get_from(std::string_view provider, std::string_view key, const GetOptions &options = {});
  std::string put_to(std::string_view provider, std::string_view key, const Secret &value,
                     std::string_view caller = {});
  // Records an administrative action taken through a host (a login to an
  // admin panel, a policy change it made) in the policy's audit log and
  // reports it to the Observer, as an access is: `event.operation` names the
  // action ("login", "policy_edit", ...), `event.caller` who acted, and
  // `event.key` may be empty. Returns false when the policy has an audit log
  // and the line could not be written. Never carries a value.
  bool audit(const AccessEvent &event);
  // Lists what a provider holds (by the policy's provider name).
  std::vector<ListEntry> list(std::string_view provider);
  // Runs a provider's administrative command; returns its JSON result. A
  // failure throws Error, or AdminError when the provider answered with a
  // result all the same (its report()).
  std::string admin(std::string_view provider, std::string_view command,
                    std::string_view arguments_json = "{}");

  // Re-reads the policy file (or re-applies the policy text). On failure
  // throws Error and keeps the policy in force; reports either way. Providers
  // isolated under the old policy are opened again.
  void reload();
  // Increases by one with every successful load.
  [[nodiscard]] std::uint64_t generation() const;

  // The Store's counters and latency histograms, in the Prometheus text
  // exposition format (version 0.0.4), for a host to serve on its /metrics
  // endpoint: requests by provider, category, operation and outcome; cache
  // hits; latency of the accesses the cache did not answer; the providers'
  // retries and token exchanges; policy reloads; lost audit lines; calls the
  // core answered with timeout, late answers, isolated providers. Labels
  // never carry key names or values. See docs/operations.md.
  [[nodiscard]] std::string metrics() const;

  // Calls `on_change` when the version of `key_or_category` (a canonical key
  // or a category name) changes. Runs on a Store thread.
  Subscription subscribe(std::string key_or_category,
                         std::function<void(const ChangeEvent &)> on_change);

  // Whether `peer` may read `key` under the policy in force: the key resolves
  // to a route that allows it and the policy's "clients" let the peer read
  // it. No provider is asked and nothing is audited; for listing what a peer
  // may see (bulk reads). An invalid or unknown key is not permitted.
  [[nodiscard]] bool permits(const Peer &peer, std::string_view key) const;
  // The policy's "helpers" entries for one tool ("git" or "docker"), in
  // policy order; empty for a tool the policy has none for (or that it does
  // not know).
  [[nodiscard]] std::vector<HelperEntry> helpers(std::string_view tool) const;

  [[nodiscard]] Explanation explain(std::string_view key);
  // Where `key` routes under the policy in force (see RouteInfo). Does not
  // block or throw for a bad key: `access` says what is wrong.
  [[nodiscard]] RouteInfo route(std::string_view key) const;
  // Asks every provider of the policy in force for its health, all at once,
  // and blocks until each has answered (at the latest after the policy's
  // timeout_ms); results in policy order. Never throws for a provider's
  // failure: it is reported in its entry.
  [[nodiscard]] std::vector<ProviderHealth> health();
  // The provider's name for a key (e.g. `VCS-GithubAdminPAT`).
  [[nodiscard]] std::string key_name(std::string_view key, std::string_view provider);
  // Asks every provider for its health (an isolated one reports its open
  // error) and every catalog key for its value, which is dropped at once.
  // The keys are asked all at once; `progress`, when set, is called on the
  // calling thread with how many keys have answered and how many there are,
  // first with 0 and last with both equal. An exception from it leaves
  // check() at once; the keys still being asked are answered and dropped.
  [[nodiscard]] CheckReport check(
      const std::function<void(std::size_t done, std::size_t total)> &progress = {});
  // The providers of the policy in force that failed to open and stand
  // isolated; empty when every provider opened.
  [[nodiscard]] std::vector<IsolatedProvider> isolated_providers() const;

  // The catalog of the policy in force, immutable. The pointer keeps it alive
  // across reloads (a reload builds a new one); hold it for as long as you
  // read it, e.g. `auto catalog = store.catalog();` before iterating
  // `catalog->entries()`.
  [[nodiscard]] std::shared_ptr<const Catalog> catalog() const;
  // The policy's provider names, in policy order.
  [[nodiscard]] std::vector<std::string> providers() const;
  // The plugin a provider uses.
  [[nodiscard]] std::string plugin_of(std::string_view provider) const;
  // What the provider's plugin can do (an isolated provider: nothing).
  // Throws Error(invalid_argument) for a name the policy does not have.
  [[nodiscard]] ProviderFeatures features(std::string_view provider) const;
  // Every plugin file in the directories the policy uses.
  [[nodiscard]] std::vector<PluginInfo> plugins() const;

  class Impl;

 private:
  explicit Store(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace coffer

#endif  // COFFER_STORE_HPP
