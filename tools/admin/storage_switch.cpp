#include "storage_switch.hpp"

#include <coffer/catalog.hpp>

#include <boost/json/array.hpp>

#include <algorithm>

#include "migration.hpp"
#include "sessions.hpp"

namespace coffer::admin {
namespace json = boost::json;

struct StorageSwitch::Job {
  std::string id;
  std::string state = "running";
  SwitchRequest request;
  std::string from;
  std::vector<std::string> keys;
  std::size_t done = 0;
  std::string current;
  std::vector<cli::MigrationOutcome> outcomes;
  std::vector<std::string> changes;
  std::string message;
};

struct StorageSwitch::Resolved {
  std::string from;
  std::vector<std::string> keys;
  cli::MigrationPlan plan;
  std::vector<cli::RouteChange> changes;
};

namespace {

std::vector<std::string> lines_of(const std::string &text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) {
      if (start < text.size()) lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace

json::array line_diff(const std::string &before, const std::string &after, std::size_t context) {
  auto old_lines = lines_of(before);
  auto new_lines = lines_of(after);
  std::size_t prefix = 0;
  while (prefix < old_lines.size() && prefix < new_lines.size() &&
         old_lines[prefix] == new_lines[prefix])
    ++prefix;
  std::size_t suffix = 0;
  while (suffix < old_lines.size() - prefix && suffix < new_lines.size() - prefix &&
         old_lines[old_lines.size() - 1 - suffix] == new_lines[new_lines.size() - 1 - suffix])
    ++suffix;
  json::array diff;
  if (prefix == old_lines.size() && prefix == new_lines.size()) return diff;
  auto add = [&](const char *kind, std::size_t line, const std::string &text) {
    diff.push_back(json::object{{"kind", kind}, {"line", line + 1}, {"text", text}});
  };
  for (std::size_t i = prefix > context ? prefix - context : 0; i < prefix; ++i)
    add(" ", i, old_lines[i]);
  for (std::size_t i = prefix; i < old_lines.size() - suffix; ++i) add("-", i, old_lines[i]);
  for (std::size_t i = prefix; i < new_lines.size() - suffix; ++i) add("+", i, new_lines[i]);
  // Context after the change is numbered as the edited file numbers it.
  std::size_t tail = new_lines.size() - suffix;
  for (std::size_t i = tail; i < std::min(new_lines.size(), tail + context); ++i)
    add(" ", i, new_lines[i]);
  return diff;
}

StorageSwitch::StorageSwitch(Store &store, std::filesystem::path policy_file,
                             StoreOptions check_options, agent::AgentLog &log)
    : store_(store),
      policy_file_(std::move(policy_file)),
      check_options_(std::move(check_options)),
      log_(log) {}

StorageSwitch::~StorageSwitch() {
  if (worker_.joinable()) worker_.join();
}

StorageSwitch::Resolved StorageSwitch::resolve(const SwitchRequest &request) const {
  auto providers = store_.providers();
  if (std::find(providers.begin(), providers.end(), request.to) == providers.end())
    throw Error(Code::invalid_argument, "the policy has no provider named '" + request.to + "'");
  auto catalog = store_.catalog();
  Resolved out;
  if (request.scope == SwitchRequest::Scope::key) {
    if (!catalog->contains(request.name))
      throw Error(Code::invalid_argument, "no catalog has the key '" + request.name + "'");
    RouteInfo route = store_.route(request.name);
    if (route.chain.empty()) throw Error(Code::invalid_argument, route.message);
    out.from = route.chain.front();
    out.keys = {request.name};
    out.plan.keys = {request.name};
  } else {
    std::vector<std::string> categories = catalog->categories();
    if (std::find(categories.begin(), categories.end(), request.name) == categories.end())
      throw Error(Code::invalid_argument, "no catalog has the category '" + request.name + "'");
    // Where the category is stored: its route's first provider, as a key of it
    // without a per-key override shows it.
    for (const auto &entry : catalog->entries()) {
      if (entry.category != request.name) continue;
      RouteInfo route = store_.route(entry.key);
      if (route.chain.empty()) continue;
      if (out.from.empty() || !route.override) out.from = route.chain.front();
      if (!route.override) break;
    }
    if (out.from.empty())
      throw Error(Code::invalid_argument, "the policy routes no key of '" + request.name + "'");
    out.plan.categories = {request.name};
  }
  if (out.from == request.to)
    throw Error(Code::invalid_argument,
                request.name + " is already stored in '" + request.to + "'");
  out.plan.from = out.from;
  out.plan.to = request.to;
  if (request.scope == SwitchRequest::Scope::category)
    out.keys = cli::keys_to_migrate(store_, out.plan, {});
  out.changes = cli::route_changes(out.plan, {});
  return out;
}

json::object StorageSwitch::preview(const SwitchRequest &request) {
  Resolved resolved = resolve(request);
  auto edit = cli::update_policy_file(policy_file_, resolved.changes, check_options_, false);
  json::array keys(resolved.keys.begin(), resolved.keys.end());
  json::array changes(edit.done.begin(), edit.done.end());
  return {{"scope", request.scope == SwitchRequest::Scope::key ? "key" : "category"},
          {"name", request.name},
          {"from", resolved.from},
          {"to", request.to},
          {"keys", std::move(keys)},
          {"changes", std::move(changes)},
          {"diff", line_diff(edit.old_text, edit.new_text)},
          {"possible", edit.refusal.empty()},
          {"refusal", edit.refusal},
          {"instructions", edit.instructions}};
}

std::string StorageSwitch::start(const SwitchRequest &request, const std::string &caller) {
  Resolved resolved = resolve(request);
  std::lock_guard lock(mutex_);
  if (running_ != nullptr)
    throw Error(Code::unavailable, "another storage switch is running (" + running_->request.name +
                                       "); wait for it to finish");
  if (worker_.joinable()) worker_.join();  // the last job has finished
  auto job = std::make_shared<Job>();
  job->id = random_hex(16);
  job->request = request;
  job->from = resolved.from;
  job->keys = resolved.keys;
  jobs_[job->id] = job;
  running_ = job;
  worker_ = std::thread([this, job, request, caller] { run(job, request, caller); });
  return job->id;
}

void StorageSwitch::run(const std::shared_ptr<Job> &job, const SwitchRequest &request,
                        std::string caller) {
  auto finish = [&](std::string state, std::string message) {
    std::lock_guard lock(mutex_);
    job->state = std::move(state);
    job->message = std::move(message);
    job->current.clear();
    running_ = nullptr;
  };
  // Each outcome with the value it replaced (the job shows them without).
  std::vector<cli::MigrationOutcome> outcomes;
  cli::MigrationPlan plan;
  bool rerouted = false;
  // A switch that does not re-route writes back what its copies replaced.
  auto fail = [&](std::string message) {
    std::size_t kept = 0;
    try {
      if (!rerouted) kept = cli::undo_replacements(store_, plan, outcomes);
    } catch (const std::exception &) {
      kept = outcomes.size();  // no Store error escapes it; kept for safety's sake
    }
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = 0; i < outcomes.size(); ++i) job->outcomes[i].note = outcomes[i].note;
    }
    if (kept > 0)
      message += "; " + std::to_string(kept) + " value(s) it replaced in " + request.to +
                 " could not be written back (see the keys)";
    finish("failed", std::move(message));
  };
  try {
    Resolved resolved = resolve(request);
    resolved.plan.caller = caller;
    plan = resolved.plan;
    if (request.migrate) {
      cli::KeyedDigest digest;
      std::size_t failed = 0;
      for (const auto &key : job->keys) {
        {
          std::lock_guard lock(mutex_);
          job->current = key;
        }
        auto &outcome = outcomes.emplace_back(cli::migrate_key(store_, plan, digest, key));
        if (outcome.status == cli::MigrationStatus::failed) ++failed;
        std::lock_guard lock(mutex_);
        job->outcomes.push_back({outcome.key, outcome.status, outcome.note, std::nullopt});
        ++job->done;
      }
      if (failed > 0)
        return fail(std::to_string(failed) +
                    " value(s) could not be copied and verified; the policy was not changed");
    }
    auto edit = cli::update_policy_file(policy_file_, resolved.changes, check_options_, true);
    {
      std::lock_guard lock(mutex_);
      job->changes = edit.done;
    }
    if (!edit.refusal.empty())
      return fail("the policy was not changed: " + edit.refusal +
                  (edit.instructions.empty() ? std::string()
                                             : "; make this change by hand: " + edit.instructions));
    rerouted = true;
    if (edit.updated) store_.reload();
    std::string summary;
    for (const auto &line : edit.done) summary += (summary.empty() ? "" : "; ") + line;
    AccessEvent event;
    event.operation = "policy_edit";
    event.provider = request.to;
    event.key = request.scope == SwitchRequest::Scope::key ? request.name : std::string_view();
    event.category = request.scope == SwitchRequest::Scope::key ? category_of(request.name)
                                                                : std::string_view(request.name);
    event.outcome = Code::ok;
    event.message = summary;
    event.caller = caller;
    (void)store_.audit(event);
    log_.write(LogLevel::info, "admin changed where credentials are stored",
               {{"caller", caller}, {"changes", summary}});
    finish("done", edit.updated
                       ? "stored in " + request.to + "; the policy was updated and reloaded"
                       : "the policy already routes there; unchanged");
  } catch (const std::exception &failure) {
    fail(std::string("the switch stopped: ") + failure.what() +
         " (the policy was not changed unless the job says so)");
  }
}

std::optional<json::object> StorageSwitch::job(const std::string &id) const {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  const Job &job = *it->second;
  json::array keys;
  for (const auto &outcome : job.outcomes)
    keys.push_back(json::object{
        {"key", outcome.key}, {"status", cli::name_of(outcome.status)}, {"note", outcome.note}});
  json::array changes(job.changes.begin(), job.changes.end());
  return json::object{
      {"id", job.id},
      {"state", job.state},
      {"scope", job.request.scope == SwitchRequest::Scope::key ? "key" : "category"},
      {"name", job.request.name},
      {"from", job.from},
      {"to", job.request.to},
      {"migrate", job.request.migrate},
      {"total", job.request.migrate ? job.keys.size() : 0},
      {"done", job.done},
      {"current", job.current},
      {"keys", std::move(keys)},
      {"changes", std::move(changes)},
      {"message", job.message}};
}

bool StorageSwitch::busy_with(const std::string &key) const {
  std::lock_guard lock(mutex_);
  if (running_ == nullptr) return false;
  const auto &keys = running_->keys;
  return std::find(keys.begin(), keys.end(), key) != keys.end() ||
         (running_->request.scope == SwitchRequest::Scope::category &&
          category_of(key) == running_->request.name);
}

}  // namespace coffer::admin
