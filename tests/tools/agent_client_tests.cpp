// The tools' client of the agent: what its answers mean, when an agent
// counts as there, keep-alive, reconnection and deadlines; against a fake
// agent on a Unix socket.
#define BOOST_TEST_MODULE agent_client_tests
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "agent_answer.hpp"
#include "agent_client.hpp"
#include "fake_agent.hpp"
#include "other_owner.hpp"
#include "temp_directory.hpp"

namespace coffer {
// Codes print by name in failed assertions.
inline std::ostream &boost_test_print_type(std::ostream &out, Code code) {
  return out << to_string(code);
}
}  // namespace coffer

using coffer::Code;
using coffer::test::error_answer;
using coffer::test::FakeAgent;
using coffer::test::FakeAnswer;
using coffer::test::serving;
using coffer::test::value_answer;
using coffer::tools::AgentClient;
using coffer::tools::AgentClientOptions;
using coffer::tools::code_of_refusal;
using coffer::tools::helpers_of_answer;
using coffer::tools::secret_of_answer;

namespace {

struct IgnoreSigpipe {
  IgnoreSigpipe() { ::signal(SIGPIPE, SIG_IGN); }
};
BOOST_TEST_GLOBAL_FIXTURE(IgnoreSigpipe);

coffer::Result answer(unsigned status, const std::string &body, const std::string &key) {
  return secret_of_answer(status, std::span<const char>(body.data(), body.size()), key);
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

// A socket file with nothing accepting on it: bound, then the socket closed.
void leave_dead_socket(const std::filesystem::path &path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0);
  ::close(fd);
}

AgentClientOptions quick() {
  AgentClientOptions options;
  options.timeout = std::chrono::milliseconds(300);
  return options;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(answers)

BOOST_AUTO_TEST_CASE(a_value_comes_out_of_the_dapr_shape) {
  auto r = answer(200, R"({"VCS.GithubAdminPAT": "ghp-1\"2\\3\n\u00e9"})", "VCS.GithubAdminPAT");
  BOOST_TEST(r.ok(), r.message);
  BOOST_TEST(r.secret.reveal() == "ghp-1\"2\\3\n\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(an_answer_without_the_key_is_data_error_and_not_quoted) {
  auto r = answer(200, R"({"Email.SMTPPassword": "smtp-Value-Bravo"})", "VCS.GithubAdminPAT");
  BOOST_TEST(r.code == Code::data_error);
  BOOST_TEST(contains(r.message, "VCS.GithubAdminPAT"), r.message);
  BOOST_TEST(!contains(r.message, "smtp-Value-Bravo"), r.message);
  BOOST_TEST(answer(200, "not json smtp-Value-Bravo", "A.B").code == Code::data_error);
  BOOST_TEST(answer(200, R"({"A.B": 5})", "A.B").code == Code::data_error);
  BOOST_TEST(answer(200, R"(["A.B"])", "A.B").code == Code::data_error);
  BOOST_TEST(!contains(answer(200, "not json smtp-Value-Bravo", "A.B").message, "smtp"));
}

BOOST_AUTO_TEST_CASE(refusals_keep_the_agents_message_and_map_to_codes) {
  auto denied = answer(
      403, R"({"errorCode": "ERR_PERMISSION_DENIED", "message": "uid 65534 may not read A.B"})",
      "A.B");
  BOOST_TEST(denied.code == Code::denied);
  BOOST_TEST(contains(denied.message, "uid 65534 may not read A.B"), denied.message);
  BOOST_TEST(contains(denied.message, "HTTP 403"), denied.message);
  auto missing = answer(204, "", "A.B");
  BOOST_TEST(missing.code == Code::not_found);
  BOOST_TEST(contains(missing.message, "A.B"), missing.message);
  BOOST_TEST(answer(500, R"({"errorCode": "ERR_SECRET_GET", "message": "x"})", "A.B").code ==
             Code::unavailable);
  BOOST_TEST(answer(400, "", "A.B").code == Code::invalid_argument);
  BOOST_TEST(answer(404, "", "A.B").code == Code::unsupported);
  BOOST_TEST(code_of_refusal(504, "") == Code::timeout);
  BOOST_TEST(code_of_refusal(418, "") == Code::internal);
  BOOST_TEST(code_of_refusal(500, "ERR_PERMISSION_DENIED") == Code::denied);
}

// The agent answers most failures with 500 ERR_SECRET_GET and names the
// core's code after the store (docs/agent.md).
BOOST_AUTO_TEST_CASE(the_code_named_in_the_agents_500_is_taken) {
  auto code_in = [](const std::string &tail) {
    std::string body =
        R"({"errorCode": "ERR_SECRET_GET", "message": "failed getting secret with key A.B from secret store coffer: )" +
        tail + "\"}";
    return answer(500, body, "A.B").code;
  };
  BOOST_TEST(code_in("not_found: no provider has A.B (provider 'p': x: y)") == Code::not_found);
  BOOST_TEST(code_in("timeout: provider 'kv': did not answer within 30000 ms") == Code::timeout);
  BOOST_TEST(code_in("data_error: provider 'db': record fails authentication") == Code::data_error);
  BOOST_TEST(code_in("unavailable: provider 'kv': 503") == Code::unavailable);
  BOOST_TEST(code_in("something else entirely") == Code::unavailable);
  BOOST_TEST(code_in("not_found") == Code::unavailable);
  BOOST_TEST(code_of_refusal(500, "ERR_OTHER", "x: not_found: y") == Code::unavailable);
}

BOOST_AUTO_TEST_CASE(helper_entries_come_out_of_their_list) {
  std::string body = R"([{"match": "https://github.com/acme", "username": "x-access-token",
                         "username_key": "", "secret_key": "VCS.GithubAdminPAT"},
                        {"match": "acme.azurecr.io", "username_key": "OCIRegistry.User",
                         "secret_key": "OCIRegistry.PrivateRegistryPassword"}])";
  auto entries = helpers_of_answer(200, std::span<const char>(body.data(), body.size()), "git");
  BOOST_TEST_REQUIRE(entries.size() == 2u);
  BOOST_TEST(entries[0].match == "https://github.com/acme");
  BOOST_TEST(entries[0].username == "x-access-token");
  BOOST_TEST(entries[0].secret_key == "VCS.GithubAdminPAT");
  BOOST_TEST(entries[1].username.empty());
  BOOST_TEST(entries[1].username_key == "OCIRegistry.User");
}

BOOST_AUTO_TEST_CASE(helper_entries_of_another_shape_or_refused_throw) {
  auto code_of = [](unsigned status, const std::string &body) {
    try {
      (void)helpers_of_answer(status, std::span<const char>(body.data(), body.size()), "git");
    } catch (const coffer::Error &e) {
      return e.code();
    }
    return Code::ok;
  };
  BOOST_TEST(code_of(200, "[]") == Code::ok);
  BOOST_TEST(code_of(200, "{}") == Code::data_error);
  BOOST_TEST(code_of(200, R"([{"match": "h"}])") == Code::data_error);
  BOOST_TEST(code_of(200, R"([{"match": "h", "secret_key": "A.B"}])") == Code::data_error);
  BOOST_TEST(code_of(200, R"([{"match": "h", "username": "u", "username_key": "C.D",
                               "secret_key": "A.B"}])") == Code::data_error);
  BOOST_TEST(code_of(200, R"([{"match": 5, "username": "u", "secret_key": "A.B"}])") ==
             Code::data_error);
  BOOST_TEST(code_of(403, R"({"errorCode": "ERR_PERMISSION_DENIED", "message": "no"})") ==
             Code::denied);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(connection)

BOOST_AUTO_TEST_CASE(no_agent_when_the_socket_does_not_exist) {
  coffer::test::TempDirectory dir{"coffer-agent"};
  BOOST_TEST(AgentClient::connect(dir.path() / "none.sock", quick()) == nullptr);
}

BOOST_AUTO_TEST_CASE(no_agent_when_nothing_accepts_on_the_socket) {
  coffer::test::TempDirectory dir{"coffer-agent"};
  leave_dead_socket(dir.path() / "dead.sock");
  BOOST_TEST(AgentClient::connect(dir.path() / "dead.sock", quick()) == nullptr);
}

BOOST_AUTO_TEST_CASE(a_path_too_long_for_a_socket_is_a_configuration_error) {
  coffer::test::TempDirectory dir{"coffer-agent"};
  try {
    (void)AgentClient::connect(dir.path() / std::string(200, 's'), quick());
    BOOST_FAIL("no error");
  } catch (const coffer::Error &e) {
    BOOST_TEST(e.code() == Code::invalid_config);
    BOOST_TEST(contains(e.what(), "too long"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(values_come_over_one_kept_alive_connection) {
  coffer::test::TempDirectory dir{"coffer-agent"};
  FakeAgent agent(dir.path() / "a.sock", serving({{"A.B", "v1"}, {"C.D", "v2"}}));
  auto client = AgentClient::connect(dir.path() / "a.sock", quick());
  BOOST_REQUIRE(client != nullptr);
  BOOST_TEST(client->get("A.B").secret.reveal() == "v1");
  BOOST_TEST(client->get("C.D").secret.reveal() == "v2");
  BOOST_TEST(client->get("E.F").code == Code::not_found);
  BOOST_TEST(agent.connections() == 1u);
  std::vector<std::string> expected{"/v1.0/secrets/coffer/A.B", "/v1.0/secrets/coffer/C.D",
                                    "/v1.0/secrets/coffer/E.F"};
  BOOST_TEST(agent.targets() == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_key_of_another_shape_is_sent_percent_encoded) {
  coffer::test::TempDirectory dir{"coffer-agent"};
  FakeAgent agent(dir.path() / "a.sock", serving({}));
  auto client = AgentClient::connect(dir.path() / "a.sock", quick());
  BOOST_REQUIRE(client != nullptr);
  (void)client->get("../x y?z");
  BOOST_TEST(agent.targets().at(0) == "/v1.0/secrets/coffer/..%2Fx%20y%3Fz");
}

BOOST_AUTO_TEST_CASE(a_connection_the_agent_closed_is_opened_again) {
  coffer::test::TempDirectory dir{"coffer-agent"};
  FakeAgent agent(dir.path() / "a.sock", [](const std::string &target) {
    FakeAnswer a = serving({{"A.B", "v1"}})(target);
    a.close = true;
    return a;
  });
  auto client = AgentClient::connect(dir.path() / "a.sock", quick());
  BOOST_REQUIRE(client != nullptr);
  BOOST_TEST(client->get("A.B").secret.reveal() == "v1");
  BOOST_TEST(client->get("A.B").secret.reveal() == "v1");
  BOOST_TEST(agent.connections() == 2u);
}

// An idle connection the agent closed without saying so (its keep-alive
// timeout) fails the next request before any answer: sent again, once.
BOOST_AUTO_TEST_CASE(a_request_on_a_connection_the_agent_dropped_is_sent_again) {
  coffer::test::TempDirectory dir{"coffer-agent"};
  FakeAgent agent(dir.path() / "a.sock", [](const std::string &target) {
    FakeAnswer a = serving({{"A.B", "v1"}})(target);
    a.hang_up = true;
    return a;
  });
  auto client = AgentClient::connect(dir.path() / "a.sock", quick());
  BOOST_REQUIRE(client != nullptr);
  BOOST_TEST(client->get("A.B").secret.reveal() == "v1");
  auto again = client->get("A.B");
  BOOST_TEST(again.ok(), again.message);
  BOOST_TEST(again.secret.reveal() == "v1");
  BOOST_TEST(agent.connections() == 2u);
  BOOST_TEST(agent.targets().size() == 2u);
}

BOOST_AUTO_TEST_CASE(an_agent_that_does_not_answer_times_out) {
  coffer::test::TempDirectory dir{"coffer-agent"};
  FakeAgent agent(dir.path() / "a.sock", [](const std::string &) {
    FakeAnswer silent;
    silent.silent = true;
    return silent;
  });
  auto client = AgentClient::connect(dir.path() / "a.sock", quick());
  BOOST_REQUIRE(client != nullptr);
  auto r = client->get("A.B");
  BOOST_TEST(r.code == Code::timeout);
  BOOST_TEST(contains(r.message, "did not answer within 300 ms"), r.message);
}

BOOST_AUTO_TEST_CASE(an_answer_over_the_limit_is_refused) {
  coffer::test::TempDirectory dir{"coffer-agent"};
  FakeAgent agent(dir.path() / "a.sock",
                  [](const std::string &) { return value_answer("A.B", std::string(2000, 'x')); });
  AgentClientOptions options = quick();
  options.max_answer_bytes = 1000;
  auto client = AgentClient::connect(dir.path() / "a.sock", options);
  BOOST_REQUIRE(client != nullptr);
  auto r = client->get("A.B");
  BOOST_TEST(r.code == Code::data_error);
  BOOST_TEST(contains(r.message, "exceeds 1000 bytes"), r.message);
}

BOOST_AUTO_TEST_CASE(a_refusal_reaches_the_caller) {
  coffer::test::TempDirectory dir{"coffer-agent"};
  FakeAgent agent(dir.path() / "a.sock", [](const std::string &) {
    return error_answer(403, "ERR_PERMISSION_DENIED", "peer uid 1000 is not named");
  });
  auto client = AgentClient::connect(dir.path() / "a.sock", quick());
  BOOST_REQUIRE(client != nullptr);
  auto r = client->get("A.B");
  BOOST_TEST(r.code == Code::denied);
  BOOST_TEST(contains(r.message, "peer uid 1000 is not named"), r.message);
}

// A socket this user may not connect to is an agent that is there, not a
// missing one.
BOOST_AUTO_TEST_CASE(a_socket_that_refuses_this_user_is_denied,
                     *boost::unit_test::precondition(coffer::test::running_as_root)) {
  coffer::test::TempDirectory dir{"coffer-agent"};
  ::chmod(dir.path().c_str(), 0755);
  FakeAgent agent(dir.path() / "a.sock", serving({}));
  ::chmod((dir.path() / "a.sock").c_str(), 0600);
  pid_t child = ::fork();
  if (child == 0) {
    if (::setgid(coffer::test::kOtherUser) != 0 || ::setuid(coffer::test::kOtherUser) != 0)
      ::_exit(10);
    try {
      (void)AgentClient::connect(dir.path() / "a.sock", quick());
      ::_exit(11);
    } catch (const coffer::Error &e) {
      ::_exit(e.code() == Code::denied &&
                      std::string(e.what()).find("permission denied") != std::string::npos
                  ? 0
                  : 12);
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
