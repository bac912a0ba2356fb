// docker-credential-coffer: a Docker credential helper that answers from
// the policy's "helpers.docker" entries, through the agent when one
// listens.
//
//   docker-credential-coffer get|store|erase|list|version
//
// The protocol of docker-credential-helpers, as the Docker CLI drives it:
// `get` reads a server URL and prints {"ServerURL", "Username", "Secret"};
// `store` reads that object; `erase` reads a server URL; `list` prints
// {"server": "username", ...}. A failure prints one line on standard
// output and exits with 1; "credentials not found in native keychain" is
// the line that tells docker there is nothing. `store` writes only as
// store_credential allows, `erase` never deletes (docs/credential-helpers.md).
#include <sys/stat.h>
#include <unistd.h>
#include <coffer/plugins.hpp>
#include <coffer/process.hpp>

#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "docker_server.hpp"
#include "helper_credentials.hpp"
#include "helper_io.hpp"
#include "output.hpp"
#include "secret_json.hpp"
#include "secret_source.hpp"
#include "write_all.hpp"

namespace {

using namespace coffer;
namespace json = boost::json;
using coffer::helpers::print_message;

constexpr std::string_view kProgram = "docker-credential-coffer";
constexpr std::string_view kNotFound = "credentials not found in native keychain";
constexpr std::string_view kNoServer = "no credentials server URL";
constexpr std::string_view kNoUsername = "no credentials username";
constexpr std::string_view kUsage =
    "Usage: docker-credential-coffer <store|get|erase|list|version>";

// What docker reads from standard output when the helper fails.
struct Failure {
  std::string message;
};

void write_line(std::string_view text) {
  tools::write_all(STDOUT_FILENO, text, "standard output");
  tools::write_all(STDOUT_FILENO, "\n", "standard output");
}

std::string_view trimmed(std::string_view text) {
  const char *blanks = " \t\r\n";
  auto first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

std::unique_ptr<tools::SecretSource> open_source() {
  tools::SourceRequest request;
  request.store_options.caller = std::string(kProgram);
  return tools::open_secret_source(request);
}

std::string server_from_input() {
  helpers::SecretText input = helpers::read_standard_input({});
  std::string server(trimmed(std::string_view(input.data(), input.size())));
  if (server.empty()) throw Failure{std::string(kNoServer)};
  return server;
}

json::string_view view_of(std::string_view text) {
  return {text.data(), text.size()};
}

void get() {
  std::string server = server_from_input();
  auto source = open_source();
  const std::vector<HelperEntry> entries = source->helpers("docker");
  const HelperEntry *entry = helpers::matching_docker_entry(entries, server);
  if (entry == nullptr) throw Failure{std::string(kNotFound)};
  helpers::Credential credential = helpers::read_credential(*source, *entry);
  if (!credential.ok()) {
    print_message(kProgram, server + ": " + credential.message);
    throw Failure{credential.code == Code::not_found ? std::string(kNotFound) : credential.message};
  }
  tools::SecretArena arena(tools::arena_bytes_for(server.size() + credential.username.size() +
                                                  credential.secret.size()));
  json::object answer(arena.storage());
  answer["ServerURL"] = view_of(server);
  answer["Username"] = view_of(credential.username.reveal());
  answer["Secret"] = view_of(credential.secret.reveal());
  auto text = tools::serialize_secret_json(answer, "\n");
  tools::write_all(STDOUT_FILENO, text.view(), "standard output");
}

std::string_view member(const json::object &object, std::string_view name) {
  const json::value *value = object.if_contains(view_of(name));
  if (value == nullptr || !value->is_string()) return {};
  const json::string &text = value->get_string();
  return {text.data(), text.size()};
}

void store() {
  helpers::SecretText input = helpers::read_standard_input({});
  tools::SecretArena arena(tools::arena_bytes_for(input.size()));
  json::value document;
  if (!tools::parse_secret_json(std::string_view(input.data(), input.size()), arena, document) ||
      !document.is_object())
    throw Failure{
        "expected a JSON object {\"ServerURL\", \"Username\", \"Secret\"} on standard "
        "input (not repeated here: it holds a secret)"};
  const json::object &credentials = document.get_object();
  std::string server(member(credentials, "ServerURL"));
  std::string username(member(credentials, "Username"));
  if (server.empty()) throw Failure{std::string(kNoServer)};
  if (username.empty()) throw Failure{std::string(kNoUsername)};
  Secret secret = Secret::copy_of(member(credentials, "Secret"));
  auto source = open_source();
  const std::vector<HelperEntry> entries = source->helpers("docker");
  const HelperEntry *entry = helpers::matching_docker_entry(entries, server);
  if (entry == nullptr)
    throw Failure{"not stored: the policy has no \"helpers\": {\"docker\": [...]} entry for " +
                  server + " (see docs/credential-helpers.md)"};
  helpers::StoreResult result = helpers::store_credential(*source, *entry, username, secret);
  if (result.outcome == helpers::StoreOutcome::stored)
    print_message(kProgram, server + ": stored the new secret in " + entry->secret_key);
  if (result.outcome == helpers::StoreOutcome::refused)
    throw Failure{server + ": " + result.message};
}

// docker logout: nothing is deleted from the vault; the user is told so.
void erase() {
  std::string server = server_from_input();
  auto source = open_source();
  const std::vector<HelperEntry> entries = source->helpers("docker");
  const HelperEntry *entry = helpers::matching_docker_entry(entries, server);
  if (entry == nullptr) return;
  std::string message = server + ": not erased: coffer keeps " + entry->secret_key +
                        " (a credential helper never deletes from the vault; 'coffer rm " +
                        entry->secret_key + "' does, for every user of it)";
  // `docker logout` drops the helper's answer: the user learns it here.
  print_message(kProgram, message);
  throw Failure{message};
}

void list() {
  auto source = open_source();
  const std::vector<HelperEntry> entries = source->helpers("docker");
  std::size_t bound = 0;
  std::vector<std::pair<const HelperEntry *, Secret>> users;
  for (const auto &entry : entries) {
    Result username = helpers::read_username(*source, entry);
    if (!username.ok()) {
      print_message(kProgram,
                    entry.match + ": skipped: " + entry.username_key + ": " + username.message);
      continue;
    }
    bound += entry.match.size() + username.secret.size();
    users.emplace_back(&entry, std::move(username.secret));
  }
  tools::SecretArena arena(tools::arena_bytes_for(bound));
  json::object answer(arena.storage());
  for (const auto &[entry, username] : users)
    answer[view_of(entry->match)] = view_of(username.reveal());
  auto text = tools::serialize_secret_json(answer, "\n");
  tools::write_all(STDOUT_FILENO, text.view(), "standard output");
}

// The failure's line for docker; nothing more can be done when standard
// output is gone.
void report(std::string_view message) noexcept {
  try {
    write_line(cli::escape_controls(message));
  } catch (...) {
  }
}

int run(const std::vector<std::string> &arguments) {
  if (arguments.size() != 1) throw Failure{std::string(kUsage)};
  const std::string &action = arguments[0];
  if (action == "version" || action == "--version" || action == "-v") {
    write_line(std::string(kProgram) + " (coffer) " + library_version());
    return 0;
  }
  if (action == "--help" || action == "-h") {
    write_line(kUsage);
    return 0;
  }
  if (action == "get")
    get();
  else if (action == "store")
    store();
  else if (action == "erase")
    erase();
  else if (action == "list")
    list();
  else
    throw Failure{"unknown credential action; " + std::string(kUsage)};
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  std::vector<std::string> arguments(argv + 1, argv + argc);
  try {
    coffer::harden_process();
    ::umask(077);
    return run(arguments);
  } catch (const Failure &failure) {
    report(failure.message);
  } catch (const std::exception &e) {
    report(e.what());
  }
  return 1;
}
