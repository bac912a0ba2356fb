// Shell completion as a shell runs it: the generated script sourced, the
// words of a command line in COMP_WORDS, `_coffer` called, COMPREPLY read.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "cli_fixture.hpp"

using coffer::test::CliFixture;
using coffer::test::describe;
using coffer::test::quoted;

namespace {

struct CompletionFixture : CliFixture {
  CompletionFixture() {
    write("extra.json", R"({"keys": [{"key": "Custom.DeployToken", "description": "a token"}]})");
    write_env("beta.env", {});
    write("test.json", R"({"coffer": 1, "catalogs": ["extra.json"], "plugin_dirs": [)" +
                           quoted(plugin_dir.string()) + R"(], "providers": {
          "alpha": {"plugin": "env_file", "config": {"path": "secrets.env"}},
          "beta": {"plugin": "env_file", "config": {"path": "beta.env"}}},
        "routes": {"*": "alpha"}})");
    auto script = run({"completion", "bash"});
    BOOST_TEST_REQUIRE(script.status == 0, describe(script));
    write("coffer.bash", script.out);
  }

  // COMPREPLY for a command line whose last word is being completed.
  [[nodiscard]] std::vector<std::string> complete(const std::vector<std::string> &words) const {
    std::vector<std::string> arguments{
        "--norc",
        "--noprofile",
        "-c",
        "source ./coffer.bash && COMP_WORDS=(\"$@\") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) "
        "&& _coffer && printf '%s\\n' \"${COMPREPLY[@]}\"",
        "bash",
        cli};
    arguments.insert(arguments.end(), words.begin(), words.end());
    coffer::test::SpawnOptions spawn = options(arguments);
    auto r = coffer::test::run_process("/bin/bash", spawn);
    BOOST_TEST(r.status == 0, describe(r));
    std::vector<std::string> reply;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) reply.push_back(line);
    return reply;
  }
};

bool has(const std::vector<std::string> &reply, const std::string &word) {
  return std::find(reply.begin(), reply.end(), word) != reply.end();
}

std::string shown(const std::vector<std::string> &reply) {
  std::string text;
  for (const auto &word : reply) text += word + " ";
  return text;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(completion, CompletionFixture)

BOOST_AUTO_TEST_CASE(bash_completes_commands_and_subcommands) {
  auto all = complete({""});
  for (const char *command : {"get", "put", "rm", "migrate", "db", "completion", "man", "help"})
    BOOST_TEST(has(all, command), command << ": " << shown(all));
  BOOST_TEST(!has(all, "__complete"), shown(all));
  BOOST_TEST(complete({"ge"}) == std::vector<std::string>{"get"}, shown(complete({"ge"})));
  auto db = complete({"--policy", "test.json", "db", "re"});
  BOOST_TEST(db == std::vector<std::string>{"rekey"}, shown(db));
}

BOOST_AUTO_TEST_CASE(bash_completes_a_commands_options) {
  auto get = complete({"get", "--"});
  for (const char *option : {"--no-newline", "--version-id", "--json", "--metadata", "--policy"})
    BOOST_TEST(has(get, option), option << ": " << shown(get));
  BOOST_TEST(!has(get, "--from"), shown(get));
  auto metadata = complete({"get", "--me"});
  BOOST_TEST(metadata == std::vector<std::string>{"--metadata"}, shown(metadata));
  auto rekey = complete({"db", "rekey", "--b"});
  BOOST_TEST(rekey == std::vector<std::string>{"--batch-size"}, shown(rekey));
}

BOOST_AUTO_TEST_CASE(bash_completes_catalog_keys_from_the_policys_catalog) {
  // Without a policy file: the built-in catalog.
  auto builtin = complete({"get", "VCS.GithubA"});
  BOOST_TEST(builtin == std::vector<std::string>{"VCS.GithubAdminPAT"}, shown(builtin));
  BOOST_TEST(complete({"get", "Custom."}).empty());
  // With the policy of the line, its catalog files too.
  auto custom = complete({"--policy", "test.json", "rm", "Custom."});
  BOOST_TEST(custom == std::vector<std::string>{"Custom.DeployToken"}, shown(custom));
  auto option = complete({"migrate", "--policy=test.json", "--key", "Custom.D"});
  BOOST_TEST(option == std::vector<std::string>{"Custom.DeployToken"}, shown(option));
  // One key is all get takes.
  BOOST_TEST(complete({"get", "VCS.GithubAdminPAT", "VCS."}).empty());
}

BOOST_AUTO_TEST_CASE(bash_completes_provider_names_from_the_policy) {
  auto from = complete({"--policy", "test.json", "migrate", "--from", ""});
  BOOST_TEST(from == (std::vector<std::string>{"alpha", "beta"}), shown(from));
  // Readline splits "--to=b" into "--to", "=", "b".
  auto to = complete({"--policy", "test.json", "migrate", "--to", "=", "b"});
  BOOST_TEST(to == std::vector<std::string>{"beta"}, shown(to));
  auto list = complete({"list", "--policy", "test.json", "a"});
  BOOST_TEST(list == std::vector<std::string>{"alpha"}, shown(list));
  auto keyname = complete({"--policy", "test.json", "keyname", "--provider", "b"});
  BOOST_TEST(keyname == std::vector<std::string>{"beta"}, shown(keyname));
}

BOOST_AUTO_TEST_CASE(the_hidden_helper_prints_names_one_per_line) {
  auto providers = run({"--policy", "test.json", "__complete", "providers"});
  BOOST_TEST(providers.status == 0, describe(providers));
  BOOST_TEST(providers.out == "alpha\nbeta\n");
  auto categories = run({"--policy", "test.json", "__complete", "categories"});
  BOOST_TEST(categories.out.find("\nCustom\n") != std::string::npos, categories.out);
  auto help = run({"--help"});
  BOOST_TEST(help.out.find("__complete") == std::string::npos, help.out);
}

BOOST_AUTO_TEST_CASE(zsh_completes_when_zsh_is_installed) {
  std::string zsh;
  for (const char *path : {"/usr/bin/zsh", "/bin/zsh"})
    if (std::filesystem::exists(path)) zsh = path;
  if (zsh.empty()) {
    BOOST_TEST_MESSAGE("zsh is not installed: the zsh script is not run");
    return;
  }
  auto script = run({"completion", "zsh"});
  BOOST_TEST_REQUIRE(script.status == 0, describe(script));
  write("_coffer", script.out);
  // The #compdef file ends by calling _coffer on `words`; compadd prints.
  auto r = coffer::test::run_process(
      zsh, options({"-f", "-c",
                    "compadd() { [[ $1 == -a ]] && print -l -- ${(P)2}; }; "
                    "compset() { return 1; }; words=(\"$@\"); CURRENT=${#words}; "
                    "source ./_coffer",
                    "zsh", cli, "--policy", "test.json", "migrate", "--from", ""}));
  BOOST_TEST(r.out == "alpha\nbeta\n", describe(r));
}

BOOST_AUTO_TEST_SUITE_END()
