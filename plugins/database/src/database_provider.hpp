// The database provider: credentials encrypted at rest in SQLite or
// PostgreSQL, as a coffer provider (src/plugin.cpp exports it). An SQLite
// store answers on the caller's thread; a PostgreSQL store on the provider's
// own threads (store/executor.hpp). The entry points may be called from any
// thread; errors reach the completion, never the caller.
#ifndef COFFER_DATABASE_PROVIDER_HPP
#define COFFER_DATABASE_PROVIDER_HPP

#include <coffer/provider.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "store/config.hpp"
#include "store/credential_store.hpp"
#include "store/executor.hpp"

namespace coffer::database {

class DatabaseProvider final : public coffer::provider::Provider {
 public:
  static constexpr uint64_t capabilities = COFFER_CAP_PUT | COFFER_CAP_REMOVE | COFFER_CAP_LIST |
                                           COFFER_CAP_HEALTH | COFFER_CAP_VERSIONS |
                                           COFFER_CAP_ADMIN | COFFER_CAP_HISTORY;

  // Throws coffer::provider::Error (COFFER_STATUS_INVALID_CONFIG) for a bad
  // configuration or an unreadable master key.
  DatabaseProvider(const coffer::provider::Host &host, const coffer::provider::OpenParams &params);

  // The Store is closing: PostgreSQL retries stop and their waits end now.
  void cancel() override;
  void get(const coffer::provider::GetRequest &request,
           coffer::provider::GetCompletion &&done) override;
  void put(const std::string &key, const coffer::provider::SecretBytes &value,
           coffer::provider::DoneCompletion &&done) override;
  void remove(const std::string &key, coffer::provider::DoneCompletion &&done) override;
  void list(coffer::provider::ListCompletion &&done) override;
  // Every version coffer_records keeps (the config's `history`); each is
  // served by get, so every one is enabled.
  void versions(const std::string &key, coffer::provider::VersionsCompletion &&done) override;
  void health(coffer::provider::DoneCompletion &&done) override;
  void admin(const std::string &command, const std::string &arguments_json,
             coffer::provider::AdminCompletion &&done) override;
  std::string key_name(const std::string &key) override;

 private:
  void read(const coffer::provider::GetRequest &request,
            coffer::provider::GetCompletion &completion);
  // Runs `body` with the completion, inline or on the executor's threads,
  // and answers the completion with any exception `body` throws.
  template <class Completion, class Body>
  void run(Completion &&done, Body body);
  template <class Completion, class Body>
  static void answer(Completion &completion, Body &body) noexcept;

  coffer::provider::Host host_;
  std::filesystem::path base_directory_;
  Config config_;
  std::unique_ptr<CredentialStore> store_;
  Executor executor_;  // last: its threads stop before the store goes away
};

}  // namespace coffer::database

#endif  // COFFER_DATABASE_PROVIDER_HPP
