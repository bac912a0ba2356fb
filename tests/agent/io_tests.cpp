// The agent's I/O path: requests parsed from whatever the socket delivers
// (several in one write, one a byte at a time), responses larger than the
// socket can take at once, and a get still in flight when the agent stops.
#include <linux/sockios.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <thread>

#include "agent_process.hpp"

namespace coffer::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string get_request(const std::string &key) {
  return "GET /v1.0/secrets/coffer/" + key + " HTTP/1.1\r\nHost: a\r\n\r\n";
}

json::value body_of(const HttpReply &reply) {
  return json::parse(reply.body);
}

// Whether the agent has read every byte sent on `connection` (nothing left in
// the socket's send queue) within `deadline`.
bool agent_has_read_everything(const HttpConnection &connection,
                               std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    int queued = -1;
    if (::ioctl(connection.fd(), SIOCOUTQ, &queued) == 0 && queued == 0) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(1ms);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(io)

BOOST_AUTO_TEST_CASE(requests_sent_in_one_write_get_one_answer_each_in_order) {
  AgentDirectory dir;
  auto socket = dir.directory / "agent.sock";
  AgentProcess agent(dir, dir.write("coffer.json", dir.policy()), {"--socket", socket.string()});
  agent.wait_ready();
  auto connection = HttpConnection::unix_socket(socket.string());
  const std::vector<std::string> keys{"Email.SMTPPassword", "VCS.GithubAdminPAT",
                                      "CIAdmin.JenkinsTriggerAuthToken", "Email.SMTPPassword"};
  std::string requests;
  for (const auto &key : keys) requests += get_request(key);
  BOOST_REQUIRE(connection.send(requests));
  for (const auto &key : keys) {
    auto reply = connection.read_reply();
    BOOST_TEST_REQUIRE(reply.status == 200);
    BOOST_TEST(reply.complete);
    BOOST_TEST(body_of(reply) == json::value(json::object{{key, agent_values().at(key)}}));
  }
}

BOOST_AUTO_TEST_CASE(a_request_arriving_a_byte_at_a_time_is_served) {
  AgentDirectory dir;
  auto socket = dir.directory / "agent.sock";
  AgentProcess agent(dir, dir.write("coffer.json", dir.policy()), {"--socket", socket.string()});
  agent.wait_ready();
  auto connection = HttpConnection::unix_socket(socket.string());
  for (char byte : get_request("VCS.GithubAdminPAT")) {
    BOOST_REQUIRE(connection.send(std::string(1, byte)));
    std::this_thread::sleep_for(1ms);  // each byte its own read on the agent's side
  }
  auto reply = connection.read_reply();
  BOOST_TEST_REQUIRE(reply.status == 200);
  BOOST_TEST(
      body_of(reply) ==
      json::value(json::object{{"VCS.GithubAdminPAT", agent_values().at("VCS.GithubAdminPAT")}}));
}

BOOST_AUTO_TEST_CASE(a_response_larger_than_the_socket_takes_at_once_reaches_a_slow_reader_whole) {
  AgentDirectory dir;
  std::map<std::string, std::string> values;
  for (int i = 0; i < 400; ++i)
    values["Bulk.Key" + std::to_string(i)] = "v" + std::to_string(i) + std::string(2000, 'x');
  dir.write_env("secrets.env", values);
  std::string catalog = R"({"coffer_catalog": 1, "name": "bulk", "keys": [)";
  for (const auto &[key, value] : values)
    catalog += std::string(catalog.back() == '[' ? "" : ", ") + R"({"key": ")" + key + R"("})";
  auto catalog_file = dir.write("bulk-catalog.json", catalog + "]}");
  auto socket = dir.directory / "agent.sock";
  AgentProcess agent(
      dir,
      dir.write("coffer.json",
                dir.policy(R"({"*": "p"})", R"("catalogs": [")" + catalog_file.string() + R"("])")),
      {"--socket", socket.string()});
  agent.wait_ready();
  auto connection = HttpConnection::unix_socket(socket.string());
  int small = 4096;  // the agent's first write cannot take the whole ~800 KB answer
  ::setsockopt(connection.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  BOOST_REQUIRE(connection.send("GET /v1.0/secrets/p/bulk HTTP/1.1\r\nHost: a\r\n\r\n"));
  std::this_thread::sleep_for(300ms);  // a reader that is late, not one that is gone
  auto reply = connection.read_reply(30s);
  BOOST_TEST_REQUIRE(reply.status == 200);
  BOOST_TEST_REQUIRE(reply.complete);
  auto body = body_of(reply).as_object();
  BOOST_TEST(body.size() == values.size());
  for (const auto &[key, value] : values)
    BOOST_TEST(json::value_to<std::string>(body.at(key).at(key)) == value);
  // The connection still serves the next request.
  BOOST_REQUIRE(connection.send("GET /v1.0/secrets/p/Bulk.Key7 HTTP/1.1\r\nHost: a\r\n\r\n"));
  BOOST_TEST(connection.read_reply().status == 200);
}

BOOST_AUTO_TEST_CASE(a_get_still_in_flight_when_the_drain_times_out_ends_cleanly) {
  const char *memory_plugins = std::getenv("COFFER_TEST_MEMORY_PLUGIN_DIR");
  BOOST_TEST_REQUIRE(memory_plugins != nullptr);
  AgentDirectory dir;
  // The provider answers 1.5 s after it is asked; the agent drains for 0.2 s.
  auto policy =
      dir.write("coffer.json",
                std::string(R"({"coffer": 1, "plugin_dirs": [")") + memory_plugins +
                    R"("], "providers": {"slow": {"plugin": "memory", "config": )"
                    R"({"values": {"Email.SMTPPassword": "slow-Value-3b7e"}, "delay_ms": 1500}}},)"
                    R"( "routes": {"*": "slow"}})");
  auto socket = dir.directory / "agent.sock";
  AgentProcess agent(dir, policy,
                     {"--socket", socket.string(), "--drain-timeout", "0.2", "--threads", "1"});
  agent.wait_ready();
  auto connection = HttpConnection::unix_socket(socket.string());
  BOOST_REQUIRE(connection.send(get_request("Email.SMTPPassword")));
  // Once the agent has read the request, its one I/O thread hands the get to
  // the provider before it turns to anything else, the signal included.
  BOOST_REQUIRE(agent_has_read_everything(connection, 10s));
  agent.signal(SIGTERM);
  auto status = agent.wait_exit(30s);
  BOOST_REQUIRE(status.has_value());
  // The answer arrives after the event loops stopped; the agent waits for it
  // before it takes them down, and exits as a drained agent does.
  BOOST_TEST(*status == 0);
  BOOST_TEST(agent.log().find("drain timeout") != std::string::npos);
  BOOST_TEST(agent.log().find("stopped") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(readyz_asks_each_provider_for_its_health_and_names_the_unhealthy_one) {
  const char *memory_plugins = std::getenv("COFFER_TEST_MEMORY_PLUGIN_DIR");
  BOOST_TEST_REQUIRE(memory_plugins != nullptr);
  AgentDirectory dir;
  // "sick" opens (its health is not a configuration error) but its backend
  // is down: the agent is not ready, and says which provider and why.
  std::string policy = dir.policy();
  const std::string anchor = R"("providers": {)";
  policy.replace(policy.find(anchor), anchor.size(),
                 anchor + R"("sick": {"plugin": "memory", "config": {"health": "unavailable"}}, )");
  policy.replace(policy.find(R"("plugin_dirs": [)"), 16,
                 std::string(R"("plugin_dirs": [")") + memory_plugins + R"(", )");
  auto socket = dir.directory / "agent.sock";
  AgentProcess agent(dir, dir.write("coffer.json", policy), {"--socket", socket.string()});
  agent.wait_ready();
  auto reply = HttpConnection::unix_socket(socket.string()).get("/readyz");
  BOOST_TEST(reply.status == 503);
  auto body = body_of(reply);
  BOOST_TEST(json::value_to<std::string>(body.at("status")) == "degraded");
  BOOST_TEST(json::value_to<std::string>(body.at("providers").at("sick")) ==
             "unavailable: unhealthy as configured");
  BOOST_TEST(json::value_to<std::string>(body.at("providers").at("p")) == "ok");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace coffer::test
