// Authorization per peer: a Unix-socket client's uid, gid and pid come from
// the kernel, a TCP client's identity from its token; the policy's
// "clients" decide, and the audit log records every decision with the peer.
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

#include "agent_process.hpp"

namespace coffer::test {
namespace {

namespace json = boost::json;
constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

boost::test_tools::assertion_result running_as_root(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result result(::geteuid() == 0);
  result.message() << "skipped: only root can run a client as another user";
  return result;
}

// The audit lines of accesses (not of policy loads).
std::vector<json::object> audit_lines(const std::filesystem::path &file) {
  std::ifstream in(file);
  std::vector<json::object> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto object = json::parse(line).as_object();
    if (object.contains("key") && object.contains("outcome")) lines.push_back(std::move(object));
  }
  return lines;
}

// The audit lines for `key` and `outcome` made for the Unix peer `uid`.
std::vector<json::object> decisions(const std::filesystem::path &file, const std::string &key,
                                    const std::string &outcome, std::int64_t uid) {
  std::vector<json::object> out;
  for (auto &line : audit_lines(file)) {
    if (line.at("key") != key.c_str() || line.at("outcome") != outcome.c_str()) continue;
    auto *peer = line.if_contains("peer");
    if (peer == nullptr || !peer->is_object()) continue;
    auto *found = peer->as_object().if_contains("uid");
    if (found != nullptr && found->to_number<std::int64_t>() == uid) out.push_back(line);
  }
  return out;
}

struct PeerAgent {
  AgentDirectory dir;
  std::filesystem::path audit = dir.directory / "audit.log";
  std::filesystem::path policy = dir.write(
      "coffer.json",
      dir.policy(
          R"({"*": "p"})",
          R"("clients": {"builds": {"uids": [65534], "allow": ["VCS.*"]}},)"
          R"( "helpers": {"git": [{"url": "https://github.com/acme", "username": "x-access-token",)"
          R"( "secret": "VCS.GithubAdminPAT"}], "docker": [{"server": "acme.azurecr.io",)"
          R"( "username": "acme", "secret": "Email.SMTPPassword"}]}, "audit": {"file": )" +
              json::serialize(json::value(audit.string())) + "}"));
  std::filesystem::path socket = dir.directory / "run" / "agent.sock";
  std::filesystem::path token = dir.write("builds.token", "tok-Builds-Client-5c7a\n");
  AgentProcess agent{dir,
                     policy,
                     {"--socket", socket.string(), "--socket-group", std::to_string(kNogroup),
                      "--listen", "127.0.0.1:0", "--token-file", "builds=" + token.string()}};
  PeerAgent() {
    std::filesystem::create_directories(socket.parent_path());
    std::filesystem::permissions(socket.parent_path(), std::filesystem::perms(0755));
    agent.wait_ready();
  }

  // "STATUS PID BODY" from a client run as nobody.
  std::string as_nobody(const std::string &target) {
    return run_as(kNobody, kNogroup, [&] {
      auto reply = HttpConnection::unix_socket(socket.string()).get(target);
      return std::to_string(reply.status) + " " + std::to_string(::getpid()) + " " + reply.body;
    });
  }
};

struct NobodyReply {
  int status = 0;
  std::int64_t pid = 0;
  std::string body;
};
NobodyReply parse(const std::string &text) {
  std::istringstream in(text);
  NobodyReply reply;
  in >> reply.status >> reply.pid;
  std::getline(in, reply.body);
  if (!reply.body.empty() && reply.body.front() == ' ') reply.body.erase(0, 1);
  return reply;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(peers, *boost::unit_test::precondition(running_as_root))

BOOST_FIXTURE_TEST_CASE(
    another_uid_reads_what_its_client_allows_and_is_refused_the_rest_both_audited, PeerAgent) {
  auto allowed = parse(as_nobody("/v1.0/secrets/coffer/VCS.GithubAdminPAT"));
  BOOST_TEST(allowed.status == 200);
  BOOST_TEST(allowed.body.find(agent_values().at("VCS.GithubAdminPAT")) != std::string::npos);

  auto refused = parse(as_nobody("/v1.0/secrets/coffer/Email.SMTPPassword"));
  BOOST_TEST(refused.status == 403);
  BOOST_TEST(json::parse(refused.body).at("errorCode") == "ERR_PERMISSION_DENIED");
  BOOST_TEST(refused.body.find("smtp-Agent") == std::string::npos);

  auto granted = decisions(audit, "VCS.GithubAdminPAT", "ok", kNobody);
  BOOST_TEST_REQUIRE(granted.size() == 1u);
  BOOST_TEST(granted[0].at("peer").at("pid").to_number<std::int64_t>() == allowed.pid);
  BOOST_TEST(granted[0].at("peer").at("gid").to_number<std::int64_t>() == kNogroup);
  auto denied = decisions(audit, "Email.SMTPPassword", "denied", kNobody);
  BOOST_TEST_REQUIRE(denied.size() == 1u);
  BOOST_TEST(denied[0].at("peer").at("pid").to_number<std::int64_t>() == refused.pid);

  // The agent's own user is not named by any client and reads everything.
  auto own =
      HttpConnection::unix_socket(socket.string()).get("/v1.0/secrets/coffer/Email.SMTPPassword");
  BOOST_TEST(own.status == 200);
}

BOOST_FIXTURE_TEST_CASE(bulk_lists_only_what_the_peer_may_read, PeerAgent) {
  auto bulk = parse(as_nobody("/v1.0/secrets/coffer/bulk"));
  BOOST_TEST(bulk.status == 200);
  auto body = json::parse(bulk.body).as_object();
  BOOST_TEST(body.size() == 1u);
  BOOST_TEST(body.contains("VCS.GithubAdminPAT"));
}

BOOST_FIXTURE_TEST_CASE(helper_entries_are_listed_only_when_the_peer_may_read_their_keys,
                        PeerAgent) {
  auto git = parse(as_nobody("/v1.0-coffer/helpers/git"));
  BOOST_TEST(git.status == 200);
  auto entries = json::parse(git.body).as_array();
  BOOST_TEST_REQUIRE(entries.size() == 1u);
  BOOST_TEST(entries[0].at("match") == "https://github.com/acme");
  BOOST_TEST(entries[0].at("username") == "x-access-token");
  BOOST_TEST(entries[0].at("secret_key") == "VCS.GithubAdminPAT");
  BOOST_TEST(git.body.find(agent_values().at("VCS.GithubAdminPAT")) == std::string::npos);
  auto docker = parse(as_nobody("/v1.0-coffer/helpers/docker"));
  BOOST_TEST(docker.status == 200);
  BOOST_TEST(json::parse(docker.body).as_array().empty());
  auto own = HttpConnection::unix_socket(socket.string()).get("/v1.0-coffer/helpers/docker");
  BOOST_TEST(json::parse(own.body).as_array().size() == 1u);
  BOOST_TEST(parse(as_nobody("/v1.0-coffer/helpers/svn")).status == 404);
}

BOOST_FIXTURE_TEST_CASE(a_token_acts_as_its_client, PeerAgent) {
  auto connection = HttpConnection::tcp(agent.tcp_port());
  const std::string header = "dapr-api-token: tok-Builds-Client-5c7a\r\n";
  BOOST_TEST(connection.get("/v1.0/secrets/coffer/VCS.GithubAdminPAT", header).status == 200);
  auto refused = connection.get("/v1.0/secrets/coffer/Email.SMTPPassword", header);
  BOOST_TEST(refused.status == 403);
  bool audited = false;
  for (auto &line : audit_lines(audit)) {
    auto *peer = line.if_contains("peer");
    if (line.at("key") == "Email.SMTPPassword" && line.at("outcome") == "denied" &&
        peer != nullptr && peer->as_object().if_contains("client") != nullptr &&
        peer->as_object().at("client") == "builds")
      audited = true;
  }
  BOOST_TEST(audited);
  BOOST_TEST(agent.log().find("tok-Builds") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace coffer::test
