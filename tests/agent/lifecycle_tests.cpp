// The agent under load: a live policy switch (SIGHUP) fails no request;
// SIGTERM cuts no response, lets the clients finish and exits 0. And its
// /metrics as Prometheus reads them: promtool accepts them and a real
// Prometheus server scrapes them.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "agent_process.hpp"

namespace coffer::test {
namespace {

namespace json = boost::json;

struct Load {
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};  // an answer other than 200 with a known value
  std::atomic<int> cut{0};     // a response that ended before its body did
  std::atomic<int> other_value{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;

  // Clients with keep-alive connections; a closed connection is opened
  // again until `stop` or until the agent no longer accepts.
  void start(const std::string &socket, int clients, const std::string &expected,
             const std::string &alternative) {
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([this, socket, expected, alternative] {
        while (!stop.load()) {
          std::optional<HttpConnection> connection;
          try {
            connection.emplace(HttpConnection::unix_socket(socket));
          } catch (const std::exception &) {
            return;  // the agent stopped accepting
          }
          while (!stop.load()) {
            if (!connection->send(
                    "GET /v1.0/secrets/coffer/VCS.GithubAdminPAT HTTP/1.1\r\nHost: a\r\n\r\n"))
              break;
            auto reply = connection->read_reply(20s);
            if (reply.status == 0) break;  // closed between two requests: open another
            if (!reply.complete) {
              ++cut;
              break;
            }
            if (reply.status != 200) {
              ++failed;
            } else if (reply.body.find(expected) != std::string::npos) {
              ++ok;
            } else if (!alternative.empty() && reply.body.find(alternative) != std::string::npos) {
              ++other_value;
            } else {
              ++failed;
            }
            if (reply.header("connection") == "close") break;
          }
        }
      });
    }
  }
  void wait_for(int requests, std::chrono::milliseconds deadline = 30s) {
    auto until = std::chrono::steady_clock::now() + deadline;
    int start = ok + other_value;
    while (ok + other_value < start + requests && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(1ms);
    BOOST_REQUIRE_MESSAGE(ok + other_value >= start + requests, "the load made no progress");
  }
  void join() {
    for (auto &thread : threads) thread.join();
    threads.clear();
  }
  ~Load() {
    stop = true;
    join();
  }
};

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(a_live_policy_switch_under_load_fails_no_request) {
  AgentDirectory dir;
  auto socket = dir.directory / "agent.sock";
  auto policy = dir.write("coffer.json", dir.policy(R"({"*": "p"})"));
  AgentProcess agent(dir, policy, {"--socket", socket.string()});
  agent.wait_ready();
  const std::string before = agent_values().at("VCS.GithubAdminPAT");
  const std::string after = "ghp-Other-Delta-0042";
  Load load;
  load.start(socket.string(), 8, before, after);
  load.wait_for(500);
  for (int round = 0; round < 4; ++round) {
    dir.write("coffer.json", dir.policy(round % 2 == 0 ? R"({"*": "q"})" : R"({"*": "p"})"));
    agent.signal(SIGHUP);
    BOOST_REQUIRE(agent.wait_for_log("generation=" + std::to_string(round + 2)));
    load.wait_for(300);
  }
  // The last switch went back to p; q's value was served in between.
  load.stop = true;
  load.join();
  BOOST_TEST(load.failed == 0);
  BOOST_TEST(load.cut == 0);
  BOOST_TEST(load.other_value > 0);
  BOOST_TEST(agent.log().find("reload failed") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(sigterm_under_load_cuts_no_response_and_exits_0) {
  AgentDirectory dir;
  auto socket = dir.directory / "agent.sock";
  auto policy = dir.write("coffer.json", dir.policy());
  AgentProcess agent(dir, policy, {"--socket", socket.string()});
  agent.wait_ready();
  Load load;
  load.start(socket.string(), 16, agent_values().at("VCS.GithubAdminPAT"), {});
  load.wait_for(2000);
  agent.signal(SIGTERM);
  auto status = agent.wait_exit(30s);
  load.join();  // every client ends: the agent closed its connections and its socket
  BOOST_REQUIRE(status.has_value());
  BOOST_TEST(*status == 0);
  BOOST_TEST(load.cut == 0);
  BOOST_TEST(load.failed == 0);
  BOOST_TEST(!std::filesystem::exists(socket));
  BOOST_TEST(agent.log().find("stopped") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(promtool_accepts_the_metrics_and_prometheus_scrapes_them) {
  const char *promtool = std::getenv("COFFER_PROMTOOL");
  const char *prometheus = std::getenv("COFFER_PROMETHEUS");
  BOOST_REQUIRE_MESSAGE(
      promtool != nullptr && *promtool != '\0' && prometheus != nullptr && *prometheus != '\0',
      "promtool and prometheus were not found: scripts/install-deps installs "
      "Debian's prometheus package");
  AgentDirectory dir;
  auto socket = dir.directory / "agent.sock";
  auto policy = dir.write("coffer.json", dir.policy());
  auto token = dir.write("token", "tok-Scrape-77aa\n");
  AgentProcess agent(
      dir, policy,
      {"--socket", socket.string(), "--listen", "127.0.0.1:0", "--token-file", token.string()});
  agent.wait_ready();
  for (const auto &target : {"/v1.0/secrets/coffer/VCS.GithubAdminPAT", "/v1.0/secrets/coffer/bulk",
                             "/v1.0/secrets/coffer/Marketplace.ImportCDNPassword", "/nowhere"})
    HttpConnection::unix_socket(socket.string()).get(target);
  auto metrics = HttpConnection::unix_socket(socket.string()).get("/metrics");
  BOOST_REQUIRE(metrics.status == 200);
  BOOST_TEST(metrics.header("content-type").find("text/plain; version=0.0.4") == 0u);
  BOOST_TEST(metrics.body.find("coffer_agent_requests_total{route=\"secret\",status=\"200\"} 1") !=
             std::string::npos);
  dir.write("metrics.txt", metrics.body);
  auto check = run_cli_program(dir, promtool, {"check", "metrics"}, "metrics.txt");
  BOOST_TEST_MESSAGE("promtool: " << check.err);
  BOOST_TEST(check.status == 0);

  int port = free_port();
  dir.write("prometheus.yml",
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: "
            "coffer\n"
            "    authorization:\n      credentials_file: " +
                (dir.directory / "token").string() +
                "\n    static_configs:\n      - targets: ['127.0.0.1:" +
                std::to_string(agent.tcp_port()) + "']\n");
  BackgroundProgram server(dir, prometheus,
                           {"--config.file=" + (dir.directory / "prometheus.yml").string(),
                            "--storage.tsdb.path=" + (dir.directory / "tsdb").string(),
                            "--web.listen-address=127.0.0.1:" + std::to_string(port)});
  bool up = false;
  std::string last;
  auto until = std::chrono::steady_clock::now() + 60s;
  while (!up && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(200ms);
    try {
      auto reply =
          HttpConnection::tcp(port).get("/api/v1/query?query=up%7Bjob%3D%22coffer%22%7D", {}, 5s);
      last = reply.body;
      if (reply.status != 200) continue;
      auto result = json::parse(reply.body).at("data").at("result").as_array();
      up = !result.empty() && result[0].at("value").as_array()[1] == "1";
    } catch (const std::exception &) {  // not listening yet
    }
  }
  BOOST_TEST(up, "Prometheus did not scrape the agent; last answer: " << last << "\nits log:\n"
                                                                      << server.log());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace coffer::test
