// systemd socket activation: the agent serves the listening socket systemd
// passes (and leaves its file to systemd), refuses one whose mode is wider
// than the agent's own rule, and the units under docs/deploy/ verify.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "agent_process.hpp"

namespace coffer::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// A listening Unix socket at `path` with `mode`, as systemd makes one.
int listening_socket(const std::filesystem::path &path, mode_t mode) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0);
  BOOST_REQUIRE(::chmod(path.c_str(), mode) == 0);
  BOOST_REQUIRE(::listen(fd, 16) == 0);
  return fd;
}

std::string read_text(const std::filesystem::path &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(socket_activation)

BOOST_AUTO_TEST_CASE(a_socket_passed_by_systemd_is_served_and_its_file_left_to_systemd) {
  AgentDirectory dir;
  auto path = dir.directory / "activated.sock";
  int fd = listening_socket(path, 0660);
  // --socket names another path: the socket systemd passed wins, and that
  // path is never created.
  AgentProcess agent(dir, dir.write("coffer.json", dir.policy()),
                     {"--socket", (dir.directory / "unused.sock").string()}, fd);
  ::close(fd);
  agent.wait_ready();
  BOOST_TEST(agent.log().find("unix:" + path.string()) != std::string::npos);
  auto reply =
      HttpConnection::unix_socket(path.string()).get("/v1.0/secrets/coffer/Email.SMTPPassword");
  BOOST_TEST_REQUIRE(reply.status == 200);
  BOOST_TEST(
      json::parse(reply.body) ==
      json::value(json::object{{"Email.SMTPPassword", agent_values().at("Email.SMTPPassword")}}));
  BOOST_TEST(!std::filesystem::exists(dir.directory / "unused.sock"));
  agent.signal(SIGTERM);
  auto status = agent.wait_exit(30s);
  BOOST_REQUIRE(status.has_value());
  BOOST_TEST(*status == 0);
  BOOST_TEST(std::filesystem::exists(path));  // systemd's, not the agent's, to remove
}

BOOST_AUTO_TEST_CASE(a_passed_socket_wider_than_0660_is_refused_naming_its_mode) {
  AgentDirectory dir;
  auto path = dir.directory / "activated.sock";
  int fd = listening_socket(path, 0666);
  AgentProcess agent(dir, dir.write("coffer.json", dir.policy()), {}, fd);
  ::close(fd);
  auto status = agent.wait_exit(30s);
  BOOST_REQUIRE(status.has_value());
  BOOST_TEST(*status != 0);
  BOOST_TEST(agent.log().find("0666") != std::string::npos, agent.log());
  BOOST_TEST(agent.log().find("SocketMode=0660") != std::string::npos, agent.log());
}

BOOST_AUTO_TEST_CASE(the_systemd_units_verify_without_a_warning) {
  const char *analyze = std::getenv("COFFER_SYSTEMD_ANALYZE");
  const char *source = std::getenv("COFFER_SOURCE_DIR");
  BOOST_TEST_REQUIRE((analyze != nullptr && *analyze != '\0'),
                     "systemd-analyze was not found: scripts/install-deps installs systemd");
  BOOST_TEST_REQUIRE(source != nullptr);
  AgentDirectory dir;
  // The units name the installed binary; here it is the one built.
  for (const std::string unit : {"coffer.socket", "coffer.service"}) {
    std::string text = read_text(std::filesystem::path(source) / "docs/deploy" / unit);
    BOOST_TEST_REQUIRE(!text.empty());
    for (auto at = text.find("/usr/local/bin/coffer"); at != std::string::npos;
         at = text.find("/usr/local/bin/coffer", at))
      text.replace(at, 21, dir.cli);
    dir.write(unit, text, 0644);
  }
  std::string command = std::string(analyze) + " verify --man=no " +
                        (dir.directory / "coffer.socket").string() + " " +
                        (dir.directory / "coffer.service").string() + " 2>&1";
  FILE *pipe = ::popen(command.c_str(), "r");
  BOOST_TEST_REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  int status = ::pclose(pipe);
  BOOST_TEST(status == 0, output);
  BOOST_TEST(output.empty(), output);  // an unknown key is only a warning
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace coffer::test
