#include "store/admin.hpp"

#include <coffer/config_fields.hpp>
#include <coffer/provider_helpers.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <optional>

#include "crypto/bytes.hpp"
#include "storage/schema.hpp"

namespace coffer::database {

using coffer::provider::ConfigFields;
using coffer::provider::ConfigPlace;
using coffer::provider::Error;

namespace {

// Where a command's arguments are, for messages; errors are INVALID_ARGUMENT.
ConfigPlace arguments_of(const std::string &command) {
  return ConfigPlace{.path = {},
                     .document = "the arguments of '" + command + "'",
                     .status = COFFER_STATUS_INVALID_ARGUMENT};
}

const char *kind_name(MasterKeySource::Kind kind) {
  switch (kind) {
    case MasterKeySource::Kind::file:
      return "file";
    case MasterKeySource::Kind::env:
      return "env";
    case MasterKeySource::Kind::passphrase_env:
      return "passphrase_env";
  }
  return "";
}

std::string init(CredentialStore &store, const boost::json::value &arguments) {
  const ConfigFields fields(arguments, {"scrypt"}, arguments_of("init"));
  InitOptions options;
  if (fields.has("scrypt") && !store.config().master_key.is_passphrase())
    fields.fail("scrypt", "applies only to a passphrase master key (master_key.passphrase_env)");
  options.scrypt = parse_scrypt_params(fields.find("scrypt"), "scrypt");
  InitResult result = store.init(options);
  boost::json::object out;
  out["command"] = "init";
  out["created"] = result.created;
  out["location"] = store.storage().location();
  out["store_id"] = to_hex(result.store_id);
  out["schema_version"] = current_schema_version;
  out["data_key"] = result.data_key_id;
  out["master_key"] = kind_name(store.config().master_key.kind);
  out["master_key_file_created"] = result.master_key_file_created;
  return boost::json::serialize(out);
}

std::string rotate(CredentialStore &store, const boost::json::value &arguments,
                   const std::filesystem::path &base_directory) {
  const ConfigFields fields(arguments, {"new_master_key", "keep_old", "drop_old", "scrypt"},
                            arguments_of("rotate-master-key"));
  RotateOptions options;
  options.drop_old = fields.boolean("drop_old").value_or(false);
  options.keep_old = fields.boolean("keep_old").value_or(false);
  if (options.drop_old) {
    if (fields.has("new_master_key") || fields.has("keep_old") || fields.has("scrypt"))
      fields.fail("drop_old",
                  "comes alone: it removes every master key but the one the policy names");
  } else {
    const auto *source = fields.find("new_master_key");
    if (source == nullptr)
      fields.missing("new_master_key",
                     "; give {\"file\": PATH}, {\"env\": NAME} or {\"passphrase_env\": NAME} "
                     "(or {\"drop_old\": true} to finish a staged rotation)");
    options.new_master_key = parse_master_key_source(*source, "new_master_key", base_directory,
                                                     COFFER_STATUS_INVALID_ARGUMENT);
    if (fields.has("scrypt") && !options.new_master_key->is_passphrase())
      fields.fail("scrypt", "applies only to a passphrase (new_master_key.passphrase_env)");
    options.scrypt = parse_scrypt_params(fields.find("scrypt"), "scrypt");
  }
  RotateResult result = store.rotate_master_key(options);
  boost::json::object out;
  out["command"] = "rotate-master-key";
  out["rewrapped_data_keys"] = result.rewrapped_data_keys;
  out["dropped_master_keys"] = result.dropped_master_keys;
  out["master_keys"] = result.master_keys;
  out["kept_old"] = options.keep_old;
  boost::json::array kept;
  for (const auto &description : result.kept_master_keys)
    kept.push_back(boost::json::value(description));
  out["kept_master_keys"] = std::move(kept);
  out["master_key_file_created"] = result.master_key_file_created;
  return boost::json::serialize(out);
}

std::string rekey(CredentialStore &store, const boost::json::value &arguments) {
  const ConfigFields fields(arguments, {"batch_size", "max_batches"}, arguments_of("rekey"));
  auto batch = fields.integer("batch_size", 1, 10000).value_or(100);
  std::optional<std::size_t> max_batches;
  if (auto limit = fields.integer("max_batches", 1, 1000000))
    max_batches = static_cast<std::size_t>(*limit);
  RekeyResult result = store.rekey(static_cast<std::size_t>(batch), max_batches);
  boost::json::object out;
  out["command"] = "rekey";
  out["data_key"] = result.data_key_id;
  out["resumed"] = result.resumed;
  out["reencrypted"] = result.reencrypted;
  boost::json::array retired;
  for (int64_t id : result.retired_data_keys) retired.push_back(id);
  out["retired_data_keys"] = std::move(retired);
  out["finished"] = result.finished;
  out["remaining"] = result.remaining;
  return boost::json::serialize(out);
}

// verify's "after": {"key": K, "version": V}, the last record of the part before.
VerifyPart verify_part(const ConfigFields &fields) {
  VerifyPart part;
  if (auto limit = fields.integer("limit", 1, 1000000))
    part.limit = static_cast<std::size_t>(*limit);
  if (auto cursor = fields.object("after", {"key", "version"})) {
    if (part.limit == 0) fields.fail("after", "needs \"limit\" (a part of a verification)");
    auto key = cursor->non_empty_string("key");
    auto version = cursor->integer("version", 1, INT64_MAX);
    if (!key || !version) fields.fail("after", "needs both \"key\" and \"version\"");
    part.first = false;
    part.after_key = *key;
    part.after_version = static_cast<uint64_t>(*version);
  }
  return part;
}

std::string verify(CredentialStore &store, const boost::json::value &arguments) {
  const ConfigFields fields(arguments, {"limit", "after"}, arguments_of("verify"));
  const VerifyPart part = verify_part(fields);
  VerifyResult result = store.verify(part);
  boost::json::object out;
  out["command"] = "verify";
  out["ok"] = result.ok();
  out["records"] = result.records;
  out["keys"] = result.keys;
  out["data_keys"] = result.data_keys;
  out["integrity_check"] = result.integrity_check;
  out["unlocked"] = result.unlock_error.empty();
  if (part.limit != 0) {
    // A part: the host goes on after "last" until "finished", and judges the
    // whole; a part with bad records is no failure of its own.
    out["finished"] = result.finished;
    out["last"] = result.last_key.empty()
                      ? boost::json::value(nullptr)
                      : boost::json::value(boost::json::object{{"key", result.last_key},
                                                               {"version", result.last_version}});
    if (part.first) out["total"] = result.total;
    out["location"] = store.storage().location();
  }
  boost::json::array bad;
  if (!result.unlock_error.empty()) {
    boost::json::object entry;
    entry["key"] = nullptr;
    entry["version"] = nullptr;
    entry["error"] = result.unlock_error;
    bad.push_back(std::move(entry));
  }
  for (const auto &problem : result.bad) {
    boost::json::object entry;
    entry["key"] =
        problem.key.empty() ? boost::json::value(nullptr) : boost::json::value(problem.key);
    entry["version"] =
        problem.version == 0 ? boost::json::value(nullptr) : boost::json::value(problem.version);
    entry["error"] = problem.error;
    bad.push_back(std::move(entry));
  }
  out["bad"] = std::move(bad);
  std::string json = boost::json::serialize(out);
  if (!result.ok() && part.limit == 0) {
    std::string message = std::to_string(result.bad.size()) + " of " +
                          std::to_string(result.records) + " records failed verification in " +
                          store.storage().location();
    if (!result.unlock_error.empty())
      message = "verification stopped: " + result.unlock_error +
                "; the database's integrity check reports: " + result.integrity_check;
    else if (result.integrity_check != "ok")
      message += "; the database's integrity check reports: " + result.integrity_check;
    throw AdminError(COFFER_STATUS_DATA_ERROR, message, json);
  }
  return json;
}

}  // namespace

std::string run_admin_command(CredentialStore &store, const std::string &command,
                              const std::string &arguments_json,
                              const std::filesystem::path &base_directory) {
  const boost::json::value arguments =
      coffer::provider::parse_config_text(arguments_json, arguments_of(command));
  if (command == "init") return init(store, arguments);
  if (command == "rotate-master-key") return rotate(store, arguments, base_directory);
  if (command == "rekey") return rekey(store, arguments);
  if (command == "verify") return verify(store, arguments);
  std::string message = "unknown command '" + command + "'";
  if (auto nearest =
          coffer::provider::nearest_name(command, {"init", "rotate-master-key", "rekey", "verify"}))
    message += "; did you mean '" + *nearest + "'?";
  message += " (the database provider's commands: init, rotate-master-key, rekey, verify)";
  throw Error(COFFER_STATUS_UNSUPPORTED, message);
}

}  // namespace coffer::database
