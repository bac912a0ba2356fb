// `coffer run` as its users drive it: values reach the command's
// environment and never a command line, nothing starts unless every key
// resolves (with the CLI's exit statuses), mapping files are checked line
// by line, and the agent is used, or not, as docs/credential-helpers.md
// says ("Agent or policy").
#define BOOST_TEST_MODULE run_tests
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <filesystem>
#include <sstream>

#include "fake_agent.hpp"
#include "other_owner.hpp"
#include "tools_fixture.hpp"

using coffer::test::can_replace_run_coffer;
using coffer::test::ChildProcess;
using coffer::test::contains;
using coffer::test::describe;
using coffer::test::error_answer;
using coffer::test::FakeAgent;
using coffer::test::ProcessResult;
using coffer::test::quoted;
using coffer::test::serving;
using coffer::test::stored_values;
using coffer::test::ToolsFixture;

namespace {

struct IgnoreSigpipe {
  IgnoreSigpipe() { ::signal(SIGPIPE, SIG_IGN); }
};
BOOST_TEST_GLOBAL_FIXTURE(IgnoreSigpipe);

const std::string kPat = stored_values().at("VCS.GithubAdminPAT");
const std::string kSmtp = stored_values().at("Email.SMTPPassword");

// Values the fake agent serves: different from the env file's, so that a
// test sees which source answered.
const std::map<std::string, std::string> kAgentValues = {
    {"VCS.GithubAdminPAT", "agent-pat-Value-Delta-0c1e"},
    {"Email.SMTPPassword", "agent-smtp-Value-Echo-77a4"},
};

struct Fixture : ToolsFixture {
  ProcessResult coffer(const std::vector<std::string> &arguments,
                       std::map<std::string, std::optional<std::string>> environment = {}) const {
    return run_program(cli, arguments, {}, std::move(environment));
  }
  ProcessResult coffer_policy(std::vector<std::string> arguments) const {
    arguments.insert(arguments.begin(), {"--policy", "coffer.json"});
    return coffer(arguments);
  }
  [[nodiscard]] bool exists(const std::string &file) const {
    return std::filesystem::exists(directory / file);
  }
};

// Prints $GH and $MAIL separated by '|'.
const std::vector<std::string> kPrintBoth{"--", "sh", "-c", R"(printf '%s|%s' "$GH" "$MAIL")"};

std::vector<std::string> both(std::vector<std::string> before = {}) {
  before.insert(before.end(),
                {"run", "--env", "GH=VCS.GithubAdminPAT", "--env", "MAIL=Email.SMTPPassword"});
  before.insert(before.end(), kPrintBoth.begin(), kPrintBoth.end());
  return before;
}

void leave_dead_socket(const std::filesystem::path &path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0);
  ::close(fd);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(values, Fixture)

BOOST_AUTO_TEST_CASE(values_reach_the_commands_environment) {
  auto r = coffer_policy(both());
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == kPat + "|" + kSmtp);
  BOOST_TEST(r.err == "");
}

// The command replaces coffer (same pid): no process stays behind holding
// the values, and the values are in the command's environment, never in an
// argument vector.
BOOST_AUTO_TEST_CASE(values_are_in_the_environment_never_on_a_command_line) {
  auto spawn =
      options({"--policy", "coffer.json", "run", "--env", "GH=VCS.GithubAdminPAT", "--", "sh", "-c",
               "echo $$; cat /proc/$$/cmdline; echo; echo ---; cat /proc/$$/environ"});
  spawn.environment["COFFER_AGENT_SOCKET"] = std::nullopt;
  ChildProcess child(cli, spawn);
  pid_t pid = child.pid();
  ProcessResult r = child.finish();
  BOOST_TEST_REQUIRE(r.status == 0, describe(r));
  std::istringstream lines(r.out);
  std::string first;
  std::getline(lines, first);
  BOOST_TEST(first == std::to_string(pid));
  // The script itself holds "echo ---": the line the echo prints is the separator.
  auto separator = r.out.find("\n---\n");
  BOOST_TEST_REQUIRE(separator != std::string::npos);
  std::string cmdline = r.out.substr(0, separator);
  std::string environ = r.out.substr(separator);
  BOOST_TEST(!contains(cmdline, kPat), cmdline);
  BOOST_TEST(contains(cmdline, std::string("sh\0-c\0", 6)), cmdline);
  BOOST_TEST(contains(environ, std::string("GH=") + kPat + std::string(1, '\0')));
}

BOOST_AUTO_TEST_CASE(the_status_is_the_commands) {
  auto r = coffer_policy({"run", "--env", "GH=VCS.GithubAdminPAT", "--", "sh", "-c", "exit 7"});
  BOOST_TEST(r.status == 7, describe(r));
}

BOOST_AUTO_TEST_CASE(a_variable_already_set_is_replaced) {
  auto r = coffer({"--policy", "coffer.json", "run", "--env", "GH=VCS.GithubAdminPAT", "--", "sh",
                   "-c", R"(env | grep -c '^GH='; printf '%s' "$GH")"},
                  {{"GH", "inherited"}});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == "1\n" + kPat);
}

BOOST_AUTO_TEST_CASE(options_after_the_command_are_the_commands) {
  auto r = coffer_policy({"run", "--env", "GH=VCS.GithubAdminPAT", "sh", "-c",
                          R"(printf '%s ' "$@")", "x", "--policy", "other.json", "-q", "--env"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == "--policy other.json -q --env ");
}

BOOST_AUTO_TEST_CASE(the_command_runs_without_core_dumps) {
  auto r = coffer_policy(
      {"run", "--env", "GH=VCS.GithubAdminPAT", "--", "sh", "-c", "ulimit -S -c; ulimit -H -c"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == "0\n0\n");
}

BOOST_AUTO_TEST_CASE(a_command_that_cannot_run_is_126_or_127) {
  auto missing = coffer_policy({"run", "--env", "GH=VCS.GithubAdminPAT", "no-such-program-x"});
  BOOST_TEST(missing.status == 127, describe(missing));
  BOOST_TEST(contains(missing.err, "cannot run 'no-such-program-x'"), missing.err);
  write("script.sh", "#!/bin/sh\necho hi\n");
  ::chmod((directory / "script.sh").c_str(), 0600);
  auto denied = coffer_policy({"run", "--env", "GH=VCS.GithubAdminPAT", "./script.sh"});
  BOOST_TEST(denied.status == 126, describe(denied));
  BOOST_TEST(!contains(missing.err + denied.err, kPat));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(failures_before_the_command, Fixture)

BOOST_AUTO_TEST_CASE(a_missing_key_is_3_and_the_command_never_starts) {
  auto r = coffer_policy({"run", "--env", "GH=VCS.GithubAdminPAT", "--env",
                          "CDN=Marketplace.ImportCDNPassword", "--", "sh", "-c", "touch started"});
  BOOST_TEST(r.status == 3, describe(r));
  BOOST_TEST(!exists("started"));
  BOOST_TEST(contains(r.err, "CDN (--env): no provider has Marketplace.ImportCDNPassword"), r.err);
  BOOST_TEST(contains(r.err, "the command was not started"), r.err);
  BOOST_TEST(!contains(r.out + r.err, kPat));
}

BOOST_AUTO_TEST_CASE(a_denied_key_is_4) {
  write("coffer.json",
        env_policy("secrets.env",
                   R"({"VCS": {"providers": "p", "deny": ["VCS.GithubAdminPAT"]}, "*": "p"})"));
  auto r =
      coffer_policy({"run", "--env", "GH=VCS.GithubAdminPAT", "--", "sh", "-c", "touch started"});
  BOOST_TEST(r.status == 4, describe(r));
  BOOST_TEST(!exists("started"));
}

BOOST_AUTO_TEST_CASE(an_unknown_key_is_2) {
  auto r =
      coffer_policy({"run", "--env", "GH=VCS.GithubAdminPA", "--", "sh", "-c", "touch started"});
  BOOST_TEST(r.status == 2, describe(r));
  BOOST_TEST(contains(r.err, "did you mean 'VCS.GithubAdminPAT'"), r.err);
  BOOST_TEST(!exists("started"));
}

BOOST_AUTO_TEST_CASE(an_unavailable_key_is_5) {
  const char *memory = std::getenv("COFFER_TEST_MEMORY_PLUGIN_DIR");
  BOOST_TEST_REQUIRE((memory != nullptr && *memory != '\0'),
                     "the core's memory test plugin is needed to produce unavailable");
  write("memory.json", R"({"coffer": 1, "plugin_dirs": [)" + quoted(memory) + R"(],
    "providers": {"m": {"plugin": "memory", "config": {"fail": {
      "VCS.GithubAdminPAT": "unavailable"}}}},
    "routes": {"*": "m"}})");
  auto r = coffer({"--policy", "memory.json", "run", "--env", "GH=VCS.GithubAdminPAT", "--", "sh",
                   "-c", "touch started"});
  BOOST_TEST(r.status == 5, describe(r));
  BOOST_TEST(!exists("started"));
}

// Every failure is reported; the first decides the status.
BOOST_AUTO_TEST_CASE(every_failure_is_reported_and_the_first_decides) {
  write("coffer.json",
        env_policy("secrets.env",
                   R"({"VCS": {"providers": "p", "deny": ["VCS.GithubAdminPAT"]}, "*": "p"})"));
  auto r = coffer_policy({"run", "--env", "CDN=Marketplace.ImportCDNPassword", "--env",
                          "GH=VCS.GithubAdminPAT", "--", "true"});
  BOOST_TEST(r.status == 3, describe(r));
  BOOST_TEST(contains(r.err, "CDN (--env)"), r.err);
  BOOST_TEST(contains(r.err, "GH (--env)"), r.err);
}

BOOST_AUTO_TEST_CASE(a_run_without_mappings_is_a_usage_error) {
  auto r = coffer_policy({"run", "--", "sh", "-c", "touch started"});
  BOOST_TEST(r.status == 2, describe(r));
  BOOST_TEST(contains(r.err, "'run' needs --env NAME=KEY or --env-file MAP"), r.err);
  BOOST_TEST(!exists("started"));
  BOOST_TEST(coffer_policy({"run", "--env", "GH=VCS.GithubAdminPAT"}).status == 2);
}

BOOST_AUTO_TEST_CASE(a_bad_env_option_is_a_usage_error_that_repeats_no_value) {
  auto name = coffer_policy({"run", "--env", "1GH=VCS.GithubAdminPAT", "--", "touch", "started"});
  BOOST_TEST(name.status == 2, describe(name));
  BOOST_TEST(contains(name.err, "--env: the name before '=' is not an environment variable name"),
             name.err);
  BOOST_TEST(contains(name.err, "usage: coffer [OPTIONS] run"), name.err);
  auto dash = coffer_policy({"run", "--env", "MY-VAR=VCS.GithubAdminPAT", "--", "true"});
  BOOST_TEST(dash.status == 2, describe(dash));
  auto value = coffer_policy({"run", "--env", "GH=hunter2-typed-by-mistake", "--", "true"});
  BOOST_TEST(value.status == 2, describe(value));
  BOOST_TEST(contains(value.err, "GH: what follows '=' must be a key name"), value.err);
  BOOST_TEST(!contains(value.err, "hunter2"), value.err);
  auto bare = coffer_policy({"run", "--env", "hunter2-typed-by-mistake", "--", "true"});
  BOOST_TEST(bare.status == 2, describe(bare));
  BOOST_TEST(!contains(bare.err, "hunter2"), bare.err);
  BOOST_TEST(!exists("started"));
}

BOOST_AUTO_TEST_CASE(a_name_mapped_twice_is_refused) {
  auto r = coffer_policy(
      {"run", "--env", "GH=VCS.GithubAdminPAT", "--env", "GH=Email.SMTPPassword", "--", "true"});
  BOOST_TEST(r.status == 2, describe(r));
  BOOST_TEST(contains(r.err, "--env: GH is mapped twice (first at --env)"), r.err);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(env_files, Fixture)

BOOST_AUTO_TEST_CASE(a_map_file_with_comments_and_blanks) {
  write("app.map",
        "# values for the app\n\n  GH = VCS.GithubAdminPAT  \r\n\t# indented "
        "comment\nMAIL=Email.SMTPPassword\n");
  std::vector<std::string> arguments{"run", "--env-file", "app.map"};
  arguments.insert(arguments.end(), kPrintBoth.begin(), kPrintBoth.end());
  auto r = coffer_policy(arguments);
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == kPat + "|" + kSmtp);
}

BOOST_AUTO_TEST_CASE(errors_name_the_file_and_line_and_repeat_no_value) {
  struct Case {
    std::string text;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"GH=VCS.GithubAdminPAT\n\nhunter2-pasted-value\n",
       "app.map:3: expected NAME=KEY (the text is not repeated here in case it is a value)"},
      {"# c\n9GH=VCS.GithubAdminPAT\n",
       "app.map:2: the name before '=' is not an environment variable name"},
      {"GH=hunter2-pasted-value\n", "app.map:1: GH: what follows '=' must be a key name"},
      {"=VCS.GithubAdminPAT\n", "app.map:1: the name before '=' is empty"},
      {"export GH=VCS.GithubAdminPAT\n",
       "app.map:1: the name before '=' is not an environment variable name"},
      {"GH=VCS.GithubAdminPAT\nMAIL=Email.SMTPPassword\nGH=Email.SMTPPassword\n",
       "app.map:3: GH is mapped twice (first at app.map:1)"},
  };
  for (const auto &c : cases) {
    write("app.map", c.text);
    auto r = coffer_policy({"run", "--env-file", "app.map", "--", "touch", "started"});
    BOOST_TEST(r.status == 2, describe(r));
    BOOST_TEST(contains(r.err, c.expected), r.err);
    BOOST_TEST(!contains(r.err, "hunter2"), r.err);
    BOOST_TEST(!exists("started"));
  }
}

BOOST_AUTO_TEST_CASE(a_name_in_a_file_and_an_option_is_refused_naming_both) {
  write("app.map", "# c\nGH=VCS.GithubAdminPAT\n");
  auto r = coffer_policy(
      {"run", "--env-file", "app.map", "--env", "GH=Email.SMTPPassword", "--", "true"});
  BOOST_TEST(r.status == 2, describe(r));
  BOOST_TEST(contains(r.err, "--env: GH is mapped twice (first at app.map:2)"), r.err);
}

BOOST_AUTO_TEST_CASE(a_missing_map_file_is_2) {
  auto r = coffer_policy({"run", "--env-file", "none.map", "--", "true"});
  BOOST_TEST(r.status == 2, describe(r));
  BOOST_TEST(contains(r.err, "--env-file none.map: no such file"), r.err);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(through_the_agent, Fixture)

BOOST_AUTO_TEST_CASE(values_come_from_the_agent_named_by_coffer_agent_socket) {
  std::filesystem::remove(directory / "coffer.json");
  FakeAgent agent(directory / "agent.sock", serving(kAgentValues));
  auto r = coffer(both(), {{"COFFER_AGENT_SOCKET", (directory / "agent.sock").string()}});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out ==
             kAgentValues.at("VCS.GithubAdminPAT") + "|" + kAgentValues.at("Email.SMTPPassword"));
  BOOST_TEST(agent.targets().size() == 2u);
  BOOST_TEST(agent.connections() == 1u);
}

BOOST_AUTO_TEST_CASE(the_agents_refusals_have_the_cli_statuses) {
  struct Case {
    coffer::test::FakeAnswer answer;
    int status;
  };
  std::vector<Case> cases = {
      {error_answer(403, "ERR_PERMISSION_DENIED", "uid 0 may not read VCS.GithubAdminPAT"), 4},
      {{204, ""}, 3},
      {error_answer(500, "ERR_SECRET_GET",
                    "failed getting secret with key VCS.GithubAdminPAT from secret store coffer: "
                    "not_found: no provider has VCS.GithubAdminPAT"),
       3},
      {error_answer(500, "ERR_SECRET_GET", "provider 'kv' unavailable"), 5},
      {error_answer(400, "ERR_SECRET_GET", "no catalog has the key"), 2},
  };
  for (const auto &c : cases) {
    std::filesystem::remove(directory / "agent.sock");
    FakeAgent agent(directory / "agent.sock", [&](const std::string &) { return c.answer; });
    auto r = coffer({"run", "--env", "GH=VCS.GithubAdminPAT", "--", "touch", "started"},
                    {{"COFFER_AGENT_SOCKET", (directory / "agent.sock").string()}});
    BOOST_TEST(r.status == c.status, describe(r));
    BOOST_TEST(!exists("started"));
    BOOST_TEST(contains(r.err, "the agent at "), r.err);
  }
}

// The user named an agent: when it is not there the tool says so instead
// of reading the policy behind its back.
BOOST_AUTO_TEST_CASE(no_agent_at_coffer_agent_socket_is_5_without_falling_back) {
  auto r = coffer({"run", "--env", "GH=VCS.GithubAdminPAT", "--", "touch", "started"},
                  {{"COFFER_AGENT_SOCKET", (directory / "none.sock").string()}});
  BOOST_TEST(r.status == 5, describe(r));
  BOOST_TEST(contains(r.err, "no agent listens at "), r.err);
  BOOST_TEST(contains(r.err, "(COFFER_AGENT_SOCKET)"), r.err);
  BOOST_TEST(!exists("started"));
}

BOOST_AUTO_TEST_CASE(policy_on_the_command_line_skips_the_agent) {
  FakeAgent agent(directory / "agent.sock", serving(kAgentValues));
  auto r = coffer(both({"--policy", "coffer.json"}),
                  {{"COFFER_AGENT_SOCKET", (directory / "agent.sock").string()}});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == kPat + "|" + kSmtp);
  BOOST_TEST(agent.connections() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// The default socket, /run/coffer/coffer.sock, replaced for the program by
// a directory of the test's in a private mount namespace.
BOOST_FIXTURE_TEST_SUITE(the_default_agent_socket, Fixture,
                         *boost::unit_test::precondition(can_replace_run_coffer))

BOOST_AUTO_TEST_CASE(an_agent_listening_there_is_used) {
  std::filesystem::create_directory(directory / "run");
  FakeAgent agent(directory / "run" / "coffer.sock", serving(kAgentValues));
  auto r = run_with_run_coffer(directory / "run", cli, both());
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out ==
             kAgentValues.at("VCS.GithubAdminPAT") + "|" + kAgentValues.at("Email.SMTPPassword"));
}

BOOST_AUTO_TEST_CASE(a_socket_nothing_listens_on_falls_back_to_the_policy) {
  std::filesystem::create_directory(directory / "run");
  leave_dead_socket(directory / "run" / "coffer.sock");
  auto r = run_with_run_coffer(directory / "run", cli, both());
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == kPat + "|" + kSmtp);
}

BOOST_AUTO_TEST_CASE(the_agents_refusal_is_final) {
  std::filesystem::create_directory(directory / "run");
  FakeAgent agent(directory / "run" / "coffer.sock", [](const std::string &) {
    return error_answer(403, "ERR_PERMISSION_DENIED", "uid 0 may not read VCS.GithubAdminPAT");
  });
  auto r = run_with_run_coffer(directory / "run", cli,
                               {"run", "--env", "GH=VCS.GithubAdminPAT", "--", "touch", "started"});
  BOOST_TEST(r.status == 4, describe(r));
  BOOST_TEST(contains(r.err, "uid 0 may not read VCS.GithubAdminPAT"), r.err);
  BOOST_TEST(!exists("started"));
}

BOOST_AUTO_TEST_CASE(coffer_policy_skips_the_default_agent) {
  std::filesystem::create_directory(directory / "run");
  FakeAgent agent(directory / "run" / "coffer.sock", serving(kAgentValues));
  auto r = run_with_run_coffer(directory / "run", cli, both(), {},
                               {{"COFFER_POLICY", (directory / "coffer.json").string()}});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == kPat + "|" + kSmtp);
  BOOST_TEST(agent.connections() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// The real agent, `coffer serve`, over the same policy.
BOOST_FIXTURE_TEST_SUITE(through_the_real_agent, Fixture)

BOOST_AUTO_TEST_CASE(values_come_from_coffer_serve) {
  coffer::test::RealAgent agent(cli, directory, directory / "coffer.json", directory / "a.sock");
  std::filesystem::create_directory(directory / "elsewhere");
  auto spawn_in = [&](const std::vector<std::string> &arguments) {
    auto spawn = options(arguments);
    spawn.directory = (directory / "elsewhere").string();  // no ./coffer.json there
    spawn.environment["COFFER_AGENT_SOCKET"] = (directory / "a.sock").string();
    return coffer::test::run_process(cli, spawn);
  };
  auto r = spawn_in(both());
  BOOST_TEST(r.status == 0, describe(r) + agent.log());
  BOOST_TEST(r.out == kPat + "|" + kSmtp);
  auto missing =
      spawn_in({"run", "--env", "CDN=Marketplace.ImportCDNPassword", "--", "touch", "started"});
  BOOST_TEST(missing.status == 3, describe(missing));
  BOOST_TEST(contains(missing.err, "CDN (--env): "), missing.err);
  auto unknown = spawn_in({"run", "--env", "X=VCS.NoSuchKey", "--", "touch", "started"});
  BOOST_TEST(unknown.status == 2, describe(unknown));
  BOOST_TEST(!exists("elsewhere/started"));
}

BOOST_AUTO_TEST_CASE(a_route_deny_through_coffer_serve_is_4) {
  write("coffer.json",
        env_policy("secrets.env",
                   R"({"VCS": {"providers": "p", "deny": ["VCS.GithubAdminPAT"]}, "*": "p"})"));
  coffer::test::RealAgent agent(cli, directory, directory / "coffer.json", directory / "a.sock");
  auto r = coffer({"run", "--env", "GH=VCS.GithubAdminPAT", "--", "touch", "started"},
                  {{"COFFER_AGENT_SOCKET", (directory / "a.sock").string()}});
  BOOST_TEST(r.status == 4, describe(r));
  BOOST_TEST(!exists("started"));
}

// Another user reaches the socket through its group; the policy's "clients"
// decide what that user's processes read.
BOOST_AUTO_TEST_CASE(another_user_gets_what_its_client_allows,
                     *boost::unit_test::precondition(coffer::test::running_as_root)) {
  ::chmod(directory.c_str(), 0711);
  std::string policy = env_policy();
  policy.pop_back();
  write("coffer.json",
        policy + R"(, "clients": {"tools": {"uids": [65534], "allow": ["VCS.*"]}}})");
  coffer::test::RealAgent agent(cli, directory, directory / "coffer.json", directory / "a.sock",
                                {"--socket-group", "65534"});
  auto as_nobody = [&](const std::string &mapping) {
    return run_program("/usr/bin/setpriv",
                       {"--reuid=65534", "--regid=65534", "--clear-groups", cli, "run", "--env",
                        mapping, "--", "sh", "-c", R"(printf '%s' "$V")"},
                       {}, {{"COFFER_AGENT_SOCKET", (directory / "a.sock").string()}});
  };
  auto allowed = as_nobody("V=VCS.GithubAdminPAT");
  BOOST_TEST(allowed.status == 0, describe(allowed) + agent.log());
  BOOST_TEST(allowed.out == kPat);
  auto refused = as_nobody("V=Email.SMTPPassword");
  BOOST_TEST(refused.status == 4, describe(refused));
  BOOST_TEST(!contains(refused.out + refused.err, kSmtp));
}

BOOST_AUTO_TEST_SUITE_END()
