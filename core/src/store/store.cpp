// coffer::Store, the handle: opening, and what it answers from the policy
// in force without calling a provider. The operations live beside it, one
// file per concern (store_get.cpp, store_writes.cpp, ...).
#include <coffer/store.hpp>

#include "store/store_calls.hpp"
#include "store/store_impl.hpp"

namespace coffer {

using detail::named;
using detail::ProviderInstance;
Store::Store(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store &&) noexcept = default;
Store &Store::operator=(Store &&other) noexcept {
  if (this != &other) {
    if (impl_) Impl::close(std::move(impl_));
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Store::~Store() {
  if (impl_) Impl::close(std::move(impl_));
}

Store Store::open(const std::filesystem::path &policy, StoreOptions options) {
  auto impl = std::make_shared<Impl>(std::move(options), policy, std::string(),
                                     std::filesystem::absolute(policy).parent_path());
  impl->load();
  impl->watch_policy_file();
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

void Store::reload() {
  impl_->load();
}

std::uint64_t Store::generation() const {
  return impl_->generation_.load();
}

std::string Store::metrics() const {
  return impl_->metrics_.exposition(impl_->generation_.load());
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
