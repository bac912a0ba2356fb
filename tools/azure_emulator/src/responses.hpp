// Builders for responses shaped like the real services': Key Vault (headers
// and {"error":{"code","message","innererror"}} bodies), Entra ID
// ({"error","error_description","error_codes",...}) and IMDS.
#ifndef COFFER_AZURE_EMULATOR_RESPONSES_HPP
#define COFFER_AZURE_EMULATOR_RESPONSES_HPP

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http_message.hpp"

namespace coffer::emulator {

std::int64_t unix_now();
// The authority the client used ("host:port"), with the port added when the
// Host header has none, for ids and nextLinks.
std::string request_authority(const Request &request, unsigned short https_port);

// Key Vault: Content-Type application/json; charset=utf-8, Cache-Control
// no-cache, x-ms-request-id, x-ms-keyvault-service-version, ...
Response key_vault_json(const Request &request, int status, const boost::json::value &body);
Response key_vault_no_content(const Request &request);  // 204, as a purge answers
Response key_vault_error(const Request &request, int status, std::string_view code,
                         std::string_view message,
                         std::optional<std::string_view> inner_code = std::nullopt);

// Entra ID token endpoint and metadata.
Response entra_json(const Request &request, int status, const boost::json::value &body);
Response entra_error(const Request &request, int status, std::string_view error, int code,
                     std::string_view message);

// IMDS.
Response imds_json(int status, const boost::json::value &body);
Response imds_error(int status, std::string_view error, std::string_view description);

}  // namespace coffer::emulator

#endif
