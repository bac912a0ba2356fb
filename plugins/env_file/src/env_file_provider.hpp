// The env_file provider: dotenv files, or the process environment, as a
// coffer provider (src/plugin.cpp exports it). It answers on the caller's
// thread (SyncProvider); see config.hpp, file_source.hpp and
// environment_source.hpp for what it reads and writes.
#ifndef COFFER_ENV_FILE_PROVIDER_HPP
#define COFFER_ENV_FILE_PROVIDER_HPP

#include "config.hpp"
#include "environment_source.hpp"
#include "file_system.hpp"
#include "source.hpp"
#include "version_tag.hpp"

#include <coffer/provider.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace coffer::env_file {

class EnvFileProvider final : public coffer::provider::SyncProvider {
 public:
  static constexpr uint64_t capabilities =
      COFFER_CAP_GET | COFFER_CAP_PUT | COFFER_CAP_REMOVE | COFFER_CAP_LIST | COFFER_CAP_HEALTH;

  // Throws coffer::provider::Error (COFFER_STATUS_INVALID_CONFIG) naming the
  // instance for a bad configuration.
  EnvFileProvider(const coffer::provider::Host &host, const coffer::provider::OpenParams &params);

  coffer::provider::Value get(const coffer::provider::GetRequest &request) override;
  std::string put(const std::string &key, const coffer::provider::SecretBytes &value) override;
  void remove(const std::string &key) override;
  std::vector<coffer::provider::ListEntry> list() override;
  void health() override;
  std::string key_name(const std::string &key) override;

 private:
  // Maps `key` and runs `operation` on the name; failures name the key.
  template <class Operation>
  std::invoke_result_t<Operation, const std::string &> with_key(const std::string &key,
                                                                Operation &&operation);

  coffer::provider::Host host_;
  std::string instance_;
  Config config_;
  VersionTagger tagger_;
  PosixFileSystem file_system_;
  ProcessEnvironment environment_;
  std::unique_ptr<Source> source_;
};

}  // namespace coffer::env_file

#endif  // COFFER_ENV_FILE_PROVIDER_HPP
