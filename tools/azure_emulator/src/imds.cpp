// The managed identity endpoint (IMDS) on its own plain-HTTP port: the
// Metadata header, the identity checks, and a token whose values are strings.
#include <boost/json/object.hpp>

#include "identity.hpp"
#include "responses.hpp"

namespace coffer::emulator {

namespace json = boost::json;

Response IdentityService::imds_token(const Request &request, const Target &target,
                                     const std::function<bool()> &issue_expired) {
  // MSAL for Node sends the path with a trailing slash.
  if (target.path != "/metadata/identity/oauth2/token" &&
      target.path != "/metadata/identity/oauth2/token/") {
    return imds_error(404, "not_found", "The requested path was not found.");
  }
  if (request.has_header("X-Forwarded-For")) {
    return imds_error(400, "invalid_request", "Request with X-Forwarded-For header is not allowed");
  }
  if (!iequals(request.header("Metadata"), "true")) {
    return imds_error(400, "invalid_request", "Required metadata header not specified");
  }
  if (request.method != "GET") {
    return imds_error(405, "invalid_request", "The HTTP method is not allowed");
  }
  const auto *api_version = target.param("api-version");
  if (api_version == nullptr || api_version->empty()) {
    return imds_error(400, "invalid_request", "Required api-version parameter not specified");
  }
  const auto *resource = target.param("resource");
  if (resource == nullptr || resource->empty()) {
    return imds_error(400, "invalid_request", "Required audience parameter not specified");
  }
  const auto *client_id = target.param("client_id");
  if ((client_id != nullptr && !iequals(*client_id, settings_.client_id)) ||
      target.param("object_id") != nullptr || target.param("msi_res_id") != nullptr) {
    return imds_error(400, "invalid_request", "Identity not found");
  }
  const std::int64_t now = unix_now();
  const int lifetime = settings_.token_lifetime_s;
  const std::string access_token =
      tokens_.issue(*resource, std::chrono::seconds(lifetime), issue_expired());
  return imds_json(200, json::object{
                            {"access_token", access_token},
                            {"client_id", settings_.client_id},
                            {"expires_in", std::to_string(lifetime)},
                            {"expires_on", std::to_string(now + lifetime)},
                            {"ext_expires_in", std::to_string(lifetime)},
                            {"not_before", std::to_string(now)},
                            {"resource", *resource},
                            {"token_type", "Bearer"},
                        });
}

}  // namespace coffer::emulator
