// serve: runs the agent (tools/agent) over the policy's Store until SIGTERM.
#include <coffer/store.hpp>

#include <charconv>
#include <cstdlib>
#include <memory>
#include <optional>

#include "../admin/admin_panel.hpp"
#include "../admin/recent_events.hpp"
#include "../agent/agent.hpp"
#include "../agent/listeners.hpp"
#include "commands.hpp"
#include "exit_status.hpp"

namespace coffer::cli {
namespace {

// Reports policy loads (SIGHUP, an edit of the file) in the agent's log.
class PolicyReporter : public Observer {
 public:
  explicit PolicyReporter(agent::AgentLog &log) : log_(log) {}
  void on_policy(const PolicyEvent &event) noexcept override {
    try {
      if (event.loaded) {
        std::vector<agent::LogField> fields{
            {"source", event.source}, {"generation", static_cast<std::int64_t>(event.generation)}};
        for (const auto &isolated : event.isolated)
          fields.push_back({"isolated_" + isolated.provider, isolated.error});
        log_.write(event.isolated.empty() ? LogLevel::info : LogLevel::warning, "policy loaded",
                   fields);
      } else {
        log_.write(LogLevel::error, "policy reload failed; the previous policy stays in force",
                   {{"source", event.source},
                    {"generation", static_cast<std::int64_t>(event.generation)},
                    {"error", event.message}});
      }
    } catch (...) {  // an observer must not throw
    }
  }

 private:
  agent::AgentLog &log_;
};

std::size_t whole_number(const Arguments &arguments, std::string_view option, std::size_t low,
                         std::size_t high, std::size_t fallback) {
  auto text = arguments.value(option);
  if (!text) return fallback;
  std::size_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || error != std::errc() || end != text->data() + text->size() || value < low ||
      value > high)
    throw UsageError("serve", std::string(option) + " expects a whole number from " +
                                  std::to_string(low) + " to " + std::to_string(high));
  return value;
}

std::chrono::milliseconds seconds(const Arguments &arguments, std::string_view option,
                                  std::chrono::milliseconds fallback) {
  auto text = arguments.value(option);
  if (!text) return fallback;
  double value = -1;
  try {
    std::size_t used = 0;
    value = std::stod(*text, &used);
    if (used != text->size()) value = -1;
  } catch (const std::exception &) {
    value = -1;
  }
  if (!(value >= 0.01 && value <= 86400))
    throw UsageError("serve", std::string(option) + " expects seconds, from 0.01 to 86400");
  return std::chrono::milliseconds(static_cast<long long>(value * 1000));
}

agent::AgentOptions agent_options(const Arguments &arguments) {
  agent::AgentOptions options;
  if (auto socket = arguments.value("--socket")) {
    options.socket = *socket;
  } else if (const char *env = std::getenv("COFFER_AGENT_SOCKET"); env != nullptr && *env != '\0') {
    options.socket = env;
  }
  if (arguments.has("--no-socket")) options.socket.clear();
  if (auto group = arguments.value("--socket-group"))
    options.socket_group = agent::parse_group(*group);
  if (auto mode = arguments.value("--socket-mode"))
    options.socket_mode = agent::parse_socket_mode(*mode);
  options.listen = arguments.values("--listen");
  for (const auto &grant : arguments.values("--token-file"))
    options.tokens.push_back(agent::parse_token_grant(grant));
  options.limits.max_connections =
      whole_number(arguments, "--max-connections", 1, 1'000'000, options.limits.max_connections);
  options.threads = static_cast<unsigned>(whole_number(arguments, "--threads", 1, 256, 0));
  options.limits.read_timeout = seconds(arguments, "--read-timeout", options.limits.read_timeout);
  options.limits.idle_timeout = seconds(arguments, "--idle-timeout", options.limits.idle_timeout);
  options.limits.write_timeout =
      seconds(arguments, "--write-timeout", options.limits.write_timeout);
  options.limits.drain_timeout =
      seconds(arguments, "--drain-timeout", options.limits.drain_timeout);
  return options;
}

// The panel's options, or nullopt without --admin.
std::optional<admin::AdminOptions> admin_options(const Arguments &arguments) {
  auto address = arguments.value("--admin");
  if (!address) {
    for (const char *option :
         {"--admin-token-file", "--admin-origin", "--admin-session-idle", "--admin-trusted-proxy",
          "--admin-proxy-secret-file", "--admin-tls-cert", "--admin-tls-key"})
      if (arguments.has(option))
        throw UsageError(
            "serve", std::string(option) + " is an option of the admin panel: give --admin too");
    return std::nullopt;
  }
  admin::AdminOptions options;
  options.address = *address;
  auto token = arguments.value("--admin-token-file");
  if (!token)
    throw UsageError("serve", "--admin needs --admin-token-file: the panel is only for its admin");
  options.token_file = *token;
  options.origins = arguments.values("--admin-origin");
  options.trusted_proxy = arguments.value("--admin-trusted-proxy").value_or("");
  options.proxy_secret_file = arguments.value("--admin-proxy-secret-file").value_or("");
  options.tls.certificate_chain = arguments.value("--admin-tls-cert").value_or("");
  options.tls.private_key = arguments.value("--admin-tls-key").value_or("");
  options.session_idle = seconds(arguments, "--admin-session-idle", options.session_idle);
  return options;
}

}  // namespace

int run_serve(Invocation &invocation, const Arguments &arguments) {
  LogLevel level = invocation.globals.quiet ? LogLevel::error : invocation.globals.log_level;
  if (level == LogLevel::warning) level = LogLevel::info;  // the agent says where it listens
  agent::AgentLog log({.json = arguments.has("--json"), .level = level});
  agent::AgentOptions options = agent_options(arguments);
  auto panel_options = admin_options(arguments);
  auto recent = std::make_shared<admin::RecentEvents>();

  StoreOptions store_options = invocation.store_options();
  store_options.caller = "coffer-serve";
  store_options.watch_policy = true;
  store_options.log = log.store_sink();
  store_options.log_level = level;
  std::shared_ptr<Observer> reporter = std::make_shared<PolicyReporter>(log);
  store_options.observer = panel_options
                               ? std::make_shared<admin::ObserverFanOut>(
                                     std::vector<std::shared_ptr<Observer>>{reporter, recent})
                               : reporter;
  if (panel_options) {
    panel_options->policy_file = invocation.policy_location().file;
    panel_options->check_options = invocation.store_options();
  }
  Store store = invocation.open_store(store_options);
  agent::Agent server(store, std::move(options), log);
  // Declared after the Store and the agent: destroyed (stopped) before them.
  std::optional<admin::AdminPanel> panel;
  if (panel_options) {
    panel.emplace(store, std::move(*panel_options), log, recent);
    panel->start();
  }
  int status = server.run();
  if (panel) panel->stop();
  return status;
}

}  // namespace coffer::cli
