// The policy's "clients" and "helpers": parsing, validation and the decision
// a peer gets.
#include <coffer/catalog.hpp>
#include <coffer/error.hpp>
#include <coffer/store.hpp>

#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "policy/peer_access.hpp"
#include "policy/policy.hpp"

using coffer::Code;
using coffer::Error;
using coffer::Peer;
namespace detail = coffer::detail;

namespace {

template <class Body>
std::string error_of(Body &&body) {
  try {
    body();
  } catch (const Error &e) {
    BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(Code::invalid_config));
    return e.what();
  }
  BOOST_FAIL("expected an error");
  return {};
}

// A policy whose line 3 onwards is `sections` (each a top-level member).
detail::Policy parse(const std::string &sections) {
  return detail::parse_policy("policy.json",
                              "{\"coffer\": 1,\n \"providers\": {\"p\": {\"plugin\": \"memory\"}}, "
                              "\"routes\": {\"*\": \"p\"},\n" +
                                  sections + "}",
                              "/etc/coffer");
}

// The message of a policy that must not load, checking the line it names.
std::string error_at(const std::string &sections, int line) {
  std::string message = error_of([&] { parse(sections); });
  std::string where = "policy.json:" + std::to_string(line) + ":";
  BOOST_TEST(message.rfind(where, 0) == 0u, message);
  return message;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

// Ids no test runs as: the Store's own uid is allowed by default.
std::uint32_t uid_a() {
  return ::geteuid() == 70001 ? 70011 : 70001;
}
std::uint32_t uid_b() {
  return ::geteuid() == 70002 ? 70012 : 70002;
}
constexpr std::uint32_t kGid = 70100;

Peer unix_peer(std::uint32_t uid, std::uint32_t gid = 70999) {
  Peer peer;
  peer.uid = uid;
  peer.gid = gid;
  peer.pid = 4242;
  return peer;
}

// The decision as a Store running as this process's effective uid makes it.
detail::PeerDecision decide(const detail::Policy &policy, const Peer &peer, std::string_view key) {
  return detail::decide_peer(policy, peer, key, ::geteuid());
}

Peer token_peer(const std::string &client) {
  Peer peer;
  peer.client = client;
  return peer;
}

std::string clients(const std::string &body) {
  return "\"clients\": {\n" + body + "}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(clients_parsing)

BOOST_AUTO_TEST_CASE(clients_parse_with_numbers_and_names) {
  auto p =
      parse(clients("\"builds\": {\"uids\": [1001, \"root\"], \"gids\": [\"root\", 2000], "
                    "\"allow\": [\"VCS.*\", \"BuildCluster.RegistryPassword\"], \"deny\": "
                    "[\"VCS.AzureAuthSecret\"]},\n"
                    "\"java-app\": {\"allow\": [\"Email.*\", \"*\"]}"));
  BOOST_TEST(p.has_clients);
  BOOST_REQUIRE(p.clients.size() == 2u);
  const detail::Client *builds = p.client("builds");
  BOOST_REQUIRE(builds != nullptr);
  BOOST_TEST((builds->uids == std::vector<std::uint32_t>{1001, 0}));
  BOOST_TEST((builds->gids == std::vector<std::uint32_t>{0, 2000}));
  BOOST_TEST(builds->allow.size() == 2u);
  BOOST_TEST(builds->deny.front() == "VCS.AzureAuthSecret");
  BOOST_TEST(p.client("java-app")->uids.empty());
  BOOST_TEST(p.client("nobody-here") == nullptr);
  BOOST_TEST(!parse("\"timeout_ms\": 5").has_clients);
}

BOOST_AUTO_TEST_CASE(unknown_user_and_group_names_are_errors_at_their_line) {
  std::string user = error_at(clients("\"a\": {\"allow\": [],\n \"uids\": [\n 1, \"no-such-user-"
                                      "c0ffer\"]}"),
                              6);
  BOOST_TEST(contains(user, "clients.a.uids[1]"), user);
  BOOST_TEST(contains(user, "no user named 'no-such-user-c0ffer'"), user);
  std::string group =
      error_at(clients("\"a\": {\"allow\": [],\n \"gids\": [\"no-such-group-c0ffer\"]}"), 5);
  BOOST_TEST(contains(group, "no group named 'no-such-group-c0ffer'"), group);
  std::string quoted = error_at(clients("\"a\": {\"allow\": [], \"uids\": [\"1001\"]}"), 4);
  BOOST_TEST(contains(quoted, "without quotes"), quoted);
}

BOOST_AUTO_TEST_CASE(ids_of_the_wrong_type_or_range_and_duplicates_are_errors) {
  BOOST_TEST(contains(error_at(clients("\"a\": {\"allow\": [],\n \"uids\": 1001}"), 5),
                      "expected a list of user ids"));
  BOOST_TEST(contains(error_at(clients("\"a\": {\"allow\": [], \"uids\": [-1]}"), 4),
                      "at most 4294967294 (user ids)"));
  BOOST_TEST(contains(error_at(clients("\"a\": {\"allow\": [], \"uids\": [4294967295]}"), 4),
                      "at most 4294967294 (user ids)"));
  BOOST_TEST(
      contains(error_at(clients("\"a\": {\"allow\": [], \"gids\": [1.5]}"), 4), "a whole number"));
  BOOST_TEST(contains(error_at(clients("\"a\": {\"allow\": [], \"gids\": [true]}"), 4),
                      "expected a group id (a number) or a group name"));
  std::string twice = error_at(clients("\"a\": {\"allow\": [], \"uids\": [0,\n \"root\"]}"), 5);
  BOOST_TEST(contains(twice, "uid 0 is named twice"), twice);
}

BOOST_AUTO_TEST_CASE(client_fields_names_and_patterns_are_checked) {
  std::string unknown = error_at(clients("\"a\": {\"allow\": [],\n \"deni\": []}"), 5);
  BOOST_TEST(contains(unknown, "clients.a.deni"), unknown);
  BOOST_TEST(contains(unknown, "did you mean 'deny'"), unknown);
  std::string name = error_at(clients("\"9lives\": {\"allow\": []}"), 4);
  BOOST_TEST(contains(name, "client name '9lives' must start with a letter"), name);
  BOOST_TEST(contains(error_at(clients("\"a\": {\"uids\": [1]}"), 4), "expected \"allow\""));
  BOOST_TEST(
      contains(error_at(clients("\"a\": {\"allow\": \"*\"}"), 4), "expected a list of keys"));
  std::string pattern = error_at(clients("\"a\": {\"allow\": [\"VCS.*\",\n \"VCS.Git*\"]}"), 5);
  BOOST_TEST(contains(pattern, "'VCS.Git*' is not a key pattern"), pattern);
  std::string twice = error_at(clients("\"a\": {\"allow\": [], \"deny\": [\"*\",\n \"*\"]}"), 5);
  BOOST_TEST(contains(twice, "'*' appears twice"), twice);
  BOOST_TEST(contains(error_at(clients("\"a\": 7"), 4), "expected an object"));
  BOOST_TEST(contains(error_at("\"clients\": []", 3), "expected an object"));
  // A member named twice: both places.
  std::string duplicate =
      error_at(clients("\"a\": {\"allow\": []},\n \"a\": {\"allow\": [\"*\"]}"), 5);
  BOOST_TEST(contains(duplicate, "\"a\" appears twice"), duplicate);
}

BOOST_AUTO_TEST_CASE(client_keys_must_be_in_the_catalog_unless_unknown_keys_are_allowed) {
  auto catalog = coffer::Catalog::builtin();
  auto p = parse(clients("\"a\": {\"allow\": [\"VCS.*\"],\n \"deny\": [\"VCS.GithubAdminPat\"]}"));
  std::string typo = error_of([&] { detail::check_policy_keys(p, catalog, false); });
  BOOST_TEST(typo.rfind("policy.json:5:", 0) == 0u, typo);
  BOOST_TEST(contains(typo, "clients.a.deny[0]"), typo);
  BOOST_TEST(contains(typo, "did you mean 'VCS.GithubAdminPAT'"), typo);
  BOOST_CHECK_NO_THROW(detail::check_policy_keys(p, catalog, true));
  auto category = parse(clients("\"a\": {\"allow\": [\"VSC.*\"]}"));
  std::string wrong = error_of([&] { detail::check_policy_keys(category, catalog, false); });
  BOOST_TEST(contains(wrong, "no catalog has the category 'VSC'"), wrong);
  BOOST_TEST(contains(wrong, "did you mean 'VCS'"), wrong);
  BOOST_CHECK_NO_THROW(detail::check_policy_keys(
      parse(clients("\"a\": {\"allow\": [\"VCS.*\", \"Email.SMTPPassword\", \"*\"]}")), catalog,
      false));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(peer_decisions)

BOOST_AUTO_TEST_CASE(a_peer_is_matched_by_uid_or_primary_gid) {
  auto p = parse(clients("\"by-uid\": {\"uids\": [" + std::to_string(uid_a()) +
                         "], \"allow\": [\"VCS.*\"]},\n"
                         "\"by-gid\": {\"gids\": [" +
                         std::to_string(kGid) + "], \"allow\": [\"Email.SMTPPassword\"]}"));
  BOOST_TEST(decide(p, unix_peer(uid_a()), "VCS.GithubAdminPAT").allowed);
  BOOST_TEST(!decide(p, unix_peer(uid_a()), "Email.SMTPPassword").allowed);
  BOOST_TEST(decide(p, unix_peer(uid_b(), kGid), "Email.SMTPPassword").allowed);
  BOOST_TEST(!decide(p, unix_peer(uid_b(), kGid), "VCS.GithubAdminPAT").allowed);
  // Matched by both: either client's allow will do.
  BOOST_TEST(decide(p, unix_peer(uid_a(), kGid), "Email.SMTPPassword").allowed);
  BOOST_TEST(decide(p, unix_peer(uid_a(), kGid), "VCS.GithubAdminPAT").allowed);
  auto refused = decide(p, unix_peer(uid_a()), "Email.SMTPPassword");
  BOOST_TEST(contains(refused.refusal, "client 'by-uid'"), refused.refusal);
  BOOST_TEST(contains(refused.refusal, "not in clients.by-uid.allow"), refused.refusal);
  BOOST_TEST(contains(refused.refusal, "Email.SMTPPassword"), refused.refusal);
}

BOOST_AUTO_TEST_CASE(a_peer_no_client_names_is_refused_unless_it_is_the_own_uid) {
  auto p =
      parse(clients("\"a\": {\"uids\": [" + std::to_string(uid_a()) + "], \"allow\": [\"*\"]}"));
  auto stranger = decide(p, unix_peer(uid_b()), "VCS.GithubAdminPAT");
  BOOST_TEST(!stranger.allowed);
  BOOST_TEST(contains(stranger.refusal, "uid " + std::to_string(uid_b())), stranger.refusal);
  BOOST_TEST(contains(stranger.refusal, "pid 4242"), stranger.refusal);
  BOOST_TEST(contains(stranger.refusal, "no entry of \"clients\" names its uid or gid"),
             stranger.refusal);
  BOOST_TEST(decide(p, unix_peer(::geteuid()), "VCS.GithubAdminPAT").allowed);
}

BOOST_AUTO_TEST_CASE(the_own_uid_is_the_one_the_store_runs_as) {
  auto p = parse(clients("\"a\": {\"uids\": [" + std::to_string(uid_b()) + "], \"allow\": []}"));
  BOOST_TEST(detail::decide_peer(p, unix_peer(uid_a()), "Email.SMTPPassword", uid_a()).allowed);
  BOOST_TEST(!detail::decide_peer(p, unix_peer(uid_a()), "Email.SMTPPassword", uid_b()).allowed);
}

BOOST_AUTO_TEST_CASE(the_own_uid_named_by_a_client_gets_that_clients_rules) {
  auto p = parse(clients("\"self\": {\"uids\": [" + std::to_string(::geteuid()) +
                         "], \"allow\": [\"Email.*\"]}"));
  BOOST_TEST(decide(p, unix_peer(::geteuid()), "Email.SMTPPassword").allowed);
  BOOST_TEST(!decide(p, unix_peer(::geteuid()), "VCS.GithubAdminPAT").allowed);
}

BOOST_AUTO_TEST_CASE(deny_wins_over_any_allow) {
  auto p = parse(clients("\"wide\": {\"uids\": [" + std::to_string(uid_a()) +
                         "], \"allow\": [\"*\"]},\n"
                         "\"narrow\": {\"gids\": [" +
                         std::to_string(kGid) +
                         "], \"allow\": [\"VCS.*\"], \"deny\": [\"VCS.AzureAuthSecret\"]}"));
  BOOST_TEST(decide(p, unix_peer(uid_a()), "VCS.AzureAuthSecret").allowed);
  auto both = decide(p, unix_peer(uid_a(), kGid), "VCS.AzureAuthSecret");
  BOOST_TEST(!both.allowed);
  BOOST_TEST(contains(both.refusal, "clients.narrow.deny \"VCS.AzureAuthSecret\""), both.refusal);
  BOOST_TEST(decide(p, unix_peer(uid_a(), kGid), "VCS.GithubAdminPAT").allowed);
  auto own = parse(clients("\"a\": {\"allow\": [\"VCS.*\"], \"deny\": [\"VCS.*\"]}"));
  BOOST_TEST(!decide(own, token_peer("a"), "VCS.GithubAdminPAT").allowed);
}

BOOST_AUTO_TEST_CASE(without_a_clients_section_only_the_own_uid_may_read) {
  auto p = parse("\"timeout_ms\": 1000");
  BOOST_TEST(decide(p, unix_peer(::geteuid()), "VCS.GithubAdminPAT").allowed);
  auto other = decide(p, unix_peer(uid_a()), "VCS.GithubAdminPAT");
  BOOST_TEST(!other.allowed);
  BOOST_TEST(contains(other.refusal, "no \"clients\" section"), other.refusal);
  auto token = decide(p, token_peer("builds"), "VCS.GithubAdminPAT");
  BOOST_TEST(!token.allowed);
  BOOST_TEST(contains(token.refusal, "client 'builds'"), token.refusal);
}

BOOST_AUTO_TEST_CASE(a_token_client_gets_its_own_rules_alone) {
  auto p = parse(clients("\"ci\": {\"uids\": [" + std::to_string(uid_a()) +
                         "], \"allow\": [\"Email.*\"]},\n"
                         "\"wide\": {\"gids\": [0], \"allow\": [\"*\"]}"));
  Peer ci = token_peer("ci");
  ci.uid = 0;  // ignored for a token client, though "wide" names gid 0
  ci.gid = 0;
  BOOST_TEST(decide(p, ci, "Email.SMTPPassword").allowed);
  auto refused = decide(p, ci, "VCS.GithubAdminPAT");
  BOOST_TEST(!refused.allowed);
  BOOST_TEST(contains(refused.refusal, "client 'ci'"), refused.refusal);
  BOOST_TEST(contains(refused.refusal, "clients.ci.allow"), refused.refusal);
}

BOOST_AUTO_TEST_CASE(an_unknown_token_client_is_refused) {
  auto p = parse(clients("\"ci\": {\"allow\": [\"*\"]}"));
  auto refused = decide(p, token_peer("cj"), "Email.SMTPPassword");
  BOOST_TEST(!refused.allowed);
  BOOST_TEST(contains(refused.refusal, "client 'cj'"), refused.refusal);
  BOOST_TEST(contains(refused.refusal, "no entry of that name"), refused.refusal);
}

BOOST_AUTO_TEST_CASE(an_empty_allow_list_allows_nothing) {
  auto p = parse(clients("\"none\": {\"allow\": []}"));
  BOOST_TEST(!decide(p, token_peer("none"), "Email.SMTPPassword").allowed);
}

BOOST_AUTO_TEST_CASE(patterns_cover_every_key_a_category_or_one_key) {
  BOOST_TEST(detail::pattern_covers("*", "VCS.GithubAdminPAT"));
  BOOST_TEST(detail::pattern_covers("VCS.*", "VCS.GithubAdminPAT"));
  BOOST_TEST(!detail::pattern_covers("VCS.*", "VCSX.GithubAdminPAT"));
  BOOST_TEST(!detail::pattern_covers("VC.*", "VCS.GithubAdminPAT"));
  BOOST_TEST(detail::pattern_covers("VCS.GithubAdminPAT", "VCS.GithubAdminPAT"));
  BOOST_TEST(!detail::pattern_covers("VCS.GithubAdminPA", "VCS.GithubAdminPAT"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(helpers_parsing)

BOOST_AUTO_TEST_CASE(helpers_parse_in_policy_order) {
  auto p = parse(
      "\"helpers\": {\"git\": [{\"url\": \"https://github.com/acme\", \"username\": "
      "\"x-access-token\", \"secret\": \"VCS.GithubAdminPAT\"},\n"
      "{\"url\": \"https://gitlab.example.com:8443\", \"username_key\": \"VCS.GitlabUser\", "
      "\"secret\": \"VCS.GitlabAdminPAT\"}],\n"
      "\"docker\": [{\"server\": \"acme.azurecr.io\", \"username_key\": "
      "\"BuildCluster.RegistryUser\", \"secret\": \"BuildCluster.RegistryPassword\"},\n"
      "{\"server\": \"https://index.docker.io/v1/\", \"username\": \"acme\", \"secret\": "
      "\"BuildCluster.RegistryPassword\"}]}");
  const auto &git = p.helpers.at("git");
  BOOST_REQUIRE(git.size() == 2u);
  BOOST_TEST(git[0].match == "https://github.com/acme");
  BOOST_TEST(git[0].username == "x-access-token");
  BOOST_TEST(git[0].username_key.empty());
  BOOST_TEST(git[0].secret_key == "VCS.GithubAdminPAT");
  BOOST_TEST(git[1].username_key == "VCS.GitlabUser");
  const auto &docker = p.helpers.at("docker");
  BOOST_REQUIRE(docker.size() == 2u);
  BOOST_TEST(docker[0].match == "acme.azurecr.io");
  BOOST_TEST(docker[1].match == "https://index.docker.io/v1/");
}

BOOST_AUTO_TEST_CASE(helper_errors_name_the_line_and_field) {
  auto git = [](const std::string &entry) { return "\"helpers\": {\"git\": [\n" + entry + "]}"; };
  std::string tool = error_at("\"helpers\": {\n\"gti\": []}", 4);
  BOOST_TEST(contains(tool, "did you mean 'git'"), tool);
  std::string both = error_at(git("{\"url\": \"https://h\", \"username\": \"u\", \"username_key\": "
                                  "\"VCS.U\", \"secret\": \"VCS.S\"}"),
                              4);
  BOOST_TEST(contains(both, "not both"), both);
  BOOST_TEST(contains(error_at(git("{\"url\": \"https://h\", \"secret\": \"VCS.S\"}"), 4),
                      "expected \"username\""));
  BOOST_TEST(contains(error_at(git("{\"url\": \"https://h\", \"username\": \"u\"}"), 4),
                      "expected \"secret\""));
  std::string key =
      error_at(git("{\"url\": \"https://h\", \"username\": \"u\", \"secret\": \"token\"}"), 4);
  BOOST_TEST(contains(key, "helpers.git[0].secret"), key);
  BOOST_TEST(contains(key, "canonical key"), key);
  std::string userinfo = error_at(
      git("{\"url\": \"https://me@github.com\", \"username\": \"u\", \"secret\": \"VCS.S\"}"), 4);
  BOOST_TEST(contains(userinfo, "user info"), userinfo);
  BOOST_TEST(contains(error_at(git("{\"url\": \"https://github.com/a?x=1\", \"username\": \"u\", "
                                   "\"secret\": \"VCS.S\"}"),
                               4),
                      "query"));
  BOOST_TEST(contains(
      error_at(git("{\"url\": \"github.com/acme\", \"username\": \"u\", \"secret\": \"VCS.S\"}"),
               4),
      "scheme://host"));
  BOOST_TEST(contains(error_at(git("{\"url\": \"https://h:99999\", \"username\": \"u\", "
                                   "\"secret\": \"VCS.S\"}"),
                               4),
                      "port"));
  std::string field =
      error_at(git("{\"server\": \"h\", \"username\": \"u\", \"secret\": \"VCS.S\"}"), 4);
  BOOST_TEST(contains(field, "helpers.git[0].server"), field);
  std::string twice =
      error_at(git("{\"url\": \"https://h\", \"username\": \"u\", \"secret\": \"VCS.S\"},\n"
                   "{\"url\": \"https://h\", \"username\": \"v\", \"secret\": \"VCS.T\"}"),
               5);
  BOOST_TEST(contains(twice, "already matched by helpers.git[0]"), twice);
  BOOST_TEST(contains(error_at("\"helpers\": {\"docker\": [\n{\"server\": \"a b\", \"username\": "
                               "\"u\", \"secret\": \"VCS.S\"}]}",
                               4),
                      "spaces"));
}

BOOST_AUTO_TEST_CASE(helper_keys_must_be_in_the_catalog) {
  auto catalog = coffer::Catalog::builtin();
  auto p = parse(
      "\"helpers\": {\"docker\": [{\"server\": \"acme.azurecr.io\",\n \"username_key\": "
      "\"OCIRegistry.PrivateRegistryPasword\", \"secret\": "
      "\"OCIRegistry.PrivateRegistryPassword\"}]}");
  std::string message = error_of([&] { detail::check_policy_keys(p, catalog, false); });
  BOOST_TEST(message.rfind("policy.json:4:", 0) == 0u, message);
  BOOST_TEST(contains(message, "helpers.docker[0].username_key"), message);
  BOOST_TEST(contains(message, "did you mean 'OCIRegistry.PrivateRegistryPassword'"), message);
}

BOOST_AUTO_TEST_SUITE_END()
