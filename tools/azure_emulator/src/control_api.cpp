// The control API under /_emulator/ on the HTTPS port: tests seed secrets,
// deny names, inject faults, change settings and read counters. Bodies are
// JSON; mistakes are answered 400 {"error": "..."} so that a typo in a test
// fails loudly instead of being ignored.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <stdexcept>

#include "emulator.hpp"
#include "responses.hpp"

namespace coffer::emulator {

namespace json = boost::json;

namespace {

struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Response control_json(int status, const json::value &body) {
  Response response;
  response.status = status;
  response.set_header("Content-Type", "application/json; charset=utf-8");
  response.set_header("Cache-Control", "no-cache");
  response.body = json::serialize(body);
  return response;
}

json::object parse_body(const Request &request) {
  if (trim(request.body).empty()) return {};
  boost::system::error_code ec;
  auto value = json::parse(request.body, ec);
  if (ec || !value.is_object()) throw BadRequest("the body must be a JSON object");
  return std::move(value.as_object());
}

const json::value *field(const json::object &body, std::string_view name) {
  return body.if_contains(name);
}

std::string string_field(const json::object &body, std::string_view name, bool required) {
  const auto *v = field(body, name);
  if (v == nullptr || v->is_null()) {
    if (required) throw BadRequest("\"" + std::string(name) + "\" is required");
    return {};
  }
  if (!v->is_string()) throw BadRequest("\"" + std::string(name) + "\" must be a string");
  return std::string(v->as_string());
}

std::int64_t int_field(const json::value &v, std::string_view name, std::int64_t min,
                       std::int64_t max) {
  if (!v.is_int64() && !v.is_uint64()) {
    throw BadRequest("\"" + std::string(name) + "\" must be an integer");
  }
  const auto n = v.to_number<std::int64_t>();
  if (n < min || n > max) {
    throw BadRequest("\"" + std::string(name) + "\" must be between " + std::to_string(min) +
                     " and " + std::to_string(max));
  }
  return n;
}

bool bool_field(const json::value &v, std::string_view name) {
  if (!v.is_bool()) throw BadRequest("\"" + std::string(name) + "\" must be true or false");
  return v.as_bool();
}

}  // namespace

Response Emulator::handle_control(const Request &request, const Target &target) {
  const auto &s = target.segments;
  const std::string what = s.size() > 1 ? s[1] : std::string{};
  try {
    if (what == "secrets" && s.size() == 2 && request.method == "POST") {
      const auto body = parse_body(request);
      const std::string name = string_field(body, "name", true);
      if (!valid_secret_name(name)) {
        throw BadRequest("invalid secret name (1-127 characters of 0-9 a-z A-Z -)");
      }
      SecretWrite write;
      write.value = string_field(body, "value", true);
      if (const auto *enabled = field(body, "enabled"))
        write.enabled = bool_field(*enabled, "enabled");
      if (const auto *type = field(body, "content_type"); type != nullptr && !type->is_null()) {
        write.content_type = string_field(body, "content_type", true);
      }
      if (const auto *tags = field(body, "tags"); tags != nullptr && tags->is_object()) {
        std::map<std::string, std::string> out;
        for (const auto &entry : tags->as_object()) {
          if (!entry.value().is_string()) throw BadRequest("tag values must be strings");
          out[std::string(entry.key())] = std::string(entry.value().as_string());
        }
        write.tags = std::move(out);
      }
      vault_.purge(name);  // seeding replaces a soft-deleted secret of that name
      const auto &version = vault_.set(name, write, unix_now());
      return control_json(200, json::object{{"name", name}, {"version", version.version}});
    }
    if (what == "secrets" && s.size() == 3 && request.method == "GET") {
      const Secret *secret = vault_.find(s[2]);
      if (secret == nullptr) return control_json(404, json::object{{"error", "no such secret"}});
      const auto &latest = secret->versions.back();
      return control_json(200, json::object{{"name", secret->name},
                                            {"value", latest.value},
                                            {"version", latest.version},
                                            {"enabled", latest.attributes.enabled},
                                            {"versions", secret->versions.size()}});
    }
    if ((what == "deny" || what == "allow") && request.method == "POST") {
      const auto body = parse_body(request);
      const std::string name = string_field(body, "name", true);
      if (name != "*" && !valid_secret_name(name)) throw BadRequest("invalid secret name");
      if (what == "allow") {
        vault_.allow(name);
      } else {
        std::string code = string_field(body, "code", false);
        if (code.empty()) code = "ForbiddenByRbac";
        if (code != "ForbiddenByRbac" && code != "AccessDenied" && code != "ForbiddenByPolicy" &&
            code != "ForbiddenByFirewall") {
          throw BadRequest(
              "\"code\" must be ForbiddenByRbac, AccessDenied, ForbiddenByPolicy or "
              "ForbiddenByFirewall");
        }
        vault_.deny(name, code);
      }
      return control_json(200, json::object{{"ok", true}});
    }
    if (what == "faults" && request.method == "POST") {
      const auto body = parse_body(request);
      FaultRule rule;
      rule.route = string_field(body, "route", true);
      if (!is_known_route(rule.route)) throw BadRequest("unknown route \"" + rule.route + "\"");
      const std::string kind = string_field(body, "fault", true);
      const auto parsed = parse_fault_kind(kind);
      if (!parsed) throw BadRequest("unknown fault \"" + kind + "\"");
      rule.kind = *parsed;
      const auto *count = field(body, "count");
      const auto *probability = field(body, "probability");
      if ((count != nullptr) == (probability != nullptr)) {
        throw BadRequest("give exactly one of \"count\" and \"probability\"");
      }
      if (count != nullptr)
        rule.remaining = static_cast<int>(int_field(*count, "count", 1, 1000000));
      if (probability != nullptr) {
        if (!probability->is_number()) throw BadRequest("\"probability\" must be a number");
        rule.probability = probability->to_number<double>();
        if (rule.probability < 0.0 || rule.probability > 1.0) {
          throw BadRequest("\"probability\" must be between 0 and 1");
        }
      }
      if (const auto *retry_after = field(body, "retry_after")) {
        rule.retry_after = retry_after->is_string()
                               ? std::string(retry_after->as_string())
                               : std::to_string(int_field(*retry_after, "retry_after", 0, 86400));
      }
      if (const auto *stall_ms = field(body, "stall_ms")) {
        rule.stall_ms = static_cast<int>(int_field(*stall_ms, "stall_ms", 0, 600000));
      }
      faults_.add(rule);
      return control_json(200, json::object{{"ok", true}});
    }
    if (what == "reset-faults" && request.method == "POST") {
      faults_.clear();
      return control_json(200, json::object{{"ok", true}});
    }
    if (what == "config" && request.method == "POST") return configure(request);
    if (what == "config" && request.method == "GET") {
      return control_json(200, json::parse(config_json()));
    }
    if (what == "stats" && request.method == "GET") {
      json::object requests;
      for (const auto &[route, n] : requests_) requests[route] = n;
      return control_json(200, json::object{{"requests", std::move(requests)},
                                            {"faults_injected", faults_.injected()},
                                            {"tokens_issued", tokens_.issued()}});
    }
    if (what == "tokens" && request.method == "GET") {
      json::array tokens;
      for (const auto &token : tokens_.unexpired()) tokens.emplace_back(token);
      return control_json(200, json::object{{"tokens", std::move(tokens)}});
    }
    if (what == "reset-stats" && request.method == "POST") {
      for (auto &[route, n] : requests_) n = 0;
      faults_.reset_counter();
      return control_json(200, json::object{{"ok", true}});
    }
  } catch (const BadRequest &e) {
    return control_json(400, json::object{{"error", e.what()}});
  }
  return control_json(404, json::object{{"error", "unknown control request " + request.method +
                                                      " " + target.path}});
}

Response Emulator::configure(const Request &request) {
  const auto body = parse_body(request);
  Settings next = settings_;
  std::optional<std::uint64_t> seed;
  for (const auto &entry : body) {
    const std::string key(entry.key());
    const json::value &v = entry.value();
    if (key == "token_lifetime") {
      next.token_lifetime_s = static_cast<int>(int_field(v, key, 0, 86400 * 30));
    } else if (key == "page_size") {
      next.page_size = static_cast<int>(int_field(v, key, 1, 1000));
    } else if (key == "empty_pages") {
      next.empty_pages = static_cast<int>(int_field(v, key, 0, 1000));
    } else if (key == "untrusted_cert") {
      next.untrusted_cert = bool_field(v, key);
    } else if (key == "cert_sans") {
      if (v.is_null()) {
        next.cert_sans.reset();
      } else if (v.is_array() && !v.as_array().empty()) {
        std::vector<std::string> names;
        for (const auto &name : v.as_array()) {
          if (!name.is_string()) throw BadRequest("\"cert_sans\" must hold strings");
          names.emplace_back(name.as_string());
        }
        next.cert_sans = std::move(names);
      } else {
        throw BadRequest("\"cert_sans\" must be a non-empty array of names, or null");
      }
    } else if (key == "recoverable_days") {
      next.recoverable_days = static_cast<int>(int_field(v, key, 7, 90));
    } else if (key == "purge_protection") {
      next.purge_protection = bool_field(v, key);
    } else if (key == "delete_pending_gets") {
      next.delete_pending_gets = static_cast<int>(int_field(v, key, 0, 1000));
    } else if (key == "challenge_resource") {
      if (!v.is_string() || v.as_string().empty()) {
        throw BadRequest("\"challenge_resource\" must be a URL");
      }
      next.challenge_resource = std::string(v.as_string());
    } else if (key == "rng_seed") {
      if (!v.is_uint64() && !(v.is_int64() && v.as_int64() >= 0)) {
        throw BadRequest("\"rng_seed\" must be a non-negative integer");
      }
      seed = v.to_number<std::uint64_t>();
    } else {
      throw BadRequest("unknown setting \"" + key + "\"");
    }
  }
  const bool certificates_changed =
      next.untrusted_cert != settings_.untrusted_cert || next.cert_sans != settings_.cert_sans;
  settings_ = std::move(next);
  if (seed) faults_.reseed(*seed);
  if (certificates_changed) apply_certificate_settings();
  return control_json(200, json::parse(config_json()));
}

void Emulator::apply_certificate_settings() {
  if (!certificates_.present) return;
  if (settings_.untrusted_cert) {
    certificates_.present(certificates_.untrusted_identity);
  } else if (settings_.cert_sans) {
    certificates_.present(certificates_.trusted->issue_server_identity(*settings_.cert_sans));
  } else {
    certificates_.present(std::nullopt);
  }
}

std::string Emulator::config_json() const {
  json::value sans = nullptr;
  if (settings_.cert_sans) {
    json::array names;
    for (const auto &name : *settings_.cert_sans) names.emplace_back(name);
    sans = std::move(names);
  }
  return json::serialize(json::object{
      {"token_lifetime", settings_.token_lifetime_s},
      {"page_size", settings_.page_size},
      {"empty_pages", settings_.empty_pages},
      {"untrusted_cert", settings_.untrusted_cert},
      {"cert_sans", sans},
      {"recoverable_days", settings_.recoverable_days},
      {"purge_protection", settings_.purge_protection},
      {"delete_pending_gets", settings_.delete_pending_gets},
      {"challenge_resource", settings_.challenge_resource},
      {"rng_seed", faults_.seed()},
  });
}

}  // namespace coffer::emulator
