// The azure_keyvault provider: coffer keys in Azure Key Vault, one secret per
// key or members of one JSON bundle secret. An instance owns one I/O thread
// (started in the constructor, joined in the destructor) on which every
// request runs; the coffer_provider entry points only validate, copy and hand
// over, so they may be called from any thread.
#ifndef COFFER_AZURE_KEYVAULT_PROVIDER_HPP
#define COFFER_AZURE_KEYVAULT_PROVIDER_HPP

#include "config.hpp"

#include <coffer/provider.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

namespace coffer::azure {

class KeyVaultProvider final : public coffer::provider::Provider {
 public:
  static constexpr uint64_t capabilities = COFFER_CAP_PUT | COFFER_CAP_REMOVE | COFFER_CAP_LIST |
                                           COFFER_CAP_HEALTH | COFFER_CAP_VERSIONS |
                                           COFFER_CAP_HISTORY | COFFER_CAP_SOFT_DELETE;

  // Throws coffer::provider::Error (COFFER_STATUS_INVALID_CONFIG) for a bad
  // configuration. Does not touch the network.
  KeyVaultProvider(const coffer::provider::Host &host, const coffer::provider::OpenParams &params);
  KeyVaultProvider(const coffer::provider::Host &host, const coffer::provider::OpenParams &params,
                   EnvironmentLookup environment);
  // Fails what is still running with COFFER_STATUS_UNAVAILABLE, waits for it
  // and for the I/O thread, and wipes tokens and cached values.
  ~KeyVaultProvider() override;

  void get(const coffer::provider::GetRequest &request,
           coffer::provider::GetCompletion &&done) override;
  void put(const std::string &key, const coffer::provider::SecretBytes &value,
           coffer::provider::DoneCompletion &&done) override;
  void remove(const std::string &key, coffer::provider::DoneCompletion &&done) override;
  void list(coffer::provider::ListCompletion &&done) override;
  void health(coffer::provider::DoneCompletion &&done) override;
  // The per_key layout only: a bundle's versions are the bundle's, and a
  // member removed from a bundle is gone (UNSUPPORTED, saying so).
  void versions(const std::string &key, coffer::provider::VersionsCompletion &&done) override;
  void purge(const std::string &key, coffer::provider::DoneCompletion &&done) override;
  std::string key_name(const std::string &key) override;
  // The host is closing: fails what is running, and what comes later, with
  // COFFER_STATUS_UNAVAILABLE, without waiting for the network.
  void cancel() override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace coffer::azure

#endif  // COFFER_AZURE_KEYVAULT_PROVIDER_HPP
