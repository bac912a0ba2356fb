// The operator's calls: list, admin commands, explain, health, key names
// and the whole-catalog check.
#include <condition_variable>

#include "store/store_calls.hpp"
#include "store/store_impl.hpp"

namespace coffer {

using detail::DoneOutcome;
using detail::named;
using detail::provider_message;
using detail::ProviderInstance;
using detail::Snapshot;
using detail::wait_done;
using detail::Waiter;

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

}  // namespace coffer
