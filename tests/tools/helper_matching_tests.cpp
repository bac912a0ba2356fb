// The credential helpers' protocol parsing and the matching of the policy's
// "helpers" entries, without git, docker or a policy.
#define BOOST_TEST_MODULE helper_matching_tests
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "docker_server.hpp"
#include "git_request.hpp"

using coffer::HelperEntry;
using coffer::helpers::docker_registry;
using coffer::helpers::GitRequest;
using coffer::helpers::matching_docker_entry;
using coffer::helpers::matching_git_entries;
using coffer::helpers::parse_git_request;

namespace {

HelperEntry entry(std::string match, std::string secret = "VCS.GithubAdminPAT") {
  HelperEntry e;
  e.match = std::move(match);
  e.username = "x-access-token";
  e.secret_key = std::move(secret);
  return e;
}

GitRequest request(std::string protocol, std::string host, std::string path = {}) {
  GitRequest r;
  r.protocol = std::move(protocol);
  r.host = std::move(host);
  r.path = std::move(path);
  return r;
}

// The "url" of each entry that matches, best first.
std::vector<std::string> matches(const std::vector<HelperEntry> &entries, const GitRequest &r) {
  std::vector<std::string> out;
  for (const auto *e : matching_git_entries(entries, r)) out.push_back(e->match);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(git_protocol)

BOOST_AUTO_TEST_CASE(a_description_ends_at_the_blank_line) {
  GitRequest r = parse_git_request(
      "protocol=https\nhost=github.com:8443\npath=acme/repo.git\nusername=bob\npassword=p=w\n"
      "wwwauth[]=Basic realm=\"x\"\ncapability[]=authtype\nno-equals-sign\n\nhost=evil.example\n");
  BOOST_TEST(r.protocol == "https");
  BOOST_TEST(r.host == "github.com:8443");
  BOOST_TEST(r.path == "acme/repo.git");
  BOOST_TEST_REQUIRE(r.username.has_value());
  BOOST_TEST(*r.username == "bob");
  BOOST_TEST(r.password.reveal() == "p=w");
}

BOOST_AUTO_TEST_CASE(no_username_is_not_an_empty_one) {
  BOOST_TEST(!parse_git_request("protocol=https\nhost=h\n").username.has_value());
  BOOST_TEST(parse_git_request("protocol=https\nhost=h\nusername=\n").username.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(git_matching)

BOOST_AUTO_TEST_CASE(the_longest_url_prefix_wins) {
  std::vector<HelperEntry> entries{entry("https://github.com"), entry("https://github.com/acme"),
                                   entry("https://github.com/acme/repo")};
  std::vector<std::string> expected{"https://github.com/acme/repo", "https://github.com/acme",
                                    "https://github.com"};
  BOOST_TEST(matches(entries, request("https", "github.com", "acme/repo.git")) == expected,
             boost::test_tools::per_element());
  std::vector<std::string> org{"https://github.com/acme", "https://github.com"};
  BOOST_TEST(matches(entries, request("https", "github.com", "acme/other.git")) == org,
             boost::test_tools::per_element());
}

// Without credential.useHttpPath git sends no path: an entry for one
// organisation must not answer for the whole host.
BOOST_AUTO_TEST_CASE(an_entry_with_a_path_needs_the_path) {
  std::vector<HelperEntry> entries{entry("https://github.com/acme")};
  BOOST_TEST(matches(entries, request("https", "github.com")).empty());
}

BOOST_AUTO_TEST_CASE(prefixes_end_at_a_segment) {
  std::vector<HelperEntry> entries{entry("https://github.com/acme")};
  BOOST_TEST(matches(entries, request("https", "github.com", "acme-evil/repo.git")).empty());
  BOOST_TEST(matches(entries, request("https", "github.com", "acmerepo")).empty());
  BOOST_TEST(matches(entries, request("https", "github.com", "acme")).size() == 1u);
  BOOST_TEST(matches(entries, request("https", "github.com", "acme.git")).size() == 1u);
  BOOST_TEST(matches(entries, request("https", "github.com", "acme/")).size() == 1u);
}

BOOST_AUTO_TEST_CASE(scheme_host_and_port_must_be_the_same) {
  std::vector<HelperEntry> entries{entry("https://GitHub.com"), entry("https://git.example:8443")};
  BOOST_TEST(matches(entries, request("https", "github.com")).size() == 1u);
  BOOST_TEST(matches(entries, request("HTTPS", "GITHUB.COM")).size() == 1u);
  BOOST_TEST(matches(entries, request("http", "github.com")).empty());
  BOOST_TEST(matches(entries, request("https", "github.com.evil.example")).empty());
  BOOST_TEST(matches(entries, request("https", "evil.github.com")).empty());
  BOOST_TEST(matches(entries, request("https", "git.example")).empty());
  BOOST_TEST(matches(entries, request("https", "git.example:8443")).size() == 1u);
  BOOST_TEST(matches(entries, request("https", "github.com:443")).empty());
}

BOOST_AUTO_TEST_CASE(equal_lengths_keep_the_policy_order) {
  std::vector<HelperEntry> entries{entry("https://h/a", "A.One"), entry("https://h/b", "A.Two"),
                                   entry("https://h", "A.Three")};
  auto found = matching_git_entries(entries, request("https", "h", "a/x"));
  BOOST_TEST_REQUIRE(found.size() == 2u);
  BOOST_TEST(found[0]->secret_key == "A.One");
  BOOST_TEST(found[1]->secret_key == "A.Three");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(docker_matching)

BOOST_AUTO_TEST_CASE(a_server_names_a_registry) {
  BOOST_TEST(docker_registry("acme.azurecr.io") == "acme.azurecr.io");
  BOOST_TEST(docker_registry("https://Acme.AzureCR.io/") == "acme.azurecr.io");
  BOOST_TEST(docker_registry("localhost:5000") == "localhost:5000");
  BOOST_TEST(docker_registry("http://localhost:5000/v2/") == "localhost:5000");
  BOOST_TEST(docker_registry("https://index.docker.io/v1/") == "index.docker.io");
  BOOST_TEST(docker_registry("docker.io") == "index.docker.io");
  BOOST_TEST(docker_registry("registry-1.docker.io") == "index.docker.io");
}

BOOST_AUTO_TEST_CASE(the_first_entry_for_the_registry_answers) {
  std::vector<HelperEntry> entries{
      entry("ghcr.io", "A.One"), entry("https://acme.azurecr.io", "A.Two"),
      entry("acme.azurecr.io", "A.Three"), entry("docker.io", "A.Four")};
  BOOST_TEST(matching_docker_entry(entries, "acme.azurecr.io")->secret_key == "A.Two");
  BOOST_TEST(matching_docker_entry(entries, "https://index.docker.io/v1/")->secret_key == "A.Four");
  BOOST_TEST(matching_docker_entry(entries, "acme.azurecr.io.evil.example") == nullptr);
  BOOST_TEST(matching_docker_entry(entries, "acme.azurecr.io:5000") == nullptr);
  BOOST_TEST(matching_docker_entry(entries, "") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
