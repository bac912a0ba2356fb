// Per-peer authorization through the Store: every get path, the cache, the
// audit log, the observer and reloads, over the in-memory test provider.
#include <coffer/store.hpp>

#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <future>
#include <mutex>
#include <sstream>

#include "temp_directory.hpp"
#include "test_policy.hpp"

using coffer::Code;
using coffer::GetOptions;
using coffer::Peer;
using coffer::Store;

namespace {

const std::string kMail = "m4il-VALUE-3f9a";  // must never appear in a refusal or audit line
const std::string kPat = "p4t-VALUE-c81d";
const std::string kAzure = "4zure-VALUE-0b7e";

std::uint32_t builder_uid() {
  return ::geteuid() == 70001 ? 70011 : 70001;
}
std::uint32_t stranger_uid() {
  return ::geteuid() == 70002 ? 70012 : 70002;
}

// `clients` is the body of the "clients" section ("" leaves it out); `extra`
// adds top-level members.
std::string policy(const std::string &clients, const std::string &extra = "") {
  return "{\"coffer\": 1, " + coffer::test::plugin_dirs_json() +
         ",\n \"providers\": {\"p\": {\"plugin\": \"memory\", \"config\": {\"values\": "
         "{\"Email.SMTPPassword\": \"" +
         kMail + "\", \"VCS.GithubAdminPAT\": \"" + kPat + "\", \"VCS.AzureAuthSecret\": \"" +
         kAzure +
         "\"}}}},\n \"routes\": {\"VCS\": {\"providers\": \"p\", \"deny\": "
         "[\"VCS.GitlabAdminPAT\"]}, \"*\": \"p\"}" +
         (clients.empty() ? std::string() : ",\n \"clients\": {" + clients + "}") + extra + "}";
}

// "builds" (by uid) may read VCS but not VCS.AzureAuthSecret; "mailer" (a
// token client) Email only.
std::string builds_and_mailer() {
  return "\"builds\": {\"uids\": [" + std::to_string(builder_uid()) +
         "], \"allow\": [\"VCS.*\"], \"deny\": [\"VCS.AzureAuthSecret\"]},\n"
         "\"mailer\": {\"allow\": [\"Email.*\"]}";
}

Peer unix_peer(std::uint32_t uid) {
  Peer peer;
  peer.uid = uid;
  peer.gid = 70999;
  peer.pid = 31337;
  return peer;
}

Peer token_peer(const std::string &client) {
  Peer peer;
  peer.client = client;
  return peer;
}

GetOptions as(const Peer &peer) {
  GetOptions options;
  options.peer = &peer;
  return options;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

void no_value_in(const std::string &text) {
  BOOST_TEST(!contains(text, kMail), text);
  BOOST_TEST(!contains(text, kPat), text);
  BOOST_TEST(!contains(text, kAzure), text);
}

std::int64_t provider_gets(Store &store) {
  auto stats = boost::json::parse(store.admin("p", "stats"));
  return stats.as_object().at("gets").as_int64();
}

std::vector<boost::json::object> audit_lines(const std::filesystem::path &file) {
  std::vector<boost::json::object> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    no_value_in(line);
    out.push_back(boost::json::parse(line).as_object());
  }
  return out;
}

Code async_code(Store &store, const std::string &key, const GetOptions &options) {
  std::promise<coffer::Result> promise;
  auto future = promise.get_future();
  store.get_async(
      key, [&promise](coffer::Result r) { promise.set_value(std::move(r)); }, options);
  BOOST_REQUIRE(future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  coffer::Result r = future.get();
  no_value_in(r.message);
  if (!r.ok()) BOOST_TEST(r.secret.empty());
  return r.code;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(peer_access)

BOOST_AUTO_TEST_CASE(every_get_path_refuses_a_peer_the_clients_do_not_allow) {
  Store store = Store::from_string(policy(builds_and_mailer()));
  Peer builder = unix_peer(builder_uid());
  Peer stranger = unix_peer(stranger_uid());
  Peer mailer = token_peer("mailer");

  // get
  BOOST_TEST(store.get("VCS.GithubAdminPAT", as(builder)).reveal() == kPat);
  try {
    (void)store.get("VCS.AzureAuthSecret", as(builder));
    BOOST_FAIL("expected a refusal");
  } catch (const coffer::Error &e) {
    BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(Code::denied));
    BOOST_TEST(contains(e.what(), "client 'builds'"), e.what());
    BOOST_TEST(contains(e.what(), "clients.builds.deny \"VCS.AzureAuthSecret\""), e.what());
    no_value_in(e.what());
  }
  // try_get
  auto refused = store.try_get("Email.SMTPPassword", as(stranger));
  BOOST_TEST((refused.code == Code::denied));
  BOOST_TEST(contains(refused.message, "uid " + std::to_string(stranger_uid())), refused.message);
  BOOST_TEST(contains(refused.message, "no entry of \"clients\" names its uid or gid"),
             refused.message);
  BOOST_TEST(refused.secret.empty());
  BOOST_TEST(store.try_get("Email.SMTPPassword", as(mailer)).secret.reveal() == kMail);
  BOOST_TEST((store.try_get("VCS.GithubAdminPAT", as(mailer)).code == Code::denied));
  // get_async
  BOOST_TEST((async_code(store, "Email.SMTPPassword", as(mailer)) == Code::ok));
  BOOST_TEST((async_code(store, "VCS.GithubAdminPAT", as(mailer)) == Code::denied));
  BOOST_TEST((async_code(store, "VCS.GithubAdminPAT", as(stranger)) == Code::denied));
  // get_many
  std::vector<std::string> keys = {"VCS.GithubAdminPAT", "VCS.AzureAuthSecret",
                                   "Email.SMTPPassword"};
  auto many = store.get_many(keys, as(builder));
  BOOST_TEST((many[0].code == Code::ok));
  BOOST_TEST((many[1].code == Code::denied));
  BOOST_TEST((many[2].code == Code::denied));
  BOOST_TEST(many[1].secret.empty());
  BOOST_TEST(many[2].secret.empty());
  // get_from: no route, but the clients still decide
  auto direct = store.get_from("p", "VCS.AzureAuthSecret", as(builder));
  BOOST_TEST((direct.code == Code::denied));
  BOOST_TEST(direct.secret.empty());
  no_value_in(direct.message);
  BOOST_TEST(store.get_from("p", "VCS.GithubAdminPAT", as(builder)).secret.reveal() == kPat);
  // Without a peer, the host reads as before.
  BOOST_TEST(store.get("VCS.AzureAuthSecret").reveal() == kAzure);
}

BOOST_AUTO_TEST_CASE(a_cached_value_never_reaches_a_refused_peer) {
  Store store = Store::from_string(policy(builds_and_mailer()));
  Peer builder = unix_peer(builder_uid());
  // Cached by reads the clients allow.
  BOOST_TEST(store.get("VCS.AzureAuthSecret").reveal() == kAzure);
  BOOST_TEST(store.get("Email.SMTPPassword", as(token_peer("mailer"))).reveal() == kMail);
  std::int64_t asked = provider_gets(store);
  for (int i = 0; i < 3; ++i) {
    auto r = store.try_get("VCS.AzureAuthSecret", as(builder));
    BOOST_TEST((r.code == Code::denied));
    BOOST_TEST(r.secret.empty());
    BOOST_TEST((store.try_get("Email.SMTPPassword", as(builder)).code == Code::denied));
    BOOST_TEST((async_code(store, "VCS.AzureAuthSecret", as(builder)) == Code::denied));
    std::vector<std::string> keys = {"Email.SMTPPassword"};
    BOOST_TEST((store.get_many(keys, as(builder))[0].code == Code::denied));
  }
  // An allowed peer is served from the same cache; nobody asked the provider.
  BOOST_TEST(store.get("Email.SMTPPassword", as(token_peer("mailer"))).reveal() == kMail);
  BOOST_TEST(provider_gets(store) == asked);
}

BOOST_AUTO_TEST_CASE(the_routes_own_allow_and_deny_come_first) {
  // The clients would refuse it too: the route's refusal is the one reported.
  Store store = Store::from_string(
      policy("\"all\": {\"allow\": [\"*\"], \"deny\": [\"VCS.GitlabAdminPAT\"]}"));
  auto r = store.try_get("VCS.GitlabAdminPAT", as(token_peer("all")));
  BOOST_TEST((r.code == Code::denied));
  BOOST_TEST(contains(r.message, "routes.VCS.deny"), r.message);
  // A client cannot widen what the routes serve, not even naming the provider.
  BOOST_TEST(!store.permits(token_peer("all"), "VCS.GitlabAdminPAT"));
  auto direct = store.get_from("p", "VCS.GitlabAdminPAT", as(token_peer("all")));
  BOOST_TEST((direct.code == Code::denied));
  BOOST_TEST(contains(direct.message, "routes.VCS.deny"), direct.message);
  // Without a peer, get_from stays the administrator's direct read.
  BOOST_TEST((store.get_from("p", "VCS.GitlabAdminPAT").code == Code::not_found));
}

BOOST_AUTO_TEST_CASE(without_clients_only_the_own_uid_reads) {
  Store store = Store::from_string(policy(""));
  BOOST_TEST(store.get("VCS.GithubAdminPAT", as(unix_peer(::geteuid()))).reveal() == kPat);
  auto other = store.try_get("VCS.GithubAdminPAT", as(unix_peer(builder_uid())));
  BOOST_TEST((other.code == Code::denied));
  BOOST_TEST(contains(other.message, "no \"clients\" section"), other.message);
  BOOST_TEST((store.try_get("VCS.GithubAdminPAT", as(token_peer("builds"))).code == Code::denied));
}

BOOST_AUTO_TEST_CASE(both_decisions_are_audited_with_the_peer) {
  coffer::test::TempDirectory dir;
  auto log = dir.path() / "audit.log";
  Store store = Store::from_string(
      policy(builds_and_mailer(), ",\n \"audit\": {\"file\": \"" + log.string() + "\"}"));
  Peer builder = unix_peer(builder_uid());
  BOOST_TEST(store.get("VCS.GithubAdminPAT", as(builder)).reveal() == kPat);  // miss
  BOOST_TEST(store.get("VCS.GithubAdminPAT", as(builder)).reveal() == kPat);  // hit
  BOOST_TEST((store.try_get("VCS.AzureAuthSecret", as(builder)).code == Code::denied));
  BOOST_TEST((store.try_get("VCS.GithubAdminPAT", as(token_peer("mailer"))).code == Code::denied));
  BOOST_TEST((store.get_from("p", "VCS.AzureAuthSecret", as(builder)).code == Code::denied));
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == kMail);  // no peer: no "peer"

  std::vector<boost::json::object> gets;
  for (auto &line : audit_lines(log))
    if (line.at("operation") == "get") gets.push_back(line);
  BOOST_REQUIRE(gets.size() == 6u);
  boost::json::object unix_identity{{"uid", builder_uid()}, {"gid", 70999}, {"pid", 31337}};
  for (int i : {0, 1, 2, 4}) BOOST_TEST((gets[i].at("peer") == unix_identity), gets[i]);
  BOOST_TEST(gets[0].at("outcome") == "ok");
  BOOST_TEST(gets[1].at("cache_hit") == true);
  BOOST_TEST(gets[2].at("outcome") == "denied");
  BOOST_TEST(contains(std::string(gets[2].at("message").as_string()), "client 'builds'"));
  BOOST_TEST(gets[3].at("outcome") == "denied");
  BOOST_TEST((gets[3].at("peer") == boost::json::object{{"client", "mailer"}}), gets[3]);
  BOOST_TEST(gets[4].at("outcome") == "denied");
  BOOST_TEST(!gets[5].contains("peer"));
}

BOOST_AUTO_TEST_CASE(an_observer_sees_the_peer_of_each_read) {
  struct Seen {
    std::string key;
    Code outcome;
    bool has_peer;
    std::uint32_t uid;
    std::string client;
  };
  struct Recorder : coffer::Observer {
    std::mutex mutex;
    std::vector<Seen> seen;
    void on_access(const coffer::AccessEvent &event) noexcept override {
      std::lock_guard lock(mutex);
      seen.push_back({std::string(event.key), event.outcome, event.peer != nullptr,
                      event.peer != nullptr ? event.peer->uid : 0,
                      event.peer != nullptr ? event.peer->client : std::string()});
    }
  };
  auto recorder = std::make_shared<Recorder>();
  coffer::StoreOptions options;
  options.observer = recorder;
  Store store = Store::from_string(policy(builds_and_mailer()), options);
  Peer builder = unix_peer(builder_uid());
  (void)store.get("VCS.GithubAdminPAT", as(builder));
  (void)store.get("VCS.GithubAdminPAT", as(builder));  // the cache-hit path
  (void)store.try_get("Email.SMTPPassword", as(builder));
  (void)store.try_get("Email.SMTPPassword", as(token_peer("mailer")));
  std::lock_guard lock(recorder->mutex);
  BOOST_REQUIRE(recorder->seen.size() == 4u);
  for (int i : {0, 1, 2}) {
    BOOST_TEST(recorder->seen[i].has_peer);
    BOOST_TEST(recorder->seen[i].uid == builder_uid());
  }
  BOOST_TEST((recorder->seen[2].outcome == Code::denied));
  BOOST_TEST(recorder->seen[3].client == "mailer");
  BOOST_TEST((recorder->seen[3].outcome == Code::ok));
}

BOOST_AUTO_TEST_CASE(a_reload_swaps_the_clients_with_the_policy) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("policy.json", policy(builds_and_mailer()));
  Store store = Store::open(file);
  Peer builder = unix_peer(builder_uid());
  BOOST_TEST(store.get("VCS.GithubAdminPAT", as(builder)).reveal() == kPat);  // now cached
  BOOST_TEST(store.permits(builder, "VCS.GithubAdminPAT"));
  dir.write("policy.json", policy("\"builds\": {\"uids\": [" + std::to_string(builder_uid()) +
                                  "], \"allow\": [\"Email.*\"]}"));
  store.reload();
  auto r = store.try_get("VCS.GithubAdminPAT", as(builder));
  BOOST_TEST((r.code == Code::denied));
  BOOST_TEST(contains(r.message, "clients.builds.allow"), r.message);
  BOOST_TEST(!store.permits(builder, "VCS.GithubAdminPAT"));
  BOOST_TEST(store.get("Email.SMTPPassword", as(builder)).reveal() == kMail);
  // A policy whose clients do not load leaves the rules in force.
  dir.write("policy.json", policy("\"builds\": {\"uids\": [\"no-such-user-c0ffer\"], "
                                  "\"allow\": [\"*\"]}"));
  BOOST_CHECK_THROW(store.reload(), coffer::Error);
  BOOST_TEST((store.try_get("VCS.GithubAdminPAT", as(builder)).code == Code::denied));
}

BOOST_AUTO_TEST_CASE(permits_says_what_a_peer_may_read_without_reading) {
  Store store = Store::from_string(policy(builds_and_mailer()));
  Peer builder = unix_peer(builder_uid());
  std::int64_t asked = provider_gets(store);
  BOOST_TEST(store.permits(builder, "VCS.GithubAdminPAT"));
  BOOST_TEST(!store.permits(builder, "VCS.AzureAuthSecret"));  // the client's deny
  BOOST_TEST(!store.permits(builder, "VCS.GitlabAdminPAT"));   // the route's deny
  BOOST_TEST(!store.permits(builder, "Email.SMTPPassword"));
  BOOST_TEST(!store.permits(builder, "VCS.NoSuchKey"));  // not in the catalog
  BOOST_TEST(!store.permits(builder, "not a key"));
  BOOST_TEST(store.permits(token_peer("mailer"), "Email.SMTPPassword"));
  BOOST_TEST(!store.permits(token_peer("nobody"), "Email.SMTPPassword"));
  BOOST_TEST(!store.permits(unix_peer(stranger_uid()), "Email.SMTPPassword"));
  BOOST_TEST(store.permits(unix_peer(::geteuid()), "Email.SMTPPassword"));
  BOOST_TEST(provider_gets(store) == asked);
}

BOOST_AUTO_TEST_CASE(helpers_are_served_in_policy_order) {
  Store store = Store::from_string(
      policy("",
             ",\n \"helpers\": {\"git\": [{\"url\": \"https://github.com/acme\", \"username\": "
             "\"x-access-token\", \"secret\": \"VCS.GithubAdminPAT\"}, {\"url\": "
             "\"https://dev.azure.com/acme\", \"username_key\": \"VCS.AzureAuthSecret\", "
             "\"secret\": \"VCS.AzureDevOpsOrgAdminPAT\"}],\n \"docker\": [{\"server\": "
             "\"acme.azurecr.io\", \"username\": \"acme\", \"secret\": "
             "\"OCIRegistry.PrivateRegistryPassword\"}]}"));
  auto git = store.helpers("git");
  BOOST_REQUIRE(git.size() == 2u);
  BOOST_TEST(git[0].match == "https://github.com/acme");
  BOOST_TEST(git[0].username == "x-access-token");
  BOOST_TEST(git[0].secret_key == "VCS.GithubAdminPAT");
  BOOST_TEST(git[1].username.empty());
  BOOST_TEST(git[1].username_key == "VCS.AzureAuthSecret");
  auto docker = store.helpers("docker");
  BOOST_REQUIRE(docker.size() == 1u);
  BOOST_TEST(docker[0].secret_key == "OCIRegistry.PrivateRegistryPassword");
  BOOST_TEST(store.helpers("npm").empty());
  BOOST_TEST(Store::from_string(policy("")).helpers("git").empty());
}

BOOST_AUTO_TEST_CASE(a_client_key_outside_the_catalog_fails_the_load_at_its_line) {
  try {
    (void)Store::from_string(
        policy("\"a\": {\"allow\": [\"*\"],\n \"deny\": [\"VCS.AzureAuthSecrt\"]}"));
    BOOST_FAIL("expected a load error");
  } catch (const coffer::Error &e) {
    std::string message = e.what();
    BOOST_TEST(message.rfind("<string>:5:", 0) == 0u, message);
    BOOST_TEST(contains(message, "did you mean 'VCS.AzureAuthSecret'"), message);
  }
  coffer::StoreOptions open;
  open.allow_unknown_keys = true;
  BOOST_CHECK_NO_THROW((void)Store::from_string(
      policy("\"a\": {\"allow\": [\"Billing.*\"], \"deny\": [\"VCS.AzureAuthSecrt\"]}"), open));
}

BOOST_AUTO_TEST_SUITE_END()
