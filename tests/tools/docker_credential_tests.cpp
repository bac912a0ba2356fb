// docker-credential-coffer: the docker-credential-helpers protocol exactly
// as the Docker CLI's client library drives it (arguments, standard input
// without a final newline, "unused" for list, standard output and exit
// statuses), then the real `docker login` and `docker logout` against a
// registry of the test's own, with no Docker daemon (the CLI then logs in
// from the client side).
#define BOOST_TEST_MODULE docker_credential_tests
#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fake_agent.hpp"
#include "tools_fixture.hpp"

namespace json = boost::json;
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

const std::string kRegistryPassword = "oci-Value-Foxtrot-3b9d";
const std::string kRegistryUser = "acme-puller";
const std::string kNotFound = "credentials not found in native keychain\n";

struct Fixture : ToolsFixture {
  Fixture() {
    write(
        "catalog.json",
        R"({"keys": [{"key": "OCIRegistry.PrivateRegistryUser", "description": "registry user"}]})");
    std::map<std::string, std::string> values = stored_values();
    values["OCIRegistry.PrivateRegistryPassword"] = kRegistryPassword;
    values["OCIRegistry.PrivateRegistryUser"] = kRegistryUser;
    write_env("secrets.env", values);
    write_policy(R"([
      {"server": "acme.azurecr.io", "username_key": "OCIRegistry.PrivateRegistryUser",
       "secret": "OCIRegistry.PrivateRegistryPassword"},
      {"server": "https://index.docker.io/v1/", "username": "hub-user",
       "secret": "CIAdmin.JenkinsTriggerAuthToken"},
      {"server": "ghcr.io", "username": "gh-user", "secret": "Marketplace.ImportCDNPassword"}])");
  }

  void write_policy(const std::string &docker_entries,
                    const std::string &routes = R"({"*": "p"})") const {
    write("coffer.json", R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir.string()) +
                             R"(], "catalogs": ["catalog.json"],
      "providers": {"p": {"plugin": "env_file", "config": {"path": "secrets.env", "writable": true}}},
      "routes": )" + routes + R"(, "helpers": {"docker": )" +
                             docker_entries + "}}");
  }

  // The helper as docker runs it: one argument, the input on standard input.
  ProcessResult helper(const std::string &action, const std::string &input,
                       std::map<std::string, std::optional<std::string>> environment = {}) const {
    if (!environment.contains("COFFER_AGENT_SOCKET"))
      environment["COFFER_POLICY"] = (directory / "coffer.json").string();
    return run_program(built("docker-credential-coffer"), {action}, input, std::move(environment));
  }

  [[nodiscard]] std::string env_file() const {
    std::ifstream in(directory / "secrets.env", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

// What docker's client library writes for `store`: json.Encoder's output.
std::string credentials_json(const std::string &server, const std::string &user,
                             const std::string &secret) {
  json::object object{{"ServerURL", server}, {"Username", user}, {"Secret", secret}};
  return json::serialize(object) + "\n";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(protocol, Fixture)

BOOST_AUTO_TEST_CASE(get_prints_the_credentials_object) {
  auto r = helper("get", "acme.azurecr.io");
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == R"({"ServerURL":"acme.azurecr.io","Username":")" + kRegistryUser +
                          R"(","Secret":")" + kRegistryPassword + "\"}\n");
  BOOST_TEST(r.err == "");
}

BOOST_AUTO_TEST_CASE(get_answers_for_docker_hub_under_any_of_its_names) {
  auto r = helper("get", "https://index.docker.io/v1/");
  BOOST_TEST(r.status == 0, describe(r));
  json::value answer = json::parse(r.out);
  BOOST_TEST(answer.at("ServerURL").as_string() == "https://index.docker.io/v1/");
  BOOST_TEST(answer.at("Username").as_string() == "hub-user");
  BOOST_TEST(answer.at("Secret").as_string() ==
             stored_values().at("CIAdmin.JenkinsTriggerAuthToken"));
  BOOST_TEST(helper("get", "docker.io").status == 0);
}

BOOST_AUTO_TEST_CASE(an_unknown_server_is_not_found_as_docker_expects) {
  auto r = helper("get", "quay.io");
  BOOST_TEST(r.status == 1, describe(r));
  BOOST_TEST(r.out == kNotFound);
}

BOOST_AUTO_TEST_CASE(a_mapped_key_without_a_value_is_not_found_and_named) {
  auto r = helper("get", "ghcr.io");
  BOOST_TEST(r.status == 1, describe(r));
  BOOST_TEST(r.out == kNotFound);
  BOOST_TEST(contains(r.err, "ghcr.io: Marketplace.ImportCDNPassword: "), r.err);
}

BOOST_AUTO_TEST_CASE(a_denied_key_fails_without_its_value) {
  write_policy(
      R"([{"server": "acme.azurecr.io", "username": "u",
                    "secret": "OCIRegistry.PrivateRegistryPassword"}])",
      R"({"OCIRegistry": {"providers": "p", "deny": ["OCIRegistry.PrivateRegistryPassword"]},
                   "*": "p"})");
  auto r = helper("get", "acme.azurecr.io");
  BOOST_TEST(r.status == 1, describe(r));
  BOOST_TEST(contains(r.out, "OCIRegistry.PrivateRegistryPassword: "), r.out);
  BOOST_TEST(r.out != kNotFound);
  BOOST_TEST(!contains(r.out + r.err, kRegistryPassword));
}

BOOST_AUTO_TEST_CASE(get_without_a_server_is_refused_as_docker_expects) {
  auto r = helper("get", " \n");
  BOOST_TEST(r.status == 1, describe(r));
  BOOST_TEST(r.out == "no credentials server URL\n");
}

BOOST_AUTO_TEST_CASE(list_maps_each_server_to_its_user) {
  auto r = helper("list", "unused");
  BOOST_TEST(r.status == 0, describe(r));
  json::value answer = json::parse(r.out);
  json::object expected{{"acme.azurecr.io", kRegistryUser},
                        {"https://index.docker.io/v1/", "hub-user"},
                        {"ghcr.io", "gh-user"}};
  BOOST_TEST(answer == json::value(expected), r.out);
  BOOST_TEST(!contains(r.out, kRegistryPassword));
}

BOOST_AUTO_TEST_CASE(store_writes_a_new_secret_of_the_mapped_user) {
  auto r = helper("store", credentials_json("acme.azurecr.io", kRegistryUser, "oci-Rotated-77"));
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == "");
  BOOST_TEST(contains(r.err, "stored the new secret in OCIRegistry.PrivateRegistryPassword"),
             r.err);
  auto get = helper("get", "acme.azurecr.io");
  BOOST_TEST(contains(get.out, R"("Secret":"oci-Rotated-77")"), get.out);
}

BOOST_AUTO_TEST_CASE(store_of_the_same_secret_writes_nothing) {
  std::string before = env_file();
  auto when = std::filesystem::last_write_time(directory / "secrets.env");
  auto r = helper("store", credentials_json("acme.azurecr.io", kRegistryUser, kRegistryPassword));
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.err == "");
  BOOST_TEST(env_file() == before);
  BOOST_TEST((std::filesystem::last_write_time(directory / "secrets.env") == when));
}

BOOST_AUTO_TEST_CASE(store_refusals_keep_the_vault_as_it_was) {
  std::string before = env_file();
  auto other = helper("store", credentials_json("acme.azurecr.io", "mallory", "mallory-Token-1"));
  BOOST_TEST(other.status == 1, describe(other));
  BOOST_TEST(contains(other.out, "not stored: the user name is not the one the policy maps"),
             other.out);
  auto unmapped = helper("store", credentials_json("quay.io", "bob", "bob-Token-2"));
  BOOST_TEST(unmapped.status == 1, describe(unmapped));
  BOOST_TEST(contains(unmapped.out, "no \"helpers\": {\"docker\": [...]} entry for quay.io"),
             unmapped.out);
  auto no_user = helper("store", credentials_json("acme.azurecr.io", "", "x-Token-3"));
  BOOST_TEST(no_user.out == "no credentials username\n");
  auto no_server = helper("store", credentials_json("", "bob", "x-Token-4"));
  BOOST_TEST(no_server.out == "no credentials server URL\n");
  auto garbage = helper("store", "not json, but a pasted-Token-5");
  BOOST_TEST(garbage.status == 1, describe(garbage));
  std::string all = other.out + other.err + unmapped.out + unmapped.err + no_user.out +
                    no_server.out + garbage.out + garbage.err;
  for (const char *token : {"mallory-Token", "bob-Token", "x-Token", "pasted-Token"})
    BOOST_TEST(!contains(all, token), all);
  BOOST_TEST(env_file() == before);
}

// docker logout: a credential helper never deletes from the vault.
BOOST_AUTO_TEST_CASE(erase_deletes_nothing_and_says_so) {
  std::string before = env_file();
  auto r = helper("erase", "acme.azurecr.io");
  BOOST_TEST(r.status == 1, describe(r));
  BOOST_TEST(contains(r.out, "not erased: coffer keeps OCIRegistry.PrivateRegistryPassword"),
             r.out);
  BOOST_TEST(contains(r.err, "not erased"), r.err);
  BOOST_TEST(env_file() == before);
  auto unmapped = helper("erase", "quay.io");
  BOOST_TEST(unmapped.status == 0, describe(unmapped));
  BOOST_TEST(unmapped.out == "");
}

BOOST_AUTO_TEST_CASE(version_and_usage) {
  auto version = helper("version", "");
  BOOST_TEST(version.status == 0, describe(version));
  BOOST_TEST(version.out.rfind("docker-credential-coffer (coffer) ", 0) == 0u, version.out);
  auto none = run_program(built("docker-credential-coffer"), {}, "");
  BOOST_TEST(none.status == 1, describe(none));
  BOOST_TEST(none.out == "Usage: docker-credential-coffer <store|get|erase|list|version>\n");
  auto unknown = helper("frobnicate", "");
  BOOST_TEST(unknown.status == 1, describe(unknown));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(through_the_agent, Fixture)

namespace {

FakeAnswer agent_answer(const std::string &target) {
  if (target == "/v1.0-coffer/helpers/docker")
    return {200, R"([{"match": "acme.azurecr.io", "username": "agent-puller", "username_key": "",
                     "secret_key": "OCIRegistry.PrivateRegistryPassword"}])"};
  if (target == "/v1.0/secrets/coffer/OCIRegistry.PrivateRegistryPassword")
    return coffer::test::value_answer("OCIRegistry.PrivateRegistryPassword", "agent-oci-Value-9");
  return {204, ""};
}

}  // namespace

BOOST_AUTO_TEST_CASE(get_and_list_read_through_the_agent) {
  FakeAgent agent(directory / "agent.sock", agent_answer);
  std::map<std::string, std::optional<std::string>> environment{
      {"COFFER_AGENT_SOCKET", (directory / "agent.sock").string()}};
  auto get = helper("get", "acme.azurecr.io", environment);
  BOOST_TEST(get.status == 0, describe(get));
  BOOST_TEST(
      get.out ==
      R"({"ServerURL":"acme.azurecr.io","Username":"agent-puller","Secret":"agent-oci-Value-9"})"
      "\n");
  auto list = helper("list", "unused", environment);
  BOOST_TEST(list.out == "{\"acme.azurecr.io\":\"agent-puller\"}\n", describe(list));
}

BOOST_AUTO_TEST_CASE(get_and_list_through_coffer_serve) {
  coffer::test::RealAgent agent(cli, directory, directory / "coffer.json", directory / "a.sock");
  std::map<std::string, std::optional<std::string>> environment{
      {"COFFER_AGENT_SOCKET", (directory / "a.sock").string()}};
  auto get = helper("get", "acme.azurecr.io", environment);
  BOOST_TEST(get.status == 0, describe(get) + agent.log());
  BOOST_TEST(get.out == R"({"ServerURL":"acme.azurecr.io","Username":")" + kRegistryUser +
                            R"(","Secret":")" + kRegistryPassword + "\"}\n");
  auto missing = helper("get", "ghcr.io", environment);
  BOOST_TEST(missing.status == 1, describe(missing));
  BOOST_TEST(missing.out == kNotFound);
  auto list = helper("list", "unused", environment);
  BOOST_TEST(list.status == 0, describe(list));
  BOOST_TEST(contains(list.out, "\"acme.azurecr.io\":\"" + kRegistryUser + "\""), list.out);
}

BOOST_AUTO_TEST_CASE(store_through_the_agent_is_refused) {
  FakeAgent agent(directory / "agent.sock", agent_answer);
  auto r = helper("store", credentials_json("acme.azurecr.io", "agent-puller", "typed-Token-6"),
                  {{"COFFER_AGENT_SOCKET", (directory / "agent.sock").string()}});
  BOOST_TEST(r.status == 1, describe(r));
  BOOST_TEST(contains(r.out,
                      "which only reads; store it with 'coffer put "
                      "OCIRegistry.PrivateRegistryPassword'"),
             r.out);
  BOOST_TEST(!contains(r.out + r.err, "typed-Token-6"));
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// The first executable `name` in PATH; empty when there is none.
std::string find_program(const std::string &name) {
  const char *path = std::getenv("PATH");
  std::stringstream directories(path != nullptr ? path : "");
  for (std::string directory; std::getline(directories, directory, ':');) {
    std::filesystem::path candidate = std::filesystem::path(directory) / name;
    if (!directory.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

boost::test_tools::assertion_result docker_available(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result result(!find_program("docker").empty());
  result.message() << "skipped: no docker CLI in PATH";
  return result;
}

std::string basic_authorization(const std::string &user, const std::string &password) {
  std::string plain = user + ":" + password;
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(encoded.data()),
                          reinterpret_cast<const unsigned char *>(plain.data()),
                          static_cast<int>(plain.size()));
  encoded.resize(static_cast<std::size_t>(n));
  return "Basic " + encoded;
}

// A registry that knows one user: GET /v2/ answers 200 with its Basic
// credentials and 401 otherwise, which is all `docker login` asks. Speaks
// plain HTTP: the CLI tries TLS first, then HTTP on a loopback registry.
class FakeRegistry {
 public:
  FakeRegistry(std::string user, std::string password)
      : expected_(basic_authorization(user, password)),
        acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeRegistry() {
    io_.stop();
    thread_.join();
  }
  [[nodiscard]] std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  [[nodiscard]] int accepted_logins() const { return accepted_.load(); }

 private:
  struct Session {
    explicit Session(boost::asio::ip::tcp::socket s) : socket(std::move(s)) {}
    boost::asio::ip::tcp::socket socket;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    boost::beast::http::response<boost::beast::http::string_body> response;
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code error, boost::asio::ip::tcp::socket s) {
      if (error) return;
      read(std::make_shared<Session>(std::move(s)));
      accept();
    });
  }

  void read(std::shared_ptr<Session> session) {
    session->request = {};
    boost::beast::http::async_read(
        session->socket, session->buffer, session->request,
        [this, session](boost::system::error_code error, std::size_t) {
          if (error) return;  // a TLS handshake, or the end of the connection
          namespace http = boost::beast::http;
          auto &response = session->response;
          response = {};
          response.version(11);
          bool known = session->request[http::field::authorization] == expected_;
          if (known) ++accepted_;
          response.result(known ? http::status::ok : http::status::unauthorized);
          if (!known) response.set(http::field::www_authenticate, "Basic realm=\"coffer-test\"");
          response.set(http::field::content_type, "application/json");
          response.body() = "{}";
          response.prepare_payload();
          http::async_write(session->socket, response,
                            [this, session](boost::system::error_code e, std::size_t) {
                              if (!e) read(session);
                            });
        });
  }

  std::string expected_;
  std::atomic<int> accepted_{0};
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

// The Docker CLI with a configuration of the test's own, our helper first
// in PATH, and a daemon socket where no daemon listens.
struct DockerFixture : Fixture {
  DockerFixture() : registry(kRegistryUser, "oci-Rotated-Login-8") {
    write_policy(R"([{"server": ")" + registry.address() +
                 R"(", "username_key": "OCIRegistry.PrivateRegistryUser",
                      "secret": "OCIRegistry.PrivateRegistryPassword"}])");
    std::filesystem::create_directory(directory / "docker");
    write("docker/config.json", R"({"credHelpers": {")" + registry.address() + R"(": "coffer"}})");
  }

  ProcessResult docker(const std::vector<std::string> &arguments,
                       const std::string &input = {}) const {
    const char *path = std::getenv("PATH");
    std::string bin = std::filesystem::path(built("docker-credential-coffer")).parent_path();
    return run_program(find_program("docker"), arguments, input,
                       {{"PATH", bin + ":" + (path != nullptr ? path : "/usr/bin:/bin")},
                        {"DOCKER_CONFIG", (directory / "docker").string()},
                        {"DOCKER_HOST", "unix://" + (directory / "no-daemon.sock").string()},
                        {"COFFER_POLICY", (directory / "coffer.json").string()}});
  }

  [[nodiscard]] std::string read_config() const {
    std::ifstream in(directory / "docker" / "config.json", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  FakeRegistry registry;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(docker_cli, DockerFixture,
                         *boost::unit_test::precondition(docker_available))

// docker login verifies the credentials with the registry, then hands them
// to the helper (store): the new password lands in the mapped key.
BOOST_AUTO_TEST_CASE(docker_login_stores_through_the_helper) {
  auto r = docker({"login", "-u", kRegistryUser, "--password-stdin", registry.address()},
                  "oci-Rotated-Login-8");
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.out, "Login Succeeded"), r.out);
  BOOST_TEST(registry.accepted_logins() >= 1);
  BOOST_TEST(contains(r.err, "stored the new secret in OCIRegistry.PrivateRegistryPassword"),
             r.err);
  BOOST_TEST(contains(env_file(), "oci-Rotated-Login-8"));
  BOOST_TEST(!contains(read_config(), "oci-Rotated-Login-8"));
}

// With no user given, docker asks the helper (get) for what it has.
BOOST_AUTO_TEST_CASE(docker_login_reads_the_stored_user_through_the_helper) {
  auto r = docker({"login", registry.address()});
  BOOST_TEST(contains(r.out + r.err, "Authenticating with existing credentials... [Username: " +
                                         kRegistryUser + "]"),
             describe(r));
  BOOST_TEST(!contains(r.out + r.err, kRegistryPassword));
}

BOOST_AUTO_TEST_CASE(docker_logout_leaves_the_vault_alone) {
  std::string before = env_file();
  auto r = docker({"logout", registry.address()});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.err, "not erased: coffer keeps OCIRegistry.PrivateRegistryPassword"),
             r.err);
  BOOST_TEST(env_file() == before);
}

BOOST_AUTO_TEST_SUITE_END()
