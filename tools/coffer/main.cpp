// coffer: the command-line tool. Hardens the process, parses the command
// line, runs one command and turns its outcome into an exit status.
#include <sys/stat.h>
#include <coffer/process.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "commands.hpp"
#include "exit_status.hpp"
#include "output.hpp"

namespace {

using namespace coffer::cli;

// No core dump may carry a secret, and no other process of the same user
// may attach to this one and read its memory.
void harden_process() {
  coffer::harden_process();
  ::umask(077);  // anything a provider creates on our behalf stays private
}

const CommandSpec *find_for_help(const std::vector<std::string> &names) {
  if (names.empty()) return nullptr;
  std::vector<std::string> known;
  for (const auto &command : command_table()) {
    known.push_back(command.name);
    if (command.name != names[0]) continue;
    if (names.size() == 1) return &command;
    for (const auto &sub : command.subcommands)
      if (sub.name == command.name + " " + names[1]) return &sub;
    auto shown = shown_word(names[1]);
    throw UsageError(command.name,
                     "no help for " + (shown ? "unknown command '" + names[0] + " " + names[1] + "'"
                                             : "an unknown command of '" + names[0] + "'"));
  }
  auto near = nearest_name(names[0], known);
  auto shown = shown_word(names[0]);
  throw UsageError("", "no help for " +
                           (shown ? "unknown command " + *shown : "an unknown command") +
                           (near ? " (did you mean '" + *near + "'?)" : std::string()));
}

const CommandSpec *find_by_name(const std::string &name) {
  for (const auto &command : command_table()) {
    if (command.name == name) return &command;
    for (const auto &sub : command.subcommands)
      if (sub.name == name) return &sub;
  }
  return nullptr;
}

int run(const std::vector<std::string> &argv) {
  CommandLine line = parse_command_line(argv, command_table());
  if (line.version && line.command == nullptr) {
    Invocation invocation{line.globals};
    return run_version(invocation, {});
  }
  if (line.command == nullptr || line.help || line.command->name == "help") {
    const CommandSpec *subject = line.command;
    if (subject != nullptr && subject->name == "help" && !line.help)
      subject = find_for_help(line.arguments.positionals);
    // `coffer` alone is a usage error (help on stderr); asking for help is not.
    if (line.command == nullptr && !line.help) {
      std::string text = help_text(nullptr, command_table());
      std::fwrite(text.data(), 1, text.size(), stderr);
      return exit_usage;
    }
    write_stdout(help_text(subject, command_table()));
    return exit_success;
  }
  Invocation invocation{line.globals};
  return line.command->handler(invocation, line.arguments);
}

}  // namespace

int main(int argc, char **argv) {
  std::vector<std::string> arguments(argv + 1, argv + argc);
  try {
    harden_process();
    return run(arguments);
  } catch (const UsageError &e) {
    print_error(e.what());
    const CommandSpec *command = find_by_name(e.command());
    std::string hint = command != nullptr ? usage_line(*command) + "\nRun 'coffer help " +
                                                command->name + "' for details."
                                          : std::string("Run 'coffer --help' for the commands.");
    std::fprintf(stderr, "%s\n", hint.c_str());
    return exit_usage;
  } catch (const coffer::Error &e) {
    print_error(e.what());
    return exit_status_for(e.code());
  } catch (const std::exception &e) {
    print_error(e.what());
    return exit_failure;
  }
}
