#include "secret_json.hpp"

#include <boost/json/parse.hpp>

namespace coffer::emulator {

namespace json = boost::json;

namespace {

json::object attributes_json(const Settings &settings, const SecretAttributes &a) {
  json::object out;
  out["enabled"] = a.enabled;
  if (a.not_before) out["nbf"] = *a.not_before;
  if (a.expires) out["exp"] = *a.expires;
  out["created"] = a.created;
  out["updated"] = a.updated;
  out["recoveryLevel"] = recovery_level(settings);
  out["recoverableDays"] = settings.recoverable_days;
  return out;
}

json::object tags_json(const std::map<std::string, std::string> &tags) {
  json::object out;
  for (const auto &[k, v] : tags) out[k] = v;
  return out;
}

std::string base_id(const std::string &authority, const Secret &secret) {
  return "https://" + authority + "/secrets/" + secret.name;
}

}  // namespace

json::object secret_bundle(const Settings &settings, const std::string &authority,
                           const Secret &secret, const SecretVersion &version, bool with_value) {
  json::object out;
  if (with_value) out["value"] = version.value;
  if (version.content_type) out["contentType"] = *version.content_type;
  out["id"] = base_id(authority, secret) + "/" + version.version;
  out["attributes"] = attributes_json(settings, version.attributes);
  if (version.tags) out["tags"] = tags_json(*version.tags);
  return out;
}

json::object secret_item(const Settings &settings, const std::string &authority,
                         const Secret &secret, const SecretVersion &version, bool with_version) {
  json::object out;
  out["id"] = with_version ? base_id(authority, secret) + "/" + version.version
                           : base_id(authority, secret);
  out["attributes"] = attributes_json(settings, version.attributes);
  if (version.tags) out["tags"] = tags_json(*version.tags);
  if (version.content_type) out["contentType"] = *version.content_type;
  return out;
}

json::object deleted_bundle(const Settings &settings, const std::string &authority,
                            const DeletedSecret &deleted) {
  json::object out;
  out["recoveryId"] = "https://" + authority + "/deletedsecrets/" + deleted.secret.name;
  out["deletedDate"] = deleted.deleted_date;
  out["scheduledPurgeDate"] = deleted.scheduled_purge_date;
  for (auto &entry :
       secret_bundle(settings, authority, deleted.secret, deleted.secret.versions.back(), false)) {
    out[entry.key()] = entry.value();
  }
  return out;
}

ParsedWrite parse_secret_write(const std::string &body, bool value_required) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return ParsedWrite(std::string("The request body is not a valid JSON object."));
  }
  const auto &object = parsed.as_object();
  SecretWrite write;
  if (const auto *value = object.if_contains("value"); value != nullptr && value->is_string()) {
    write.value = std::string(value->as_string());
  } else if (value_required) {
    return ParsedWrite(std::string("Property 'value' is required and must be a string."));
  }
  if (const auto *type = object.if_contains("contentType"); type != nullptr && type->is_string()) {
    write.content_type = std::string(type->as_string());
  }
  if (const auto *tags = object.if_contains("tags"); tags != nullptr && tags->is_object()) {
    std::map<std::string, std::string> out;
    for (const auto &entry : tags->as_object()) {
      if (!entry.value().is_string()) {
        return ParsedWrite(std::string("Tag values must be strings."));
      }
      out[std::string(entry.key())] = std::string(entry.value().as_string());
    }
    write.tags = std::move(out);
  }
  if (const auto *attributes = object.if_contains("attributes");
      attributes != nullptr && attributes->is_object()) {
    const auto &a = attributes->as_object();
    if (const auto *enabled = a.if_contains("enabled"); enabled != nullptr && enabled->is_bool()) {
      write.enabled = enabled->as_bool();
    }
    if (const auto *nbf = a.if_contains("nbf"); nbf != nullptr && nbf->is_number()) {
      write.not_before = nbf->to_number<std::int64_t>();
    }
    if (const auto *exp = a.if_contains("exp"); exp != nullptr && exp->is_number()) {
      write.expires = exp->to_number<std::int64_t>();
    }
  }
  return ParsedWrite(std::move(write));
}

}  // namespace coffer::emulator
