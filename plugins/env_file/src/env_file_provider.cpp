// The env_file provider (env_file_provider.hpp): wires the configuration, the
// sources and the key mapping to the SDK.
#include "env_file_provider.hpp"

#include "file_source.hpp"
#include "key_mapping.hpp"

namespace coffer::env_file {

using coffer::provider::Error;
using coffer::provider::GetRequest;
using coffer::provider::Host;
using coffer::provider::ListEntry;
using coffer::provider::OpenParams;
using coffer::provider::SecretBytes;
using coffer::provider::Value;

namespace {

Config configure(const OpenParams &params) {
  try {
    return parse_config(params.config_json, params.base_directory);
  } catch (const Error &error) {
    throw Error(error.status(),
                "config of env_file provider '" + params.instance_name + "': " + error.what());
  }
}

}  // namespace

EnvFileProvider::EnvFileProvider(const Host &host, const OpenParams &params)
    : host_(host), instance_(params.instance_name), config_(configure(params)) {
  if (config_.source == SourceKind::environment) {
    source_ = std::make_unique<EnvironmentSource>(config_.prefix, environment_, tagger_);
  } else {
    source_ = std::make_unique<FileSource>(
        FileSourceSettings{config_.path, config_.expand, config_.writable, config_.require_private},
        file_system_, tagger_, [this](int32_t level, const std::string &message) {
          host_.log(level, "env_file '" + instance_ + "': " + message);
        });
  }
}

Value EnvFileProvider::get(const GetRequest &request) {
  if (!request.version.empty())
    throw Error(COFFER_STATUS_UNSUPPORTED,
                "key " + request.key +
                    ": env_file keeps only the current value and cannot return version " +
                    request.version);
  return with_key(request.key, [&](const std::string &name) { return source_->get(name); });
}

std::string EnvFileProvider::put(const std::string &key, const SecretBytes &value) {
  return with_key(key, [&](const std::string &name) { return source_->put(name, value); });
}

void EnvFileProvider::remove(const std::string &key) {
  with_key(key, [&](const std::string &name) {
    source_->remove(name);
    return 0;
  });
}

std::vector<ListEntry> EnvFileProvider::list() {
  std::vector<ListEntry> out;
  for (NamedVersion &entry : source_->list()) {
    std::optional<std::string> key = canonical_key(config_.prefix, entry.name);
    out.push_back(ListEntry{key.value_or(""), std::move(entry.name), std::move(entry.version)});
  }
  return out;
}

void EnvFileProvider::health() {
  source_->health();
}

std::string EnvFileProvider::key_name(const std::string &key) {
  return variable_name(config_.prefix, key);
}

template <class Operation>
std::invoke_result_t<Operation, const std::string &> EnvFileProvider::with_key(
    const std::string &key, Operation &&operation) {
  std::string name = variable_name(config_.prefix, key);
  try {
    return operation(name);
  } catch (const Error &error) {
    throw Error(error.status(), "key " + key + ": " + error.what());
  }
}

}  // namespace coffer::env_file
