// git-credential-coffer driven by the real git: `git credential fill`,
// `approve` and `reject` with credential.helper pointing at the built
// helper, in a HOME and global configuration of the test's own.
#define BOOST_TEST_MODULE git_credential_tests
#include <signal.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fake_agent.hpp"
#include "tools_fixture.hpp"

using coffer::test::contains;
using coffer::test::describe;
using coffer::test::FakeAgent;
using coffer::test::FakeAnswer;
using coffer::test::ProcessResult;
using coffer::test::quoted;
using coffer::test::stored_values;
using coffer::test::ToolsFixture;

namespace {

struct IgnoreSigpipe {
  IgnoreSigpipe() { ::signal(SIGPIPE, SIG_IGN); }
};
BOOST_TEST_GLOBAL_FIXTURE(IgnoreSigpipe);

const std::string kPat = stored_values().at("VCS.GithubAdminPAT");
const std::string kSmtp = stored_values().at("Email.SMTPPassword");
const std::string kUser = "ci-bot";

// A helper after coffer's, as git users chain them: it answers whatever
// coffer left unanswered.
const std::string kNextHelper = "!f() { echo username=next-helper; echo password=next-secret; }; f";

std::string description(const std::string &path) {
  return "protocol=https\nhost=github.com\n" + (path.empty() ? "" : "path=" + path + "\n") + "\n";
}

struct Fixture : ToolsFixture {
  Fixture() {
    std::filesystem::create_directory(directory / "home");
    write("catalog.json",
          R"({"keys": [{"key": "VCS.GithubUser", "description": "the CI user on GitHub"}]})");
    std::map<std::string, std::string> values = stored_values();
    values["VCS.GithubUser"] = kUser;
    write_env("secrets.env", values);
    write_policy(R"([
      {"url": "https://github.com", "username": "org-token", "secret": "Email.SMTPPassword"},
      {"url": "https://github.com/acme", "username_key": "VCS.GithubUser",
       "secret": "VCS.GithubAdminPAT"}])");
    configure_git(built("git-credential-coffer") + " --policy " +
                  (directory / "coffer.json").string());
  }

  void write_policy(const std::string &git_entries,
                    const std::string &routes = R"({"*": "p"})") const {
    write("coffer.json", R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir.string()) +
                             R"(], "catalogs": ["catalog.json"],
      "providers": {"p": {"plugin": "env_file", "config": {"path": "secrets.env", "writable": true}}},
      "routes": )" + routes + R"(, "helpers": {"git": )" +
                             git_entries + "}}");
  }

  // The global configuration: coffer's helper, then kNextHelper.
  void configure_git(const std::string &coffer_helper, bool use_http_path = true) const {
    write("gitconfig", "[credential]\n\thelper = " + quoted(coffer_helper) +
                           "\n\thelper = " + quoted(kNextHelper) +
                           "\n\tuseHttpPath = " + (use_http_path ? "true" : "false") + "\n");
  }

  ProcessResult git(const std::vector<std::string> &arguments, const std::string &input,
                    std::map<std::string, std::optional<std::string>> environment = {}) const {
    environment["HOME"] = (directory / "home").string();
    environment["GIT_CONFIG_GLOBAL"] = (directory / "gitconfig").string();
    environment["GIT_CONFIG_NOSYSTEM"] = "1";
    environment["GIT_TERMINAL_PROMPT"] = "0";
    environment["GIT_ASKPASS"] = std::nullopt;
    environment["SSH_ASKPASS"] = std::nullopt;
    return run_program("/usr/bin/git", arguments, input, std::move(environment));
  }

  [[nodiscard]] std::string env_file() const {
    std::ifstream in(directory / "secrets.env", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

boost::test_tools::assertion_result git_available(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result result(std::filesystem::exists("/usr/bin/git"));
  result.message() << "skipped: no /usr/bin/git";
  return result;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(fill, Fixture, *boost::unit_test::precondition(git_available))

BOOST_AUTO_TEST_CASE(git_gets_the_mapped_user_and_password) {
  auto r = git({"credential", "fill"}, description("acme/repo.git"));
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.out, "username=" + kUser + "\npassword=" + kPat + "\n"), r.out);
  BOOST_TEST(r.err == "");
}

BOOST_AUTO_TEST_CASE(the_longest_matching_url_wins) {
  auto other = git({"credential", "fill"}, description("other-org/repo.git"));
  BOOST_TEST(other.status == 0, describe(other));
  BOOST_TEST(contains(other.out, "username=org-token\npassword=" + kSmtp + "\n"), other.out);
}

// Without credential.useHttpPath git sends no path: the host-wide entry
// answers, never the organisation's.
BOOST_AUTO_TEST_CASE(without_use_http_path_only_host_entries_match) {
  configure_git(
      built("git-credential-coffer") + " --policy " + (directory / "coffer.json").string(), false);
  auto r = git({"credential", "fill"}, description("acme/repo.git"));
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.out, "password=" + kSmtp + "\n"), r.out);
}

BOOST_AUTO_TEST_CASE(an_unknown_host_is_left_to_the_next_helper) {
  auto r = git({"credential", "fill"}, "protocol=https\nhost=gitlab.example\n\n");
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.out, "username=next-helper\npassword=next-secret\n"), r.out);
  BOOST_TEST(r.err == "");
}

// A user name in the URL that is not the mapped one: that account's
// password is not coffer's to give.
BOOST_AUTO_TEST_CASE(another_user_is_left_to_the_next_helper) {
  auto other = git({"credential", "fill"},
                   "protocol=https\nhost=github.com\npath=acme/repo.git\nusername=alice\n\n");
  BOOST_TEST(other.status == 0, describe(other));
  BOOST_TEST(contains(other.out, "password=next-secret"), other.out);
  BOOST_TEST(!contains(other.out, kPat), other.out);
  auto same =
      git({"credential", "fill"},
          "protocol=https\nhost=github.com\npath=acme/repo.git\nusername=" + kUser + "\n\n");
  BOOST_TEST(contains(same.out, "password=" + kPat + "\n"), same.out);
}

BOOST_AUTO_TEST_CASE(a_denied_key_is_reported_and_never_printed) {
  write_policy(
      R"([{"url": "https://github.com/acme", "username": "u", "secret": "VCS.GithubAdminPAT"}])",
      R"({"VCS": {"providers": "p", "deny": ["VCS.GithubAdminPAT"]}, "*": "p"})");
  auto r = git({"credential", "fill"}, description("acme/repo.git"));
  BOOST_TEST(contains(r.err,
                      "git-credential-coffer: https://github.com/acme/repo.git: "
                      "VCS.GithubAdminPAT: "),
             r.err);
  BOOST_TEST(contains(r.out, "password=next-secret"), r.out);
  BOOST_TEST(!contains(r.out + r.err, kPat));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(approve_and_reject, Fixture,
                         *boost::unit_test::precondition(git_available))

// The user typed a new token after the stored one failed; git approves it
// once it worked: it replaces the mapped key's value.
BOOST_AUTO_TEST_CASE(approve_stores_a_new_password_of_the_mapped_user) {
  auto r = git({"credential", "approve"},
               "protocol=https\nhost=github.com\npath=acme/repo.git\n"
               "username=" +
                   kUser + "\npassword=ghp-Rotated-Value-99\n\n");
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.err, "stored the new password in VCS.GithubAdminPAT"), r.err);
  auto fill = git({"credential", "fill"}, description("acme/repo.git"));
  BOOST_TEST(contains(fill.out, "password=ghp-Rotated-Value-99\n"), fill.out);
}

// git approves every credential that worked, ours included: nothing is
// written when the value is the same.
BOOST_AUTO_TEST_CASE(approve_of_the_same_password_writes_nothing) {
  std::string before = env_file();
  auto when = std::filesystem::last_write_time(directory / "secrets.env");
  auto r = git({"credential", "approve"},
               "protocol=https\nhost=github.com\npath=acme/repo.git\n"
               "username=" +
                   kUser + "\npassword=" + kPat + "\n\n");
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.err == "");
  BOOST_TEST(env_file() == before);
  BOOST_TEST((std::filesystem::last_write_time(directory / "secrets.env") == when));
}

BOOST_AUTO_TEST_CASE(approve_of_another_account_writes_nothing) {
  std::string before = env_file();
  auto r = git({"credential", "approve"},
               "protocol=https\nhost=github.com\npath=acme/repo.git\n"
               "username=alice\npassword=alice-personal-token\n\n");
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.err, "not stored: the user name is not the one the policy maps"), r.err);
  BOOST_TEST(!contains(r.err, "alice-personal-token"), r.err);
  BOOST_TEST(env_file() == before);
}

// A failed authentication must not wipe a credential others use.
BOOST_AUTO_TEST_CASE(reject_deletes_nothing_and_names_the_stale_key) {
  std::string before = env_file();
  auto r = git({"credential", "reject"},
               "protocol=https\nhost=github.com\npath=acme/repo.git\n"
               "username=" +
                   kUser + "\npassword=" + kPat + "\n\n");
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.err,
                      "the server refused the password in VCS.GithubAdminPAT; coffer keeps "
                      "it"),
             r.err);
  BOOST_TEST(!contains(r.err, kPat), r.err);
  BOOST_TEST(env_file() == before);
  auto fill = git({"credential", "fill"}, description("acme/repo.git"));
  BOOST_TEST(contains(fill.out, "password=" + kPat + "\n"), fill.out);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(through_the_agent, Fixture, *boost::unit_test::precondition(git_available))

namespace {

// An agent that maps github.com/acme to VCS.GithubAdminPAT, serving
// values of its own.
FakeAnswer agent_answer(const std::string &target) {
  if (target == "/v1.0-coffer/helpers/git")
    return {200, R"([{"match": "https://github.com/acme", "username": "agent-user",
                     "username_key": "", "secret_key": "VCS.GithubAdminPAT"}])"};
  if (target == "/v1.0/secrets/coffer/VCS.GithubAdminPAT")
    return coffer::test::value_answer("VCS.GithubAdminPAT", "agent-pat-Value-Delta");
  return {204, ""};
}

}  // namespace

BOOST_AUTO_TEST_CASE(fill_reads_through_the_agent) {
  FakeAgent agent(directory / "agent.sock", agent_answer);
  configure_git(built("git-credential-coffer"));
  std::filesystem::remove(directory / "coffer.json");
  auto r = git({"credential", "fill"}, description("acme/repo.git"),
               {{"COFFER_AGENT_SOCKET", (directory / "agent.sock").string()}});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.out, "username=agent-user\npassword=agent-pat-Value-Delta\n"), r.out);
}

// The agent only reads: a new password is not stored, and git's user is
// told where it would go.
BOOST_AUTO_TEST_CASE(approve_through_the_agent_stores_nothing) {
  FakeAgent agent(directory / "agent.sock", agent_answer);
  configure_git(built("git-credential-coffer"));
  std::string before = env_file();
  auto r = git({"credential", "approve"},
               "protocol=https\nhost=github.com\npath=acme/repo.git\nusername=agent-user\n"
               "password=typed-New-Token-42\n\n",
               {{"COFFER_AGENT_SOCKET", (directory / "agent.sock").string()}});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.err, "not stored: the values come from the agent at "), r.err);
  BOOST_TEST(contains(r.err, "'coffer put VCS.GithubAdminPAT'"), r.err);
  BOOST_TEST(!contains(r.err, "typed-New-Token-42"), r.err);
  BOOST_TEST(env_file() == before);
  for (const auto &target : agent.targets())
    BOOST_TEST(!contains(target, "typed-New-Token"), target);
}

// The real agent over the fixture's policy: its helpers endpoint and its
// values, the user name read from a key.
BOOST_AUTO_TEST_CASE(fill_and_approve_through_coffer_serve) {
  coffer::test::RealAgent agent(cli, directory, directory / "coffer.json", directory / "a.sock");
  configure_git(built("git-credential-coffer"));
  std::map<std::string, std::optional<std::string>> environment{
      {"COFFER_AGENT_SOCKET", (directory / "a.sock").string()}};
  auto fill = git({"credential", "fill"}, description("acme/repo.git"), environment);
  BOOST_TEST(fill.status == 0, describe(fill) + agent.log());
  BOOST_TEST(contains(fill.out, "username=" + kUser + "\npassword=" + kPat + "\n"), fill.out);
  std::string before = env_file();
  auto approve = git({"credential", "approve"},
                     "protocol=https\nhost=github.com\npath=acme/repo.git\nusername=" + kUser +
                         "\npassword=typed-New-Token-43\n\n",
                     environment);
  BOOST_TEST(contains(approve.err, "not stored: the values come from the agent at "), approve.err);
  BOOST_TEST(env_file() == before);
}

BOOST_AUTO_TEST_SUITE_END()
