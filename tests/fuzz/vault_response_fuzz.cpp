// Key Vault answers. Input: two bytes of HTTP status, then the body.
// Properties: a parsed bundle's value reads back as the body's `value`;
// listed names and versions are valid Key Vault names; error codes are
// sanitised; failure messages never quote the server's message text (a canary
// planted there); a refused body is UNAVAILABLE.
#include <coffer/provider.hpp>

#include <boost/json.hpp>

#include <string>

#include "azure_json_support.hpp"
#include "fuzz_support.hpp"
#include "names.hpp"
#include "vault_response.hpp"

namespace {

using coffer::fuzz::kCanary;
using coffer::fuzz::require;

bool is_version(std::string_view version) {
  return version.empty() || coffer::azure::is_valid_version(version);
}

void check_bundle(std::string_view body) {
  try {
    auto bundle = coffer::azure::parse_secret_bundle(body, "secret 'VCS-GithubAdminPAT'");
    require(is_version(bundle.version), "a bundle's version is empty or valid");
    boost::json::value document = boost::json::parse(body);
    const auto *value = document.as_object().if_contains("value");
    require(bundle.has_value == (value != nullptr), "a bundle has a value when the body has one");
    if (value != nullptr)
      require(bundle.value.view() == std::string_view(value->as_string()),
              "a bundle's value reads back as the body's");
  } catch (const coffer::provider::Error &error) {
    require(error.status() == COFFER_STATUS_UNAVAILABLE, "a bad bundle is UNAVAILABLE");
  }
}

void check_list(std::string_view body) {
  try {
    auto page = coffer::azure::parse_secret_list(body);
    for (const auto &item : page.items) {
      require(coffer::azure::is_valid_secret_name(item.name), "a listed name is valid");
      require(is_version(item.version), "a listed version is empty or valid");
    }
    if (page.next_link) require(!page.next_link->empty(), "a next link is not empty");
  } catch (const coffer::provider::Error &error) {
    require(error.status() == COFFER_STATUS_UNAVAILABLE, "a bad page is UNAVAILABLE");
  }
}

void check_id(std::string_view id) {
  auto parsed = coffer::azure::parse_secret_id(id);
  require(parsed.name.empty() || coffer::azure::is_valid_secret_name(parsed.name),
          "an id's name is empty or valid");
  require(is_version(parsed.version), "an id's version is empty or valid");
  require(!parsed.name.empty() || parsed.version.empty(), "an id without a name has no version");
}

void check_failure(unsigned status, std::string_view body, coffer::azure::Operation operation) {
  auto error = coffer::azure::parse_vault_error(body);
  require(coffer::fuzz::is_code_text(error.code) && coffer::fuzz::is_code_text(error.inner_code),
          "Key Vault error codes are sanitised");
  std::string planted(body);
  planted = coffer::fuzz::with_canary(planted, {"error"}, "message").value_or(planted);
  planted =
      coffer::fuzz::with_canary(planted, {"error", "innererror"}, "message").value_or(planted);
  coffer::azure::FailureContext context;
  context.operation = operation;
  context.vault_host = "contoso.vault.azure.net";
  if (operation != coffer::azure::Operation::list &&
      operation != coffer::azure::Operation::health) {
    context.secret_name = "VCS-GithubAdminPAT";
    context.key = "VCS.GithubAdminPAT";
  }
  auto failure = coffer::azure::describe_vault_failure(status, planted, context);
  require(failure.status() != COFFER_STATUS_OK, "a failure is not OK");
  require(std::string_view(failure.what()).find(kCanary) == std::string_view::npos,
          "a failure message does not quote the server's message");
  (void)coffer::azure::describe_operation(context);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  coffer::fuzz::Input input(data, size);
  const unsigned status = coffer::fuzz::http_status(input);
  const auto operation = static_cast<coffer::azure::Operation>(input.byte() % 5);
  const std::string_view body = input.rest();
  check_bundle(body);
  check_list(body);
  check_id(body);
  check_failure(status, body, operation);
  return 0;
}
