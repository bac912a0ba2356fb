// Fidelity: every recorded exchange of the real services (recordings/, see
// its README.md) that the emulator can reproduce is replayed against it: the
// emulator is driven into the recorded state, sent the recorded request, and
// its status, headers and body are compared with the recorded ones, ignoring
// only values that are random or sanitized (request ids, versions, times,
// skip tokens, access tokens, host names).
#define BOOST_TEST_MODULE azure_emulator_replay
#include <boost/beast/core/string.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <stdexcept>

#include "emulator_process.hpp"
#include "temp_directory.hpp"

namespace json = boost::json;
using coffer::test::Emulator;
using coffer::test::EmulatorOptions;
using coffer::test::EmulatorReply;
using coffer::test::Headers;

namespace {

constexpr const char *kSanitizedTenant = "12345678-1234-1234-1234-123456789012";

std::filesystem::path recordings_dir() {
  if (const char *dir = std::getenv("COFFER_EMULATOR_RECORDINGS")) return dir;
  return std::filesystem::path(__FILE__).parent_path() / "recordings";
}

std::string read_file(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The entries of a test-proxy recording, or the single exchange of an
// issue-log transcription. Throws std::runtime_error naming the file when it
// is empty or holds no exchange (a request method and a response status):
// replaying it would check nothing.
std::vector<json::object> load_file(const std::filesystem::path &file) {
  const std::string text = read_file(file);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw std::runtime_error(file.string() + ": the recording is empty");
  }
  const auto value = json::parse(text).as_object();
  std::vector<json::object> entries;
  if (const auto *list = value.if_contains("Entries")) {
    for (const auto &entry : list->as_array()) entries.push_back(entry.as_object());
  } else {
    entries.push_back(value);
  }
  const auto is_exchange = [](const json::object &entry) {
    return entry.contains("RequestMethod") && entry.contains("StatusCode");
  };
  if (entries.empty() || !std::all_of(entries.begin(), entries.end(), is_exchange)) {
    throw std::runtime_error(file.string() +
                             ": the recording holds no exchange (each entry needs "
                             "RequestMethod and StatusCode)");
  }
  return entries;
}

std::vector<json::object> load(const std::string &name) {
  return load_file(recordings_dir() / name);
}

// Writes a file into the suite's scratch directory, removed when the suite ends.
std::filesystem::path write_temp(const std::string &name, const std::string &content) {
  static const coffer::test::TempDirectory scratch("coffer-emulator-test");
  static int written = 0;
  return scratch.write(name + "-" + std::to_string(++written), content);
}

std::string base64url(const std::string &text) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t bits = 0;
  int held = 0;
  for (const unsigned char c : text) {
    bits = (bits << 8) | c;
    held += 8;
    while (held >= 6) {
      held -= 6;
      out.push_back(kAlphabet[(bits >> held) & 0x3F]);
    }
  }
  if (held > 0) out.push_back(kAlphabet[(bits << (6 - held)) & 0x3F]);
  return out;
}

// An unsigned JWT with these claims, shaped like a projected service account token.
std::string jwt(const json::object &claims) {
  return base64url(R"({"alg":"RS256","kid":"k"})") + "." + base64url(json::serialize(claims)) +
         ".c2lnbmF0dXJl";
}

std::string without_origin(const std::string &uri) {
  const auto scheme = uri.find("://");
  const auto path = uri.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  std::string target = path == std::string::npos ? "/" : uri.substr(path);
  const std::string elided = "<query elided by nock: .query(true)>";
  if (const auto at = target.find(elided); at != std::string::npos) {
    target.replace(at, elided.size(), "7.1");  // the api-version of that era
  }
  return target;
}

std::string normalize(std::string text, const std::string &vault_url) {
  for (std::size_t at = 0; (at = text.find(vault_url, at)) != std::string::npos;) {
    text.replace(at, vault_url.size(), "https://VAULT");
  }
  static const std::vector<std::pair<std::regex, std::string>> rules{
      {std::regex(R"(https://(keyvault_name|REDACTED)\.vault\.azure\.net(:443)?)"),
       "https://VAULT"},
      {std::regex(R"(\$skiptoken=[A-Za-z0-9_\-]+)"), "$$skiptoken=TOKEN"},
      {std::regex(R"([0-9a-f]{32})"), "VERSION"},
      {std::regex(R"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"), "UUID"},
      {std::regex(R"(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?Z)"), "TIME"},
      {std::regex("\r\n"), " "},
  };
  for (const auto &[pattern, replacement] : rules) {
    text = std::regex_replace(text, pattern, replacement);
  }
  return text;
}

const std::set<std::string> kTimeFields{"created", "updated", "deletedDate", "scheduledPurgeDate"};

// Compares a recorded JSON body with the emulator's: the same keys at every
// level, the same values after normalization; `loose` paths need only exist.
void match(const json::value &recorded, const json::value &actual, const std::string &path,
           const std::string &vault_url, const std::set<std::string> &loose) {
  BOOST_TEST_CONTEXT("at " << (path.empty() ? "/" : path)) {
    if (loose.contains(path)) return;
    if (recorded.is_object()) {
      BOOST_REQUIRE(actual.is_object());
      std::set<std::string> want, got;
      for (const auto &e : recorded.as_object()) want.emplace(e.key());
      for (const auto &e : actual.as_object()) got.emplace(e.key());
      BOOST_TEST(want == got, boost::test_tools::per_element());
      for (const auto &e : recorded.as_object()) {
        if (const auto *other = actual.as_object().if_contains(e.key())) {
          match(e.value(), *other, path + "/" + std::string(e.key()), vault_url, loose);
        }
      }
    } else if (recorded.is_array()) {
      BOOST_REQUIRE(actual.is_array());
      BOOST_REQUIRE(recorded.as_array().size() == actual.as_array().size());
      for (std::size_t i = 0; i < recorded.as_array().size(); ++i) {
        match(recorded.as_array()[i], actual.as_array()[i], path + "/" + std::to_string(i),
              vault_url, loose);
      }
    } else if (recorded.is_string()) {
      BOOST_REQUIRE(actual.is_string());
      const std::string want(recorded.as_string());
      const std::string got(actual.as_string());
      if (want == "Sanitized" || path.ends_with("/access_token")) {
        BOOST_TEST(!got.empty());
      } else {
        BOOST_TEST(normalize(want, vault_url) == normalize(got, vault_url));
      }
    } else if (recorded.is_number() && kTimeFields.contains(path.substr(path.rfind('/') + 1))) {
      BOOST_TEST((actual.is_int64() || actual.is_uint64()));
    } else {
      BOOST_TEST(json::serialize(recorded) == json::serialize(actual));
    }
  }
}

struct Expectation {
  std::optional<int> status;    // when the emulator deliberately differs
  std::set<std::string> loose;  // body paths compared for presence only
};

class Replayer {
 public:
  explicit Replayer(Emulator &emulator) : emulator_(emulator) {}

  // Sends a recorded request (optionally to another target, with another
  // Authorization) and compares the reply with the recorded response.
  EmulatorReply replay(const json::object &entry, const std::string &target_override = {},
                       const Expectation &expectation = {},
                       std::optional<std::string> authorization = std::nullopt) {
    const std::string target = target_override.empty()
                                   ? without_origin(std::string(entry.at("RequestUri").as_string()))
                                   : target_override;
    Headers headers;
    std::string client_request_id;
    if (const auto *recorded = entry.if_contains("RequestHeaders")) {
      for (const auto &h : recorded->as_object()) {
        const std::string name(h.key());
        const std::string value(h.value().as_string());
        if (name == "Authorization") {
          headers.emplace_back(name, "Bearer " + token());
        } else if (name == "Accept" || name == "Content-Type" || name == "Expect" ||
                   name == "x-ms-client-request-id") {
          headers.emplace_back(name, value);
          if (name == "x-ms-client-request-id") client_request_id = value;
        }
      }
    }
    if (authorization) headers.emplace_back("Authorization", *authorization);
    const std::string method(entry.at("RequestMethod").as_string());
    std::string body;
    if (const auto *recorded = entry.if_contains("RequestBody")) {
      if (recorded->is_string()) body = std::string(recorded->as_string());
      if (recorded->is_object()) body = json::serialize(*recorded);
    }
    if (method == "POST" && target.find("/oauth2/") != std::string::npos &&
        std::none_of(headers.begin(), headers.end(),
                     [](const auto &h) { return h.first == "Content-Type"; })) {
      headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    }
    const EmulatorReply reply = emulator_.https(method, target, headers, body);
    BOOST_TEST_CONTEXT(method << " " << target) {
      compare(entry, reply, client_request_id, expectation);
    }
    return reply;
  }

  std::string token() {
    if (token_.empty()) token_ = emulator_.access_token();
    return token_;
  }

 private:
  void compare(const json::object &entry, const EmulatorReply &reply,
               const std::string &client_request_id, const Expectation &expectation) {
    const int status = static_cast<int>(entry.at("StatusCode").as_int64());
    BOOST_TEST(reply.status == expectation.status.value_or(status));
    json::object recorded_headers;
    if (const auto *h = entry.if_contains("ResponseHeaders")) recorded_headers = h->as_object();
    const auto recorded = [&](const char *name) -> std::optional<std::string> {
      for (const auto &h : recorded_headers) {
        if (boost::beast::iequals(h.key(), name) && h.value().is_string()) {
          return std::string(h.value().as_string());
        }
      }
      return std::nullopt;
    };
    for (const char *name :
         {"Content-Type", "Cache-Control", "Pragma", "Expires", "X-Content-Type-Options",
          "Strict-Transport-Security", "WWW-Authenticate", "P3P", "Access-Control-Allow-Origin",
          "Access-Control-Allow-Methods"}) {
      const auto want = recorded(name);
      if (want && *want != "REDACTED") {
        BOOST_TEST_INFO("header " << name);
        BOOST_TEST(reply.header(name) == *want);
      }
    }
    // Issue-log transcriptions without headers say nothing about their absence.
    for (const char *name : {"Content-Type", "WWW-Authenticate", "Retry-After"}) {
      if (recorded_headers.empty()) break;
      BOOST_TEST_INFO("header " << name << " present in one and not the other");
      BOOST_TEST(reply.has_header(name) == recorded(name).has_value());
    }
    for (const char *name : {"x-ms-request-id", "x-ms-keyvault-service-version",
                             "x-ms-keyvault-region", "x-ms-keyvault-network-info"}) {
      if (recorded(name)) {
        BOOST_TEST_INFO("header " << name);
        BOOST_TEST(!reply.header(name).empty());
      }
    }
    if (recorded("x-ms-client-request-id") && !client_request_id.empty()) {
      BOOST_TEST(reply.header("x-ms-client-request-id") == client_request_id);
    }
    if (recorded("Content-Length")) {
      BOOST_TEST(reply.header("Content-Length") == std::to_string(reply.body.size()));
    }
    const auto *body = entry.if_contains("ResponseBody");
    if (body == nullptr || body->is_null() || (body->is_string() && body->as_string().empty())) {
      BOOST_TEST(reply.body.empty());
      return;
    }
    json::value actual;
    BOOST_REQUIRE_NO_THROW(actual = reply.json());
    match(*body, actual, "", emulator_.vault_url(), expectation.loose);
  }

  Emulator &emulator_;
  std::string token_;
};

EmulatorOptions recorded_tenant() {
  EmulatorOptions options;
  options.tenant = kSanitizedTenant;
  return options;
}

std::string target_of_next_link(const EmulatorReply &reply, const Emulator &emulator) {
  const std::string next(reply.json().at("nextLink").as_string());
  BOOST_REQUIRE(next.starts_with(emulator.vault_url() + "/"));
  return next.substr(emulator.vault_url().size());
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_recording_without_exchanges_fails_the_replay) {
  const auto says = [](const std::string &words) {
    return [words](const std::runtime_error &error) {
      return std::string(error.what()).find(words) != std::string::npos;
    };
  };
  for (const std::string content :
       {"", " \n", "{}", R"({"Entries": []})", R"({"Entries": [{"RequestUri": "https://x/"}]})"}) {
    BOOST_TEST_CONTEXT("recording '" << content << "'") {
      const auto file = write_temp("recording", content);
      BOOST_CHECK_EXCEPTION(load_file(file), std::runtime_error,
                            says(content.find_first_not_of(" \n") == std::string::npos
                                     ? "the recording is empty"
                                     : "the recording holds no exchange"));
      std::filesystem::remove(file);
    }
  }
}

BOOST_AUTO_TEST_CASE(get_missing_secret_after_the_401_challenge) {
  Emulator emulator(recorded_tenant());
  Replayer replayer(emulator);
  for (const auto &entry : load("js-kv-get-secret-404-after-401-challenge.json")) {
    replayer.replay(entry);
  }
}

BOOST_AUTO_TEST_CASE(set_then_get_latest_with_the_challenge) {
  Emulator emulator(recorded_tenant());
  emulator.configure(R"({"recoverable_days": 7})");
  Replayer replayer(emulator);
  for (const auto &entry : load("js-kv-set-then-get-secret-with-challenge.json")) {
    replayer.replay(entry);
  }
}

BOOST_AUTO_TEST_CASE(get_disabled_secret_is_forbidden) {
  Emulator emulator(recorded_tenant());
  emulator.configure(R"({"recoverable_days": 7})");
  Replayer replayer(emulator);
  for (const auto &entry : load("js-kv-get-disabled-secret-403.json")) replayer.replay(entry);
}

BOOST_AUTO_TEST_CASE(put_with_an_empty_name_is_405) {
  Emulator emulator(recorded_tenant());
  Replayer replayer(emulator);
  for (const auto &entry : load("js-kv-put-empty-name-405.json")) replayer.replay(entry);
}

BOOST_AUTO_TEST_CASE(patch_latest_then_get) {
  Emulator emulator(recorded_tenant());
  emulator.configure(R"({"recoverable_days": 7})");
  emulator.set_secret("CRUDSecretName-canupdateasecret-", "SECRET_VALUE");
  Replayer replayer(emulator);
  for (const auto &entry : load("js-kv-patch-update-attributes-then-get.json")) {
    replayer.replay(entry);
  }
}

BOOST_AUTO_TEST_CASE(delete_then_poll_deleted_secret_until_it_appears) {
  Emulator emulator(recorded_tenant());
  emulator.configure(R"({"recoverable_days": 7, "delete_pending_gets": 2})");
  emulator.set_secret("CRUDSecretName-candeleteasecret-", "SECRET_VALUE");
  Replayer replayer(emulator);
  for (const auto &entry : load("js-kv-delete-secret-then-poll-deletedsecrets.json")) {
    replayer.replay(entry);
  }
}

BOOST_AUTO_TEST_CASE(list_secrets_by_pages_of_one_with_empty_pages) {
  Emulator emulator(recorded_tenant());
  emulator.configure(R"({"recoverable_days": 7, "empty_pages": 2})");
  for (const char *name :
       {"listSecretName-canlistsecretproperties-51074815250816990",
        "listSecretName-canlistsecretproperties-51074815250816991",
        "listSecretName-canlistsecretsbypage-0", "listSecretName-canlistsecretsbypage-1"}) {
    emulator.set_secret(name, "SECRET_VALUE");
  }
  Replayer replayer(emulator);
  const auto entries = load("js-kv-list-secrets-paging-maxresults1.json");
  BOOST_REQUIRE(entries.size() == 7u);
  std::string target;  // the first request as recorded, then the emulator's nextLinks
  for (const auto &entry : entries) {
    const auto reply = replayer.replay(entry, target);
    if (reply.json().at("nextLink").is_null()) break;
    target = target_of_next_link(reply, emulator);
  }
}

BOOST_AUTO_TEST_CASE(list_versions_by_page_and_get_by_version) {
  Emulator emulator(recorded_tenant());
  emulator.configure(R"({"recoverable_days": 7})");
  const std::string name = "listSecretName-canretrieveallversionsofasecretbypage-";
  emulator.set_secret(name, "SECRET_VALUE2");
  emulator.set_secret(name, "SECRET_VALUE2");
  Replayer replayer(emulator);
  const auto entries = load("js-kv-list-versions-paging-and-get-by-version.json");
  BOOST_REQUIRE(entries.size() == 3u);
  const auto first = replayer.replay(entries[0]);
  const std::string id(first.json().at("value").at(0).at("id").as_string());
  replayer.replay(entries[1],
                  "/secrets/" + name + "/" + id.substr(id.rfind('/') + 1) + "?api-version=7.3");
  replayer.replay(entries[2], target_of_next_link(first, emulator));
}

BOOST_AUTO_TEST_CASE(cpp_sdk_put_with_expect_continue_then_get_latest_as_percent_2f) {
  Emulator emulator;
  Replayer replayer(emulator);
  for (const auto &entry : load("cpp-kv-set-then-get-latest-7.6-preview.2.json")) {
    replayer.replay(entry);
  }
}

BOOST_AUTO_TEST_CASE(challenge_token_put_and_purge_2021) {
  const auto secret_file = write_temp("client-secret", "azure_client_secret");
  EmulatorOptions options;
  options.tenant = "azure_tenant_id";
  options.client_id = "azure_client_id";
  options.client_secret_file = secret_file;
  options.token_lifetime_s = 86399;
  Emulator emulator(options);
  emulator.configure(R"({"recoverable_days": 7})");
  Replayer replayer(emulator);
  const auto entries = load("js-nock-kv-challenge-token-put-purge-2021.json");
  BOOST_REQUIRE(entries.size() == 4u);
  // The 2021 service's message had no "AKV10000:" prefix; the emulator answers as today.
  replayer.replay(entries[0], {}, Expectation{std::nullopt, {"/error/message"}});
  const auto token = replayer.replay(entries[1]);
  const std::string bearer = "Bearer " + std::string(token.json().at("access_token").as_string());
  auto put = entries[2];
  put["RequestHeaders"] = json::object{{"Content-Type", "application/json"}};
  replayer.replay(put, {}, {}, bearer);
  // The recording skipped the DELETE that precedes the purge.
  const std::string name =
      "challengeAuthSecretName-Onceauthenticatednewrequestsshouldnotauthenticateagain--0";
  BOOST_TEST(
      emulator.https("DELETE", "/secrets/" + name + "?api-version=7.1", {{"Authorization", bearer}})
          .status == 200);
  replayer.replay(entries[3], {}, {}, bearer);
  std::filesystem::remove(secret_file);
}

BOOST_AUTO_TEST_CASE(entra_token_with_client_secret) {
  const auto secret_file = write_temp("client-secret", "azure_client_secret");
  EmulatorOptions options = recorded_tenant();
  options.client_id = "azure_client_id";
  options.client_secret_file = secret_file;
  options.token_lifetime_s = 86399;
  Emulator emulator(options);
  Replayer replayer(emulator);
  const auto reply = replayer.replay(load("js-entra-token-client-secret-200.json").at(0));
  // The token it issued opens the vault.
  const std::string token(reply.json().at("access_token").as_string());
  emulator.set_secret("After-Token", "x");
  BOOST_TEST(emulator
                 .https("GET", "/secrets/After-Token?api-version=7.6",
                        {{"Authorization", "Bearer " + token}})
                 .status == 200);
  std::filesystem::remove(secret_file);
}

BOOST_AUTO_TEST_CASE(entra_token_with_a_refused_client_assertion) {
  // Recorded: 401 invalid_client AADSTS700027 (signing key not registered),
  // which concerns certificate assertions. For a federated token the emulator
  // refuses a stale assertion with 401 invalid_client AADSTS700024: the same
  // status, error and body shape, another code.
  const auto token_file = write_temp("federated-token", "client_assertion");
  EmulatorOptions options = recorded_tenant();
  options.client_id = "azure_client_id";
  options.token_file = token_file;
  Emulator emulator(options);
  Replayer replayer(emulator);
  const std::string good =
      "grant_type=client_credentials&client_id=azure_client_id&scope=https%3A"
      "%2F%2Fvault.azure.net%2F.default&client_assertion_type=urn%3Aietf%3Apa"
      "rams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=";
  const std::string token_path = std::string("/") + kSanitizedTenant + "/oauth2/v2.0/token";
  const Headers form{{"Content-Type", "application/x-www-form-urlencoded"}};
  BOOST_TEST(emulator.https("POST", token_path, form, good + "client_assertion").status == 200);
  std::ofstream(token_file) << "rotated-assertion";
  const auto reply = replayer.replay(
      load("js-entra-token-client-assertion-401-invalid-client.json").at(0), {},
      Expectation{std::nullopt, {"/error_description", "/error_codes/0", "/error_uri"}});
  BOOST_TEST(reply.json().at("error_codes").at(0).as_int64() == 700024);
  std::filesystem::remove(token_file);
}

BOOST_AUTO_TEST_CASE(openid_configuration_of_an_unknown_tenant) {
  Emulator emulator(recorded_tenant());
  Replayer replayer(emulator);
  const auto reply = replayer.replay(load("js-entra-openid-config-400-invalid-tenant.json").at(0));
  // The correlation id is the client's request id, as recorded.
  BOOST_TEST(reply.json().at("correlation_id").as_string() ==
             "fc8d1d37-6c1f-4ce4-9242-8b2a8b490e08");
}

BOOST_AUTO_TEST_CASE(issue_log_no_matching_federated_identity_record) {
  const auto token_file = write_temp("federated-token", "the-current-token");
  EmulatorOptions options;
  options.tenant = "78f9c33e-5b36-4730-93a8-9416d43ee1b3";
  options.token_file = token_file;
  Emulator emulator(options);
  Replayer replayer(emulator);
  auto entry = load("from-issue-logs/entra-token-400-AADSTS70021-no-matching-fic.json").at(0);
  // The log kept no request: send the one the provider sends, with a token
  // whose claims are those the log names.
  const std::string assertion =
      jwt(json::object{{"iss", "https://kubernetes.default.svc.cluster.local"},
                       {"sub", "system:serviceaccount:default:workload-identity-sa"},
                       {"aud", json::array{"api://AzureADTokenExchange"}}});
  entry["RequestBody"] =
      "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%"
      "3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_id=" +
      emulator.client_id() +
      "&scope=https%3A%2F%2Fvault.azure.net%2F.default&client_assertion=" + assertion;
  replayer.replay(entry);
  std::filesystem::remove(token_file);
}

BOOST_AUTO_TEST_CASE(issue_log_expired_client_assertion) {
  const std::string old_token =
      jwt(json::object{{"iss", "https://oidc.example"}, {"nbf", 1717492846}, {"exp", 1717496446}});
  const auto token_file = write_temp("federated-token", old_token);
  EmulatorOptions options;
  options.token_file = token_file;
  Emulator emulator(options);
  Replayer replayer(emulator);
  const std::string form =
      "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Apara"
      "ms%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_id=" +
      emulator.client_id() + "&scope=https%3A%2F%2Fvault.azure.net%2F.default&client_assertion=";
  const std::string token_path = "/" + emulator.tenant() + "/oauth2/v2.0/token";
  const Headers headers{{"Content-Type", "application/x-www-form-urlencoded"}};
  BOOST_TEST(emulator.https("POST", token_path, headers, form + old_token).status == 200);
  std::ofstream(token_file) << "a-newer-token";  // the kubelet rotated it
  auto entry = load("from-issue-logs/entra-token-401-AADSTS700024-expired-assertion.json").at(0);
  entry["RequestUri"] = "https://login.microsoftonline.com" + token_path;
  entry["RequestBody"] = form + old_token;
  replayer.replay(entry);
  std::filesystem::remove(token_file);
}

BOOST_AUTO_TEST_CASE(issue_log_throttled_without_retry_after) {
  Emulator emulator;
  emulator.set_secret("Signing-Key", "x");
  Replayer replayer(emulator);
  auto entry = load("from-issue-logs/kv-429-throttled-no-retry-after.json").at(0);
  // Recorded on another operation (keys/sign); the throttling answer is the vault's.
  entry["RequestUri"] = "https://REDACTED.vault.azure.net/secrets/Signing-Key?api-version=7.6";
  entry["RequestMethod"] = "GET";
  entry["RequestHeaders"] =
      json::object{{"Authorization", "Sanitized"},
                   {"x-ms-client-request-id", "991a7dda-ca08-4415-81d3-3f8f898ae410"}};
  emulator.inject("get", "429", 1);
  const auto reply = replayer.replay(entry);
  BOOST_TEST(reply.header("Content-Length") == "146");
}
