// Every response body of the recorded real Key Vault and Entra ID traffic
// (tests/azure_emulator/recordings) through the parser the client uses for it:
// secret bundles, listing pages and their nextLinks, the challenge header,
// token answers, and errors mapped to statuses and messages by code.
#define BOOST_TEST_MODULE azure_keyvault_recordings
#include <boost/test/unit_test.hpp>

#include "challenge.hpp"
#include "entra.hpp"
#include "retry.hpp"
#include "url.hpp"
#include "vault_response.hpp"

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace coffer::azure;

namespace {

std::filesystem::path recordings() {
  const char *dir = std::getenv("COFFER_AZURE_RECORDINGS");
  BOOST_TEST_REQUIRE(dir != nullptr);
  return dir;
}

boost::json::value read_json(const std::filesystem::path &file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str());
}

std::string body_text(const boost::json::value &body) {
  if (body.is_null()) return {};
  if (body.is_string()) return std::string(body.as_string());
  return boost::json::serialize(body);
}

std::string header(const boost::json::object &entry, const std::string &name) {
  const auto *headers = entry.if_contains("ResponseHeaders");
  if (headers == nullptr || !headers->is_object()) return {};
  for (const auto &member : headers->as_object())
    if (to_lower(member.key()) == to_lower(name) && member.value().is_string())
      return std::string(member.value().as_string());
  return {};
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

std::string the_secret_name(const std::string &uri) {
  auto at = uri.find("/secrets/");
  if (at == std::string::npos) at = uri.find("/deletedsecrets/") + 7;
  std::string rest = uri.substr(at + 9);
  return rest.substr(0, rest.find_first_of("/?"));
}

struct Counts {
  int entries = 0;
  int handled = 0;
};

// Checks one recorded exchange; returns false when no rule covers it.
bool check_entry(const boost::json::object &entry, const std::string &file) {
  const std::string uri(entry.at("RequestUri").as_string());
  const std::string method(entry.at("RequestMethod").as_string());
  const auto status = entry.at("StatusCode").to_number<unsigned>();
  const std::string body = body_text(entry.at("ResponseBody"));
  BOOST_TEST_CONTEXT(file << ": " << method << " " << uri << " -> " << status) {
    const int64_t now = 1'700'000'000'000;
    if (contains(uri, "/oauth2/v2.0/token")) {
      if (status == 200) {
        AccessToken token = parse_token_response(body, now);
        BOOST_TEST(!token.value.empty());
        BOOST_TEST(token.expires_at_ms == now + 86399000);
        BOOST_TEST(token.refresh_at_ms == token.expires_at_ms - 120000);
        return true;
      }
      TokenRequestContext context;
      context.credential = "workload_identity";
      context.tenant = "t";
      auto error = describe_token_failure(status, body, context);
      BOOST_TEST(error.status() == COFFER_STATUS_DENIED);
      EntraError parsed = parse_entra_error(body);
      BOOST_TEST_REQUIRE(parsed.codes.size() == 1u);
      BOOST_TEST(contains(error.what(), "AADSTS" + std::to_string(parsed.codes[0])));
      return true;
    }
    if (contains(uri, "/.well-known/openid-configuration")) {
      EntraError parsed = parse_entra_error(body);
      BOOST_TEST(parsed.error == "invalid_tenant");
      BOOST_TEST((parsed.codes == std::vector<int64_t>{90002}));
      return true;
    }
    FailureContext context{Operation::get, "keyvault_name.vault.azure.net", "", ""};
    if (status == 401) {
      auto challenge = parse_challenge(header(entry, "WWW-Authenticate"));
      BOOST_TEST_REQUIRE(challenge.has_value());
      BOOST_TEST(!challenge->tenant.empty());
      BOOST_TEST(challenge->scope == "https://vault.azure.net/.default");
      BOOST_TEST(check_challenge_resource(*challenge, "keyvault_name.vault.azure.net").empty());
      return true;
    }
    if (status == 429) {
      BOOST_TEST(is_retryable_status(status));
      BOOST_TEST(header(entry, "Retry-After").empty());  // back off anyway
      return true;
    }
    if (status >= 400) {
      context.secret_name = contains(uri, "/secrets/") || contains(uri, "/deletedsecrets/")
                                ? the_secret_name(uri)
                                : "";
      context.operation = method == "PUT" ? Operation::put : Operation::get;
      auto error = describe_vault_failure(status, body, context);
      if (status == 404) BOOST_TEST(error.status() == COFFER_STATUS_NOT_FOUND);
      if (status == 403) {
        BOOST_TEST(error.status() == COFFER_STATUS_DENIED);
        BOOST_TEST(contains(error.what(), parse_vault_error(body).inner_code));
      }
      if (status == 405) BOOST_TEST(error.status() == COFFER_STATUS_INVALID_ARGUMENT);
      BOOST_TEST(!contains(error.what(), "was not found in this key vault"));  // no server text
      return true;
    }
    if (status == 204) {
      BOOST_TEST(body.empty());  // a purge: nothing to parse, any 2xx is success
      return true;
    }
    if (status == 200 && (contains(uri, "/secrets?") || contains(uri, "/versions?"))) {
      SecretListPage page = parse_secret_list(body);
      for (const auto &item : page.items) {
        BOOST_TEST(!item.name.empty());
        BOOST_TEST(item.enabled);
        if (contains(uri, "/versions?")) BOOST_TEST(item.version.size() == 32u);
      }
      if (page.next_link) {
        auto next = parse_url(*page.next_link);
        BOOST_TEST_REQUIRE(next.has_value());
        BOOST_TEST(next->path.rfind("/secrets", 0) == 0u);
        BOOST_TEST(contains(next->query, "$skiptoken="));
      }
      return true;
    }
    if (status == 200 && (contains(uri, "/secrets/") || contains(uri, "/deletedsecrets/"))) {
      SecretBundle bundle = parse_secret_bundle(body, "recorded secret");
      const bool patch = method == "PATCH";
      const bool expect_value = !patch && !contains(uri, "deletedsecrets") && method != "DELETE";
      BOOST_TEST(bundle.has_value == expect_value);
      if (bundle.has_value) BOOST_TEST(!bundle.value.empty());
      const bool sanitized = contains(body, "\"id\":\"Sanitized\"");
      BOOST_TEST(bundle.version.size() == (sanitized ? 0u : 32u));
      return true;
    }
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_recorded_response_is_understood) {
  Counts counts;
  int files = 0;
  for (const auto &item : std::filesystem::recursive_directory_iterator(recordings())) {
    if (item.path().extension() != ".json") continue;
    ++files;
    boost::json::value document = read_json(item.path());
    const auto &object = document.as_object();
    std::vector<boost::json::object> entries;
    if (const auto *list = object.if_contains("Entries")) {
      for (const auto &entry : list->as_array()) entries.push_back(entry.as_object());
    } else {
      entries.push_back(object);  // an issue-log transcription: one exchange
    }
    for (const auto &entry : entries) {
      ++counts.entries;
      if (check_entry(entry, item.path().filename().string()))
        ++counts.handled;
      else
        BOOST_ERROR("no rule for an exchange in " << item.path().filename());
    }
  }
  BOOST_TEST(files == 16);
  BOOST_TEST(counts.entries >= 36);
  BOOST_TEST(counts.handled == counts.entries);
}

BOOST_AUTO_TEST_CASE(the_recorded_listing_is_followed_to_its_end) {
  boost::json::value document =
      read_json(recordings() / "js-kv-list-secrets-paging-maxresults1.json");
  const auto &entries = document.at("Entries").as_array();
  std::size_t pages = 0, empty = 0, items = 0;
  std::optional<std::string> next;
  for (const auto &entry : entries) {
    SecretListPage page = parse_secret_list(body_text(entry.at("ResponseBody")));
    ++pages;
    if (page.items.empty()) ++empty;
    items += page.items.size();
    next = page.next_link;
    if (!next) break;
  }
  BOOST_TEST(pages == entries.size());  // only the last page ends the walk
  BOOST_TEST(empty >= 3u);
  BOOST_TEST(items == 4u);
  BOOST_TEST(!next.has_value());
}
