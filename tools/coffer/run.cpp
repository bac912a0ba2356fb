// run: resolves NAME=KEY mappings, then replaces this process with a
// command whose environment holds the values. Values never reach a command
// line; every key resolves before the command starts, or it does not start.
#include <unistd.h>
#include <coffer/provider.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "commands.hpp"
#include "env_map.hpp"
#include "exit_status.hpp"
#include "output.hpp"
#include "secret_source.hpp"

extern char **environ;

namespace coffer::cli {
namespace {

// Exit statuses of a command that could not be started, as env(1) and the
// shells use them.
constexpr int kCannotExecute = 126;
constexpr int kCommandNotFound = 127;

std::vector<EnvBinding> bindings_of(const Arguments &arguments) {
  std::vector<EnvBinding> bindings;
  for (const auto &file : arguments.values("--env-file"))
    for (auto &binding : read_env_file(file)) bindings.push_back(std::move(binding));
  for (const auto &text : arguments.values("--env")) bindings.push_back(parse_env_option(text));
  if (bindings.empty())
    throw UsageError("run", "'run' needs --env NAME=KEY or --env-file MAP: nothing to resolve");
  require_unique_names(bindings);
  return bindings;
}

// The environment of the command: the inherited one without the variables
// being set, then NAME=VALUE for each binding, kept in secret memory (wiped
// when this object goes, should execve fail).
class CommandEnvironment {
 public:
  CommandEnvironment(const std::vector<EnvBinding> &bindings, std::vector<Result> &values) {
    std::vector<std::size_t> offsets;
    for (std::size_t i = 0; i < bindings.size(); ++i) {
      offsets.push_back(block_.size());
      block_.append(bindings[i].name);
      block_.push_back('=');
      block_.append(values[i].secret.reveal());
      block_.push_back('\0');
      values[i].secret.clear();
    }
    for (char **entry = environ; *entry != nullptr; ++entry)
      if (!is_set_here(*entry, bindings)) pointers_.push_back(*entry);
    // The block does not move any more: pointers into it stay valid.
    auto *base = const_cast<unsigned char *>(block_.data());
    for (std::size_t offset : offsets) pointers_.push_back(reinterpret_cast<char *>(base + offset));
    pointers_.push_back(nullptr);
  }

  [[nodiscard]] char *const *envp() const { return pointers_.data(); }

 private:
  static bool is_set_here(std::string_view entry, const std::vector<EnvBinding> &bindings) {
    std::string_view name = entry.substr(0, entry.find('='));
    for (const auto &binding : bindings)
      if (binding.name == name) return true;
    return false;
  }

  coffer::provider::SecretBytes block_;
  std::vector<char *> pointers_;
};

// The first failure decides the exit status; every failure is reported.
int report_failures(const std::vector<EnvBinding> &bindings, const std::vector<Result> &values,
                    const std::string &source) {
  int status = exit_success;
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    const Result &value = values[i];
    if (value.ok() && value.secret.reveal().find('\0') != std::string_view::npos) {
      print_error(bindings[i].name + " (" + bindings[i].origin + "): the value of " +
                  bindings[i].key +
                  " holds a NUL byte, which an environment variable cannot carry");
      if (status == exit_success) status = exit_failure;
      continue;
    }
    if (value.ok()) continue;
    print_error(bindings[i].name + " (" + bindings[i].origin + "): " + value.message);
    if (status == exit_success) status = exit_status_for(value.code);
  }
  if (status != exit_success)
    print_error("the command was not started (values from " + source + ")");
  return status;
}

}  // namespace

int run_run(Invocation &invocation, const Arguments &arguments) {
  std::vector<EnvBinding> bindings = bindings_of(arguments);
  std::vector<std::string> keys;
  for (const auto &binding : bindings) keys.push_back(binding.key);

  tools::SourceRequest request;
  request.policy = invocation.globals.policy;
  request.store_options = invocation.store_options();
  request.store_options.caller = "coffer-run";
  auto source = tools::open_secret_source(request);
  std::vector<Result> values = source->get_many(keys);
  std::string description = source->description();
  // The Store closes (its providers, its audit log) before this process
  // becomes the command.
  source.reset();
  if (int status = report_failures(bindings, values, description); status != exit_success)
    return status;

  const std::vector<std::string> &command = arguments.positionals;
  std::vector<char *> argv;
  for (const auto &argument : command) argv.push_back(const_cast<char *>(argument.c_str()));
  argv.push_back(nullptr);
  CommandEnvironment environment(bindings, values);
  std::fflush(nullptr);
  ::execvpe(argv[0], argv.data(), environment.envp());
  int error = errno;
  // The program's name is repeated only when it looks like one: what was
  // typed there may be a value.
  std::optional<std::string> shown = command[0].find('/') != std::string::npos
                                         ? std::optional(command[0])
                                         : shown_word(command[0]);
  print_error("cannot run " + (shown ? *shown : std::string("the command")) + ": " +
              std::strerror(error));
  return error == ENOENT ? kCommandNotFound : kCannotExecute;
}

}  // namespace coffer::cli
