#include "emulator.hpp"

#include <boost/json/object.hpp>

#include "responses.hpp"

namespace coffer::emulator {

namespace json = boost::json;

namespace {

bool is_entra_route(const std::string &route) {
  return route == "token" || route == "metadata";
}

std::string route_of(const Request &request, const Target &target) {
  const auto &s = target.segments;
  if (s.size() == 4 && s[1] == "oauth2" && s[2] == "v2.0" && s[3] == "token") return "token";
  if (s.size() == 4 && s[1] == "v2.0" && s[2] == ".well-known" && s[3] == "openid-configuration") {
    return "metadata";
  }
  if (s.size() == 3 && s[1] == "discovery" && s[2] == "instance") return "metadata";
  return KeyVault::route_of(request, target);
}

struct StatusFault {
  int status;
  const char *vault_code;
  const char *vault_message;
};

StatusFault status_of(FaultKind kind) {
  switch (kind) {
    case FaultKind::throttled:
    case FaultKind::throttled_retry_after:
      return {429, "Throttled",
              "Request was not processed because too many requests were received. Reason: "
              "VaultRequestTypeLimitReached"};
    case FaultKind::status_408:
      return {408, "RequestTimeout", "The request timed out. Please retry the request."};
    case FaultKind::status_500:
      return {500, "InternalServerError",
              "The service encountered an internal error. Please retry the request."};
    case FaultKind::status_502:
      return {502, "BadGateway", "The gateway received an invalid response. Please retry."};
    case FaultKind::status_504:
      return {504, "GatewayTimeout", "The gateway timed out. Please retry the request."};
    default:
      return {503, "ServiceUnavailable",
              "The service is temporarily unavailable. Please retry the request."};
  }
}

}  // namespace

Emulator::Emulator(Settings settings, std::uint64_t rng_seed)
    : settings_(std::move(settings)),
      faults_(rng_seed),
      identity_(settings_, tokens_),
      key_vault_(settings_, vault_, tokens_) {
  for (const char *route : {"token", "imds", "get", "put", "delete", "list", "update", "deleted",
                            "metadata", "unauthenticated"}) {
    requests_[route] = 0;
  }
}

void Emulator::attach(unsigned short https_port, CertificateControl certificates) {
  https_port_ = https_port;
  identity_.set_https_port(https_port);
  key_vault_.set_https_port(https_port);
  certificates_ = std::move(certificates);
}

bool Emulator::take_expired_token_fault(const std::string &route) {
  return faults_.next(route, [](FaultKind kind) { return kind == FaultKind::expired_token; })
      .has_value();
}

Response Emulator::handle_https(const Request &request) {
  const Target target = parse_target(request.target);
  if (!target.segments.empty() && target.segments[0] == "_emulator") {
    return handle_control(request, target);
  }
  const std::string route = route_of(request, target);
  if (route.empty()) {
    return key_vault_error(request, 404, "NotFound", "The requested resource was not found.");
  }
  return serve(route, request, target);
}

Response Emulator::handle_imds(const Request &request) {
  return serve("imds", request, parse_target(request.target));
}

Response Emulator::serve(const std::string &route, const Request &request, const Target &target) {
  ++requests_[route];
  const auto fault =
      faults_.next(route, [](FaultKind kind) { return kind != FaultKind::expired_token; });
  if (!fault) return dispatch(route, request, target);
  if (fault->kind == FaultKind::reset) {
    Response response;
    response.transport = Transport::reset;
    return response;
  }
  if (fault->kind != FaultKind::stall && fault->kind != FaultKind::truncate &&
      fault->kind != FaultKind::malformed_json) {
    return fault_response(route, *fault, request);
  }
  // These faults damage the real answer, so the operation itself happens.
  Response response = dispatch(route, request, target);
  if (fault->kind == FaultKind::stall) {
    response.transport = Transport::stall;
    response.stall_ms = fault->stall_ms;
  } else if (fault->kind == FaultKind::truncate) {
    if (response.body.size() < 2) response.body = R"({"truncated":true})";
    response.transport = Transport::truncate;
  } else {
    response.body = response.body.size() < 2 ? std::string("{")
                                             : response.body.substr(0, response.body.size() / 2);
    if (response.status == 204) response.status = 200;
    response.set_header("Content-Type", "application/json; charset=utf-8");
  }
  return response;
}

Response Emulator::dispatch(const std::string &route, const Request &request,
                            const Target &target) {
  const auto expired = [this, &route] { return take_expired_token_fault(route); };
  if (route == "imds") return identity_.imds_token(request, target, expired);
  if (route == "token") return identity_.token(request, target, expired);
  if (route == "metadata") {
    return target.segments[1] == "discovery" ? identity_.instance_discovery(request)
                                             : identity_.openid_configuration(request, target);
  }
  if (auto refusal = key_vault_.authenticate(request)) {
    ++requests_["unauthenticated"];
    return *refusal;
  }
  if (take_expired_token_fault(route)) {
    ++requests_["unauthenticated"];
    return key_vault_.expired_token(request);
  }
  return key_vault_.handle(request, target);
}

Response Emulator::fault_response(const std::string &route, const FaultRule &fault,
                                  const Request &request) {
  const StatusFault status = status_of(fault.kind);
  Response response;
  if (route == "imds") {
    response = status.status == 429
                   ? imds_error(429, "too_many_requests", "Too many requests, please retry later")
                   : imds_error(status.status, "server_error",
                                "The managed identity endpoint is temporarily unavailable.");
  } else if (is_entra_route(route)) {
    response = status.status == 500
                   ? entra_error(request, 500, "server_error", 50000,
                                 "There was an error issuing a token or an issue with our "
                                 "sign-in service. Please try again later.")
                   : entra_error(request, status.status, "temporarily_unavailable", 90033,
                                 "A transient error has occurred. Please try again.");
  } else {
    response = key_vault_error(request, status.status, status.vault_code, status.vault_message);
  }
  if (fault.kind == FaultKind::throttled_retry_after) {
    response.set_header("Retry-After", fault.retry_after.value_or("1"));
  } else if (fault.kind != FaultKind::throttled && fault.retry_after) {
    response.set_header("Retry-After", *fault.retry_after);
  }
  return response;
}

}  // namespace coffer::emulator
