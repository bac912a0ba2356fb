#include "bundle_store.hpp"

#include "secret_memory.hpp"

namespace coffer::azure {
namespace {

using coffer::provider::Error;
using coffer::provider::SecretBytes;

constexpr std::size_t kMaxSecretBytes = 25 * 1024;

Error closing() {
  return Error(COFFER_STATUS_UNAVAILABLE, "the instance is closing");
}

}  // namespace

BundleStore::BundleStore(const Config &config, VaultClient &vault)
    : config_(config), vault_(vault), name_(*config.bundle_secret) {}

void BundleStore::shutdown() {
  closed_ = true;
  cached_.reset();
  fetched_.notify_all();
  written_.notify_all();
}

asio::awaitable<BundleStore::SnapshotPtr> BundleStore::load(const std::string &version,
                                                            const std::string &key,
                                                            Deadline deadline) {
  SecretBundle secret;
  try {
    secret = co_await vault_.get_secret(name_, version, key, deadline);
  } catch (const Error &error) {
    if (error.status() != COFFER_STATUS_NOT_FOUND) throw;
    throw Error(COFFER_STATUS_NOT_FOUND,
                "the JSON bundle secret '" + name_ + "'" +
                    (version.empty() ? std::string() : " (version " + version + ")") +
                    " was not found in vault " + vault_.vault_host() +
                    (key.empty() ? std::string() : " (asked for key " + key + ")"));
  }
  auto snapshot = std::make_shared<Snapshot>(
      Snapshot{JsonBundle::parse(name_, secret.value.view()), secret.version});
  co_return snapshot;
}

void BundleStore::publish(SnapshotPtr snapshot) {
  cached_ = std::move(snapshot);
  fetched_at_ = SteadyClock::now();
}

asio::awaitable<BundleStore::SnapshotPtr> BundleStore::current(Deadline deadline) {
  while (true) {
    if (closed_) throw closing();
    if (cached_ && SteadyClock::now() - fetched_at_ < config_.bundle_refresh) co_return cached_;
    if (fetching_) {
      const uint64_t generation = generation_;
      const bool fetched = co_await fetched_.wait(deadline);
      if (!fetched)
        throw Error(COFFER_STATUS_TIMEOUT,
                    "timed out waiting for the JSON bundle secret '" + name_ + "'");
      if (closed_) throw closing();
      if (generation_ != generation) {
        if (error_) throw *error_;
        if (cached_) co_return cached_;
      }
      continue;
    }
    fetching_ = true;
    std::optional<Error> failure;
    SnapshotPtr snapshot;
    try {
      const std::string latest, no_key;  // named: see load() callers below
      snapshot = co_await load(latest, no_key, deadline);
    } catch (const Error &error) {
      failure = error;
    }
    if (closed_) throw closing();
    fetching_ = false;
    ++generation_;
    error_ = failure;
    if (snapshot) publish(snapshot);
    fetched_.notify_all();
    if (failure) throw *failure;
    co_return snapshot;
  }
}

asio::awaitable<BundleStore::Value> BundleStore::get(const std::string &member,
                                                     const std::string &key,
                                                     const std::string &version,
                                                     Deadline deadline) {
  SnapshotPtr snapshot;
  if (version.empty())
    snapshot = co_await current(deadline);
  else
    snapshot = co_await load(version, key, deadline);
  co_return Value{snapshot->bundle.value(member, key), snapshot->version};
}

asio::awaitable<std::pair<std::vector<std::string>, std::string>> BundleStore::members(
    Deadline deadline) {
  SnapshotPtr snapshot = co_await current(deadline);
  co_return std::make_pair(snapshot->bundle.members(), snapshot->version);
}

asio::awaitable<void> BundleStore::probe(Deadline deadline) {
  const std::string latest, no_key;
  SnapshotPtr snapshot = co_await load(latest, no_key, deadline);
  publish(std::move(snapshot));
}

asio::awaitable<void> BundleStore::lock_writes(Deadline deadline) {
  while (writing_) {
    const bool unlocked = co_await written_.wait(deadline);
    if (!unlocked)
      throw Error(COFFER_STATUS_TIMEOUT,
                  "timed out waiting for an earlier write of the JSON bundle '" + name_ + "'");
    if (closed_) throw closing();
  }
  writing_ = true;
}

void BundleStore::unlock_writes() {
  writing_ = false;
  written_.notify_all();
}

asio::awaitable<std::string> BundleStore::put(const std::string &member, const std::string &key,
                                              const SecretBytes &value, Deadline deadline) {
  co_await lock_writes(deadline);
  struct Unlock {
    BundleStore &store;
    ~Unlock() { store.unlock_writes(); }
  } unlock{*this};
  std::optional<JsonBundle> bundle;
  try {
    const std::string latest;
    SnapshotPtr base = co_await load(latest, key, deadline);
    bundle.emplace(base->bundle);
  } catch (const Error &error) {
    if (error.status() != COFFER_STATUS_NOT_FOUND) throw;
  }
  if (!bundle) bundle.emplace(name_);  // the first key creates the bundle
  bundle->set(member, value.view());
  SecretBytes text = bundle->serialize();
  if (text.size() > kMaxSecretBytes)
    throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                "key " + key + ": the JSON bundle secret '" + name_ + "' would grow to " +
                    std::to_string(text.size()) + " bytes; Key Vault stores at most " +
                    std::to_string(kMaxSecretBytes) + " bytes per secret");
  SecretBundle written = co_await vault_.set_secret(name_, text, key, deadline);
  publish(std::make_shared<Snapshot>(Snapshot{std::move(*bundle), written.version}));
  co_return written.version;
}

asio::awaitable<void> BundleStore::remove(const std::string &member, const std::string &key,
                                          Deadline deadline) {
  co_await lock_writes(deadline);
  struct Unlock {
    BundleStore &store;
    ~Unlock() { store.unlock_writes(); }
  } unlock{*this};
  const std::string latest;
  SnapshotPtr base = co_await load(latest, key, deadline);
  JsonBundle bundle = base->bundle;
  if (!bundle.erase(member))
    throw Error(COFFER_STATUS_NOT_FOUND, "key " + key + " (member '" + member +
                                             "') is not in the JSON bundle secret '" + name_ + "'");
  SecretBytes text = bundle.serialize();
  SecretBundle written = co_await vault_.set_secret(name_, text, key, deadline);
  publish(std::make_shared<Snapshot>(Snapshot{std::move(bundle), written.version}));
}

}  // namespace coffer::azure
