// The env_file plugin: dotenv files, or the process environment, as a coffer
// provider. This file only wires the pieces to the SDK; see config.hpp,
// file_source.hpp and environment_source.hpp.
#include "config.hpp"
#include "environment_source.hpp"
#include "file_source.hpp"
#include "file_system.hpp"
#include "key_mapping.hpp"
#include "version_tag.hpp"

#include <coffer/provider.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace coffer::env_file {
namespace {

using coffer::provider::Error;
using coffer::provider::GetRequest;
using coffer::provider::Host;
using coffer::provider::ListEntry;
using coffer::provider::OpenParams;
using coffer::provider::SecretBytes;
using coffer::provider::Value;

Config configure(const OpenParams &params) {
  try {
    return parse_config(params.config_json, params.base_directory);
  } catch (const Error &error) {
    throw Error(error.status(),
                "config of env_file provider '" + params.instance_name + "': " + error.what());
  }
}

class EnvFileProvider final : public coffer::provider::SyncProvider {
 public:
  static constexpr uint64_t capabilities =
      COFFER_CAP_GET | COFFER_CAP_PUT | COFFER_CAP_REMOVE | COFFER_CAP_LIST | COFFER_CAP_HEALTH;

  EnvFileProvider(const Host &host, const OpenParams &params)
      : host_(host), instance_(params.instance_name), config_(configure(params)) {
    if (config_.source == SourceKind::environment) {
      source_ = std::make_unique<EnvironmentSource>(config_.prefix, environment_, tagger_);
    } else {
      source_ = std::make_unique<FileSource>(
          FileSourceSettings{config_.path, config_.expand, config_.writable,
                             config_.require_private},
          file_system_, tagger_, [this](int32_t level, const std::string &message) {
            host_.log(level, "env_file '" + instance_ + "': " + message);
          });
    }
  }

  Value get(const GetRequest &request) override {
    if (!request.version.empty())
      throw Error(COFFER_STATUS_UNSUPPORTED,
                  "key " + request.key +
                      ": env_file keeps only the current value and cannot return version " +
                      request.version);
    return with_key(request.key, [&](const std::string &name) { return source_->get(name); });
  }

  std::string put(const std::string &key, const SecretBytes &value) override {
    return with_key(key, [&](const std::string &name) { return source_->put(name, value); });
  }

  void remove(const std::string &key) override {
    with_key(key, [&](const std::string &name) {
      source_->remove(name);
      return 0;
    });
  }

  std::vector<ListEntry> list() override {
    std::vector<ListEntry> out;
    for (NamedVersion &entry : source_->list()) {
      std::optional<std::string> key = canonical_key(config_.prefix, entry.name);
      out.push_back(ListEntry{key.value_or(""), std::move(entry.name), std::move(entry.version)});
    }
    return out;
  }

  void health() override { source_->health(); }

  std::string key_name(const std::string &key) override {
    return variable_name(config_.prefix, key);
  }

 private:
  // Maps `key` and runs `operation` on the name; failures name the key.
  template <class Operation>
  std::invoke_result_t<Operation, const std::string &> with_key(const std::string &key,
                                                                Operation &&operation) {
    std::string name = variable_name(config_.prefix, key);
    try {
      return operation(name);
    } catch (const Error &error) {
      throw Error(error.status(), "key " + key + ": " + error.what());
    }
  }

  Host host_;
  std::string instance_;
  Config config_;
  VersionTagger tagger_;
  PosixFileSystem file_system_;
  ProcessEnvironment environment_;
  std::unique_ptr<Source> source_;
};

}  // namespace
}  // namespace coffer::env_file

COFFER_PROVIDER(coffer::env_file::EnvFileProvider, "env_file", COFFER_ENV_FILE_VERSION,
                "dotenv files (Docker Compose syntax) and the process environment")
