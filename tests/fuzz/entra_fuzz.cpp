// Entra ID and IMDS answers. Input: two bytes of HTTP status, then the body.
// Properties: a parsed token is plain header text, is due for refresh
// between now and its expiry, and reads back as the body's access_token; a
// refused body is UNAVAILABLE; error codes are sanitised; the messages for
// failed requests quote neither the body's description nor an access token
// (a canary planted in both); assertion claims stay short.
#include <coffer/provider.hpp>

#include <boost/json.hpp>

#include <string>

#include "azure_json_support.hpp"
#include "entra.hpp"
#include "fuzz_support.hpp"

namespace {

using coffer::fuzz::kCanary;
using coffer::fuzz::require;

constexpr std::int64_t kNow = 1'700'000'000'000;  // Unix ms

bool is_header_text(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

std::optional<std::string> access_token_of(std::string_view body) {
  boost::system::error_code error;
  boost::json::value document = boost::json::parse(body, error);
  if (error || !document.is_object()) return std::nullopt;
  const auto *token = document.as_object().if_contains("access_token");
  if (token == nullptr || !token->is_string()) return std::nullopt;
  return std::string(token->as_string());
}

void check_token(std::string_view body) {
  const auto expected = access_token_of(body);
  try {
    auto token = coffer::azure::parse_token_response(body, kNow);
    require(is_header_text(token.value.view()), "a token is plain header text");
    require(expected && token.value.view() == *expected, "a token reads back as the body's");
    require(token.obtained_at_ms == kNow, "a token is obtained now");
    require(kNow < token.expires_at_ms, "a token expires after now");
    require(kNow <= token.refresh_at_ms && token.refresh_at_ms <= token.expires_at_ms,
            "a token is refreshed between now and its expiry");
  } catch (const coffer::provider::Error &error) {
    require(error.status() == COFFER_STATUS_UNAVAILABLE, "a bad token answer is UNAVAILABLE");
  }
}

void check_failures(unsigned status, std::string_view body) {
  const auto error = coffer::azure::parse_entra_error(body);
  require(coffer::fuzz::is_code_text(error.error), "an Entra error code is sanitised");

  coffer::azure::TokenRequestContext context;
  context.credential = "workload_identity";
  context.tenant = "contoso.onmicrosoft.com";
  context.client_id = "00000000-0000-0000-0000-000000000001";
  context.scope = "https://vault.azure.net/.default";
  context.authority = "https://login.microsoftonline.com";
  context.token_file = "/var/run/secrets/azure/tokens/azure-identity-token";
  context.secret_source = "file /etc/coffer/client-secret";
  auto quiet = [&](const coffer::provider::Error &failure) {
    require(std::string_view(failure.what()).find(kCanary) == std::string_view::npos,
            "a failure message quotes neither the server's description nor a token");
  };
  std::string planted(body);
  for (std::string_view member : {"error_description", "access_token"})
    planted = coffer::fuzz::with_canary(planted, {}, member).value_or(planted);
  auto token_failure = coffer::azure::describe_token_failure(status, planted, context);
  require(token_failure.status() == COFFER_STATUS_DENIED, "a refused token request is DENIED");
  quiet(token_failure);
  quiet(coffer::azure::describe_imds_failure(status, planted, context));
}

void check_claims(std::string_view jwt) {
  auto claims = coffer::azure::read_assertion_claims(jwt);
  require(
      claims.issuer.size() <= 300 && claims.subject.size() <= 300 && claims.audience.size() <= 300,
      "assertion claims are cut to 300 bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  coffer::fuzz::Input input(data, size);
  const unsigned status = coffer::fuzz::http_status(input);
  const std::string_view body = input.rest();
  check_token(body);
  check_failures(status, body);
  check_claims(body);
  return 0;
}
