// Changing where a credential or a whole category is stored, as the panel
// does it: a preview of the policy change as a diff; then a job that copies
// the values across with verification (the `coffer migrate` machinery,
// optional), applies the same targeted, comment-keeping, atomic policy edit
// as `migrate --update-policy` (validated by loading the edited policy first)
// and reloads the Store. A copy that fails, or an edit that is refused, stops
// the job before the policy is touched: the policy stays as it was, and so do
// the values in the source (copies already made in the target stay there,
// unused, and a later run finds them equal).
//
// One switch runs at a time. Threading: every method may be called from many
// threads at once; the destructor waits for a running job.
#ifndef COFFER_ADMIN_STORAGE_SWITCH_HPP
#define COFFER_ADMIN_STORAGE_SWITCH_HPP

#include <coffer/store.hpp>

#include <boost/json/object.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent_log.hpp"

namespace coffer::admin {

struct SwitchRequest {
  enum class Scope { key, category };
  Scope scope = Scope::key;
  std::string name;     // the key (`Email.SMTPPassword`) or the category (`Email`)
  std::string to;       // the provider to store it in
  bool migrate = true;  // copy the values across (with verification) first
};

class StorageSwitch {
 public:
  // `policy_file` is the file the Store was opened from; `check_options`
  // open the edited policy to validate it. `store` and `log` must outlive this.
  StorageSwitch(Store &store, std::filesystem::path policy_file, StoreOptions check_options,
                agent::AgentLog &log);
  ~StorageSwitch();
  StorageSwitch(const StorageSwitch &) = delete;
  StorageSwitch &operator=(const StorageSwitch &) = delete;

  // The change without making it: {"scope", "name", "from", "to", "keys",
  // "changes", "diff": [{"kind": " "|"-"|"+", "line", "text"}], "possible",
  // "refusal"}. Throws Error(invalid_argument) for a request that names no
  // catalog key or category, an unknown provider, or where it is stored now.
  boost::json::object preview(const SwitchRequest &request);
  // Starts the job; returns its id. Throws as preview() does, and
  // Error(unavailable) while another switch runs.
  std::string start(const SwitchRequest &request, const std::string &caller);
  // {"id", "state": "running"|"done"|"failed", "scope", "name", "from", "to",
  // "total", "done", "current", "keys": [{"key", "status", "note"}],
  // "changes", "message"}, or nullopt for an unknown id.
  std::optional<boost::json::object> job(const std::string &id) const;
  // Whether a running switch covers `key` (an entry for it must wait).
  [[nodiscard]] bool busy_with(const std::string &key) const;

 private:
  struct Job;
  struct Resolved;
  Resolved resolve(const SwitchRequest &request) const;
  void run(const std::shared_ptr<Job> &job, const SwitchRequest &request, std::string caller);

  Store &store_;
  std::filesystem::path policy_file_;
  StoreOptions check_options_;
  agent::AgentLog &log_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::shared_ptr<Job> running_;
  std::thread worker_;
};

// The edit as diff lines: the changed lines ("-" before, "+" after) with up
// to `context` unchanged lines (" ") around them, each with its line number
// (in the file before for "-" and the context before, in the edited file for
// "+" and the context after).
boost::json::array line_diff(const std::string &before, const std::string &after,
                             std::size_t context = 2);

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_STORAGE_SWITCH_HPP
