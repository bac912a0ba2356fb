#include "responses.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <ctime>

#include "token_store.hpp"

namespace coffer::emulator {

namespace json = boost::json;

namespace {

constexpr std::string_view kJsonType = "application/json; charset=utf-8";
constexpr std::string_view kServiceVersion = "1.9.2203.1";

std::string entra_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string request_authority(const Request &request, unsigned short https_port) {
  std::string host(request.header("Host"));
  if (host.empty()) return "localhost:" + std::to_string(https_port);
  const auto bracket = host.rfind(']');
  const auto colon = host.rfind(':');
  const bool has_port =
      colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  if (!has_port) host += ":" + std::to_string(https_port);
  return host;
}

Response key_vault_json(const Request &request, int status, const json::value &body) {
  Response response = key_vault_no_content(request);
  response.status = status;
  response.headers.insert(response.headers.begin() + 2, {"Content-Type", std::string(kJsonType)});
  response.body = json::serialize(body);
  return response;
}

Response key_vault_no_content(const Request &request) {
  Response response;
  response.status = 204;
  response.set_header("Cache-Control", "no-cache");
  response.set_header("Pragma", "no-cache");
  response.set_header("Expires", "-1");
  response.set_header("x-ms-keyvault-region", "local");
  if (const auto id = request.header("x-ms-client-request-id"); !id.empty()) {
    response.set_header("x-ms-client-request-id", id);
  }
  response.set_header("x-ms-request-id", random_uuid());
  response.set_header("x-ms-keyvault-service-version", kServiceVersion);
  response.set_header("x-ms-keyvault-network-info",
                      "conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;");
  response.set_header("Strict-Transport-Security", "max-age=31536000;includeSubDomains");
  response.set_header("X-Content-Type-Options", "nosniff");
  return response;
}

Response key_vault_error(const Request &request, int status, std::string_view code,
                         std::string_view message, std::optional<std::string_view> inner_code) {
  json::object error{{"code", code}, {"message", message}};
  if (inner_code) error["innererror"] = json::object{{"code", *inner_code}};
  return key_vault_json(request, status, json::object{{"error", std::move(error)}});
}

Response entra_json(const Request &request, int status, const json::value &body) {
  Response response;
  response.status = status;
  response.set_header("Cache-Control", "no-store, no-cache");
  response.set_header("Pragma", "no-cache");
  response.set_header("Content-Type", kJsonType);
  response.set_header("Expires", "-1");
  response.set_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("P3P", "CP=\"DSP CUR OTPi IND OTRi ONL FIN\"");
  if (const auto id = request.header("client-request-id"); !id.empty()) {
    response.set_header("client-request-id", id);
  }
  response.set_header("x-ms-request-id", random_uuid());
  response.set_header("x-ms-ests-server", "2.1.0 - coffer-azure-emulator");
  response.set_header("x-ms-clitelem", "1,0,0,,");
  response.set_header("X-XSS-Protection", "0");
  response.body = json::serialize(body);
  return response;
}

Response entra_error(const Request &request, int status, std::string_view error, int code,
                     std::string_view message) {
  std::string correlation(request.header("client-request-id"));
  if (correlation.empty()) correlation = std::string(request.header("x-ms-client-request-id"));
  if (correlation.empty()) correlation = random_uuid();
  const std::string trace = random_uuid();
  const std::string timestamp = entra_timestamp();
  const std::string aadsts = "AADSTS" + std::to_string(code);
  json::object body{
      {"error", error},
      {"error_description", aadsts + ": " + std::string(message) + "\r\nTrace ID: " + trace +
                                "\r\nCorrelation ID: " + correlation +
                                "\r\nTimestamp: " + timestamp},
      {"error_codes", json::array{code}},
      {"timestamp", timestamp},
      {"trace_id", trace},
      {"correlation_id", correlation},
      {"error_uri", "https://login.microsoftonline.com/error?code=" + std::to_string(code)},
  };
  Response response = entra_json(request, status, body);
  response.set_header("x-ms-request-id", trace);
  response.set_header("x-ms-clitelem", "1," + std::to_string(code) + ",0,,");
  return response;
}

Response imds_json(int status, const json::value &body) {
  Response response;
  response.status = status;
  response.set_header("Content-Type", kJsonType);
  response.set_header("Server", "IMDS/150.870.65.1854");
  response.body = json::serialize(body);
  return response;
}

Response imds_error(int status, std::string_view error, std::string_view description) {
  return imds_json(status, json::object{{"error", error}, {"error_description", description}});
}

}  // namespace coffer::emulator
