// watch: prints a line whenever the value of a watched key changes (its
// version, never the value), until interrupted. Reloads the policy when the
// file changes and on SIGHUP.
#include <signal.h>

#include <coffer/catalog.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "commands.hpp"
#include "exit_status.hpp"
#include "output.hpp"

namespace coffer::cli {
namespace json = boost::json;

namespace {

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string or_dash(const std::string &text) {
  return text.empty() ? std::string("-") : text;
}

boost::json::value text_or_null(const std::string &text) {
  return text.empty() ? boost::json::value(nullptr) : boost::json::value(text);
}

// One line of output: "TIME  KEY  OLD_PROVIDER:OLD_VERSION -> PROVIDER:VERSION",
// "-" standing for an empty part (a key that appeared, or disappeared).
std::string change_line(const ChangeEvent &event, bool as_json) {
  if (as_json)
    return json::serialize(json::object{{"time", utc_now()},
                                        {"key", event.key},
                                        {"provider", text_or_null(event.provider)},
                                        {"old_provider", text_or_null(event.old_provider)},
                                        {"old_version", text_or_null(event.old_version)},
                                        {"new_version", text_or_null(event.new_version)}});
  return escape_controls(utc_now() + "  " + event.key + "  " + or_dash(event.old_provider) + ":" +
                         or_dash(event.old_version) + " -> " + or_dash(event.provider) + ":" +
                         or_dash(event.new_version));
}

// Targets are keys of the catalog, its categories or "*"; checked here so
// that a target of another shape is never repeated (it may be a value).
void require_known_target(const Store &store, const std::string &target, std::size_t position) {
  if (target.find('.') != std::string::npos) {
    require_known_key(store, target);
    return;
  }
  if (target == "*") return;
  std::vector<std::string> categories = store.catalog()->categories();
  if (std::find(categories.begin(), categories.end(), target) != categories.end()) return;
  std::string message = "target " + std::to_string(position) +
                        " of watch is neither a catalog key nor a category of the catalog";
  if (is_canonical_key(target + ".Name"))
    message += ": '" + target + "'";
  else
    message += " (not repeated here in case it is a value)";
  if (auto near = nearest_name(target, categories)) message += "; did you mean '" + *near + "'?";
  throw Error(Code::invalid_argument, message);
}

// Reports policy loads on stderr: what SIGHUP or an edit of the file did.
class ReloadReporter : public Observer {
 public:
  void on_policy(const PolicyEvent &event) noexcept override {
    if (event.loaded && event.generation <= 1) return;  // the first load is not news
    std::lock_guard lock(mutex_);
    if (event.loaded)
      std::fprintf(stderr, "coffer: policy %s loaded (generation %llu)\n", event.source.c_str(),
                   static_cast<unsigned long long>(event.generation));
    else
      std::fprintf(stderr, "coffer: policy reload failed, still using generation %llu: %s\n",
                   static_cast<unsigned long long>(event.generation), event.message.c_str());
    std::fflush(stderr);
  }

 private:
  std::mutex mutex_;
};

}  // namespace

int run_watch(Invocation &invocation, const Arguments &arguments) {
  // Signals are taken by sigwait below, so block them before the Store
  // starts its threads (which inherit the mask).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  StoreOptions options = invocation.store_options();
  options.watch_policy = true;
  options.observer = std::make_shared<ReloadReporter>();
  if (auto interval = arguments.value("--interval")) {
    double seconds = -1;
    try {
      std::size_t used = 0;
      seconds = std::stod(*interval, &used);
      if (used != interval->size()) seconds = -1;
    } catch (const std::exception &) {
      seconds = -1;
    }
    if (!(seconds > 0 && seconds <= 86400))
      throw UsageError("watch", "--interval expects seconds, more than 0 and up to 86400");
    options.subscription_refresh =
        std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  }
  Store store = invocation.open_store(options);

  bool as_json = arguments.has("--json");
  std::mutex output;
  std::vector<Subscription> subscriptions;
  for (std::size_t i = 0; i < arguments.positionals.size(); ++i)
    require_known_target(store, arguments.positionals[i], i + 1);
  for (const auto &target : arguments.positionals) {
    subscriptions.push_back(store.subscribe(target, [&, as_json](const ChangeEvent &event) {
      std::lock_guard lock(output);
      std::string line = change_line(event, as_json) + '\n';
      try {
        write_stdout(line);
      } catch (const Error &) {  // stdout closed: the next signal ends the command
      }
    }));
  }
  print_note("watching " + std::to_string(arguments.positionals.size()) +
                 " target(s); a line per change; SIGHUP reloads the policy, Ctrl-C stops",
             invocation.globals.quiet);
  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    if (signal != SIGHUP) break;
    try {
      store.reload();
    } catch (const Error &) {  // reported by the observer; the old policy stays
    }
  }
  subscriptions.clear();
  return exit_success;
}

}  // namespace coffer::cli
