// git-credential-coffer: a git credential helper that answers from the
// policy's "helpers.git" entries, through the agent when one listens.
//
//   git-credential-coffer [--policy FILE] get|store|erase
//
// git writes a description on standard input; `get` answers with username=
// and password= lines, or with nothing (git then asks its next helper or
// the user). `store` writes a new password only as store_credential allows;
// `erase` never deletes anything (docs/credential-helpers.md).
#include <sys/stat.h>
#include <unistd.h>
#include <coffer/plugins.hpp>
#include <coffer/process.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exit_status.hpp"
#include "git_request.hpp"
#include "helper_credentials.hpp"
#include "helper_io.hpp"
#include "secret_source.hpp"
#include "write_all.hpp"

namespace {

using namespace coffer;
using coffer::cli::exit_status_for;
using coffer::helpers::GitRequest;
using coffer::helpers::print_message;

constexpr std::string_view kProgram = "git-credential-coffer";

const char *const kUsage =
    "usage: git-credential-coffer [--policy FILE] get|store|erase\n"
    "A git credential helper: git runs it with the operation and a description of\n"
    "the credential on standard input. Configure it with\n"
    "  git config --global credential.helper coffer\n"
    "and map URLs to keys in the policy's \"helpers\": {\"git\": [...]}.\n"
    "See docs/credential-helpers.md.\n";

struct Options {
  std::optional<std::string> policy;
  std::string operation;
};

// Throws cli::UsageError.
Options parse_arguments(const std::vector<std::string> &arguments) {
  Options options;
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    const std::string &argument = arguments[i];
    if (argument == "--policy") {
      if (i + 1 == arguments.size()) throw cli::UsageError("", "option --policy needs a FILE");
      options.policy = arguments[++i];
    } else if (argument.rfind("--policy=", 0) == 0) {
      options.policy = argument.substr(9);
    } else if (!argument.empty() && argument[0] == '-') {
      throw cli::UsageError("", "unknown option (not repeated here in case it is a value)");
    } else if (options.operation.empty()) {
      options.operation = argument;
    } else {
      throw cli::UsageError("", "only one operation is expected");
    }
  }
  if (options.operation.empty()) throw cli::UsageError("", "no operation given");
  return options;
}

std::unique_ptr<tools::SecretSource> open_source(const Options &options) {
  tools::SourceRequest request;
  request.policy = options.policy;
  request.store_options.caller = std::string(kProgram);
  return tools::open_secret_source(request);
}

bool has_line_break(std::string_view text) {
  return text.find_first_of(std::string_view("\n\0", 2)) != std::string_view::npos;
}

// username= and password= for git, or nothing. The most specific entry
// whose user name fits (any, when git has none yet) answers; a failure to
// read it ends the search, since a less specific entry is not meant for
// this URL.
int get(tools::SecretSource &source, const GitRequest &request) {
  const std::vector<HelperEntry> entries = source.helpers("git");
  for (const HelperEntry *entry : helpers::matching_git_entries(entries, request)) {
    Result username = helpers::read_username(source, *entry);
    if (!username.ok()) {
      print_message(kProgram, git_request_url(request) + ": " + entry->username_key + ": " +
                                  username.message);
      return exit_status_for(username.code);
    }
    if (request.username && username.secret.reveal() != *request.username) continue;
    Result secret = source.get(entry->secret_key);
    if (!secret.ok()) {
      print_message(kProgram,
                    git_request_url(request) + ": " + entry->secret_key + ": " + secret.message);
      return exit_status_for(secret.code);
    }
    if (has_line_break(username.secret.reveal()) || has_line_break(secret.secret.reveal())) {
      print_message(kProgram, git_request_url(request) + ": the value of " + entry->secret_key +
                                  " or its user name holds a line break or NUL, which the git "
                                  "credential protocol cannot carry");
      return cli::exit_failure;
    }
    coffer::provider::SecretBytes answer;
    answer.append("username=");
    answer.append(username.secret.reveal());
    answer.append("\npassword=");
    answer.append(secret.secret.reveal());
    answer.append("\n");
    tools::write_all(STDOUT_FILENO, answer.view(), "standard output");
    return cli::exit_success;
  }
  return cli::exit_success;
}

const HelperEntry *entry_for(const std::vector<HelperEntry> &entries, const GitRequest &request) {
  auto matching = helpers::matching_git_entries(entries, request);
  return matching.empty() ? nullptr : matching.front();
}

// git approves a credential after it worked. Only the entry's own account is
// stored, and only when the value changed (a typed new password).
int store(tools::SecretSource &source, const GitRequest &request) {
  if (!request.username || request.password.empty()) return cli::exit_success;
  const std::vector<HelperEntry> entries = source.helpers("git");
  const HelperEntry *entry = entry_for(entries, request);
  if (entry == nullptr) return cli::exit_success;
  helpers::StoreResult result =
      helpers::store_credential(source, *entry, *request.username, request.password);
  switch (result.outcome) {
    case helpers::StoreOutcome::unchanged:
      return cli::exit_success;
    case helpers::StoreOutcome::stored:
      print_message(kProgram,
                    git_request_url(request) + ": stored the new password in " + entry->secret_key);
      return cli::exit_success;
    case helpers::StoreOutcome::refused:
      break;
  }
  print_message(kProgram, git_request_url(request) + ": " + result.message);
  return exit_status_for(result.code);
}

// git rejects a credential that failed. Nothing is deleted: a failed
// authentication must not wipe a shared credential. When the rejected
// password is the one coffer holds, the user learns which key is stale.
int erase(tools::SecretSource &source, const GitRequest &request) {
  if (request.password.empty()) return cli::exit_success;
  const std::vector<HelperEntry> entries = source.helpers("git");
  const HelperEntry *entry = entry_for(entries, request);
  if (entry == nullptr) return cli::exit_success;
  Result current = source.get(entry->secret_key);
  if (current.ok() && current.secret.equals(request.password))
    print_message(kProgram, git_request_url(request) + ": the server refused the password in " +
                                entry->secret_key +
                                "; coffer keeps it (a credential helper never deletes from the "
                                "vault): renew it with 'coffer put " +
                                entry->secret_key + "'");
  return cli::exit_success;
}

int run(const std::vector<std::string> &arguments) {
  if (arguments.size() == 1 && (arguments[0] == "--help" || arguments[0] == "-h")) {
    std::fputs(kUsage, stdout);
    return cli::exit_success;
  }
  if (arguments.size() == 1 && arguments[0] == "--version") {
    std::printf("%s (coffer %s)\n", std::string(kProgram).c_str(), library_version());
    return cli::exit_success;
  }
  Options options = parse_arguments(arguments);
  // git may add operations; a helper ignores those it does not know.
  if (options.operation != "get" && options.operation != "store" && options.operation != "erase")
    return cli::exit_success;
  helpers::InputLimits limits;
  limits.stop_at_blank_line = true;
  helpers::SecretText input = helpers::read_standard_input(limits);
  GitRequest request = helpers::parse_git_request(std::string_view(input.data(), input.size()));
  if (request.protocol.empty()) return cli::exit_success;
  auto source = open_source(options);
  if (options.operation == "get") return get(*source, request);
  if (options.operation == "store") return store(*source, request);
  return erase(*source, request);
}

}  // namespace

int main(int argc, char **argv) {
  std::vector<std::string> arguments(argv + 1, argv + argc);
  try {
    coffer::harden_process();
    ::umask(077);
    return run(arguments);
  } catch (const cli::UsageError &e) {
    print_message(kProgram, e.what());
    std::fputs(kUsage, stderr);
    return cli::exit_usage;
  } catch (const Error &e) {
    print_message(kProgram, e.what());
    return exit_status_for(e.code());
  } catch (const std::exception &e) {
    print_message(kProgram, e.what());
    return cli::exit_failure;
  }
}
