// The Dapr secrets API of `coffer serve` over its Unix socket and loopback
// TCP: answers, error shapes and status codes, store names, tokens.
#define BOOST_TEST_MODULE agent
#include <sys/stat.h>

#include <boost/json.hpp>
#include <boost/test/results_collector.hpp>
#include <boost/test/unit_test.hpp>

#include "agent_process.hpp"

namespace coffer::test {
namespace {

namespace json = boost::json;

struct ServedAgent {
  AgentDirectory dir;
  std::filesystem::path socket = dir.directory / "run" / "agent.sock";
  std::filesystem::path token = dir.write("token", "tok-Agent-Secret-8d1e4b\n");
  std::filesystem::path policy = dir.write("coffer.json", dir.policy());
  AgentProcess agent{
      dir,
      policy,
      {"--socket", socket.string(), "--listen", "127.0.0.1:0", "--token-file", token.string()}};
  ServedAgent() { agent.wait_ready(); }
  ~ServedAgent() {
    if (!boost::unit_test::results_collector
             .results(boost::unit_test::framework::current_test_case().p_id)
             .passed())
      BOOST_TEST_MESSAGE("the agent's log:\n" << agent.log());
  }

  HttpReply get(const std::string &target) {
    return HttpConnection::unix_socket(socket.string()).get(target);
  }
  HttpReply get_tcp(const std::string &target, const std::string &headers) {
    return HttpConnection::tcp(agent.tcp_port()).get(target, headers);
  }
};

json::value body_of(const HttpReply &reply) {
  return json::parse(reply.body);
}
std::string text_at(const HttpReply &reply, const std::string &member) {
  return json::value_to<std::string>(body_of(reply).at(member));
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(dapr_api, ServedAgent)

BOOST_AUTO_TEST_CASE(a_secret_is_a_json_object_of_its_key_and_value_never_cached_by_the_client) {
  auto reply = get("/v1.0/secrets/coffer/Email.SMTPPassword");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.complete);
  BOOST_TEST(reply.header("content-type") == "application/json");
  BOOST_TEST(reply.header("cache-control") == "no-store");
  BOOST_TEST(
      body_of(reply) ==
      (json::value(json::object{{"Email.SMTPPassword", agent_values().at("Email.SMTPPassword")}})));
}

BOOST_AUTO_TEST_CASE(bulk_answers_every_key_that_resolves_as_dapr_nests_them) {
  auto reply = get("/v1.0/secrets/coffer/bulk");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.header("cache-control") == "no-store");
  json::object expected;
  for (const auto &[key, value] : agent_values()) expected[key] = json::object{{key, value}};
  BOOST_TEST(body_of(reply) == json::value(expected));
}

BOOST_AUTO_TEST_CASE(a_provider_name_as_store_reads_that_provider_alone) {
  auto routed = get("/v1.0/secrets/coffer/VCS.GithubAdminPAT");
  auto direct = get("/v1.0/secrets/q/VCS.GithubAdminPAT");
  BOOST_TEST(text_at(routed, "VCS.GithubAdminPAT") == agent_values().at("VCS.GithubAdminPAT"));
  BOOST_TEST(text_at(direct, "VCS.GithubAdminPAT") == "ghp-Other-Delta-0042");
  auto bulk = get("/v1.0/secrets/q/bulk");
  BOOST_TEST(body_of(bulk) == json::value(json::object{
                                  {"VCS.GithubAdminPAT",
                                   json::object{{"VCS.GithubAdminPAT", "ghp-Other-Delta-0042"}}}}));
}

BOOST_AUTO_TEST_CASE(errors_have_dapr_shape_and_status) {
  auto missing = get("/v1.0/secrets/coffer/Marketplace.ImportCDNPassword");
  BOOST_TEST(missing.status == 500);
  BOOST_TEST(text_at(missing, "errorCode") == "ERR_SECRET_GET");
  BOOST_TEST(text_at(missing, "message").find("Marketplace.ImportCDNPassword") !=
             std::string::npos);

  auto store = get("/v1.0/secrets/nowhere/VCS.GithubAdminPAT");
  BOOST_TEST(store.status == 400);
  BOOST_TEST(text_at(store, "errorCode") == "ERR_SECRET_STORE_NOT_FOUND");

  auto malformed = get("/v1.0/secrets/coffer/not-a-key");
  BOOST_TEST(malformed.status == 400);
  BOOST_TEST(text_at(malformed, "errorCode") == "ERR_MALFORMED_REQUEST");
  BOOST_TEST(malformed.body.find("not-a-key") == std::string::npos);

  auto connection = HttpConnection::unix_socket(socket.string());
  connection.send(
      "POST /v1.0/secrets/coffer/VCS.GithubAdminPAT HTTP/1.1\r\nHost: a\r\nContent-Length: "
      "0\r\n\r\n");
  auto post = connection.read_reply();
  BOOST_TEST(post.status == 405);
  BOOST_TEST(post.header("allow") == "GET");
}

BOOST_AUTO_TEST_CASE(the_dapr_probes_and_coffer_health_answer) {
  BOOST_TEST(get("/v1.0/healthz").status == 204);
  BOOST_TEST(get("/healthz").status == 200);
  auto ready = get("/readyz");
  BOOST_TEST(ready.status == 200);
  BOOST_TEST(json::value_to<std::string>(body_of(ready).at("providers").at("p")) == "ok");
  auto metadata = get("/v1.0/metadata");
  BOOST_TEST(metadata.status == 200);
  BOOST_TEST(body_of(metadata).at("components").as_array().size() == 3u);
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_many_requests_on_one_connection) {
  auto connection = HttpConnection::unix_socket(socket.string());
  for (int i = 0; i < 50; ++i) {
    auto reply = connection.get("/v1.0/secrets/coffer/VCS.GithubAdminPAT");
    BOOST_TEST_INFO("request " << i);
    BOOST_TEST_REQUIRE(reply.status == 200);
    BOOST_TEST_REQUIRE(reply.complete);
  }
}

BOOST_AUTO_TEST_CASE(tcp_wants_a_token_in_either_header_and_refuses_a_wrong_one) {
  const std::string target = "/v1.0/secrets/coffer/VCS.GithubAdminPAT";
  auto none = get_tcp(target, "");
  BOOST_TEST(none.status == 401);
  BOOST_TEST(text_at(none, "errorCode") == "ERR_UNAUTHORIZED");
  BOOST_TEST(none.body.find("ghp-") == std::string::npos);
  BOOST_TEST(get_tcp(target, "dapr-api-token: tok-Agent-Secret-8d1e4\r\n").status == 401);
  BOOST_TEST(get_tcp(target, "dapr-api-token: tok-Agent-Secret-8d1e4b\r\n").status == 200);
  BOOST_TEST(get_tcp(target, "Authorization: Bearer tok-Agent-Secret-8d1e4b\r\n").status == 200);
  BOOST_TEST(get_tcp("/healthz", "").status == 401);
  BOOST_TEST(agent.log().find("tok-Agent-Secret") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(listeners)

BOOST_AUTO_TEST_CASE(the_socket_is_0660_in_a_0750_directory_and_a_dead_agents_socket_is_replaced) {
  AgentDirectory dir;
  auto policy = dir.write("coffer.json", dir.policy());
  auto socket = dir.directory / "made" / "here" / "agent.sock";
  {
    AgentProcess agent(dir, policy, {"--socket", socket.string()});
    agent.wait_ready();
    struct stat info {};
    BOOST_REQUIRE(::stat(socket.c_str(), &info) == 0);
    BOOST_TEST((info.st_mode & 07777) == 0660u);
    BOOST_REQUIRE(::stat(socket.parent_path().c_str(), &info) == 0);
    BOOST_TEST((info.st_mode & 07777) == 0750u);

    // A second agent on a live socket refuses to start and leaves it alone.
    auto second = run_cli(dir, {"--policy", policy.string(), "serve", "--socket", socket.string()});
    BOOST_TEST(second.status == 2);
    BOOST_TEST(second.err.find("already serving") != std::string::npos);
    BOOST_TEST(HttpConnection::unix_socket(socket.string()).get("/healthz").status == 200);
  }  // killed with SIGKILL: the socket file stays, and nobody answers on it
  BOOST_REQUIRE(std::filesystem::exists(socket));
  AgentProcess next(dir, policy, {"--socket", socket.string(), "--socket-mode", "0600"});
  next.wait_ready();
  struct stat info {};
  BOOST_REQUIRE(::stat(socket.c_str(), &info) == 0);
  BOOST_TEST((info.st_mode & 07777) == 0600u);
  BOOST_TEST(HttpConnection::unix_socket(socket.string()).get("/healthz").status == 200);
}

BOOST_AUTO_TEST_CASE(bad_listeners_and_token_files_are_refused_before_serving) {
  AgentDirectory dir;
  auto policy = dir.write("coffer.json", dir.policy());
  auto token = dir.write("token", "tok-Listener-91\n");
  auto loose = dir.write("loose-token", "tok-Loose-92\n", 0644);
  auto socket = (dir.directory / "agent.sock").string();
  auto serve = [&](std::vector<std::string> more) {
    std::vector<std::string> argv{"--policy", policy.string(), "serve", "--socket", socket};
    argv.insert(argv.end(), more.begin(), more.end());
    return run_cli(dir, argv);
  };
  auto remote = serve({"--listen", "0.0.0.0:0", "--token-file", token.string()});
  BOOST_TEST(remote.status == 2);
  BOOST_TEST(remote.err.find("loopback") != std::string::npos);
  auto no_token = serve({"--listen", "127.0.0.1:0"});
  BOOST_TEST(no_token.status == 2);
  BOOST_TEST(no_token.err.find("--token-file") != std::string::npos);
  auto readable = serve({"--listen", "127.0.0.1:0", "--token-file", loose.string()});
  BOOST_TEST(readable.status == 2);
  BOOST_TEST(readable.err.find("chmod 600") != std::string::npos);
  BOOST_TEST(readable.err.find("tok-Loose") == std::string::npos);
  auto wide = serve({"--socket-mode", "0666"});
  BOOST_TEST(wide.status == 2);
  BOOST_TEST(wide.err.find("0660 or stricter") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace coffer::test
