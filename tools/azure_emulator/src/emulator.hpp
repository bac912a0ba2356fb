// The emulator's request router: sends each request to Entra ID, IMDS, Key
// Vault or the control API, counts it, and injects the faults the tests
// asked for. Runs on the server's single thread; not thread-safe.
#ifndef COFFER_AZURE_EMULATOR_EMULATOR_HPP
#define COFFER_AZURE_EMULATOR_EMULATOR_HPP

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "faults.hpp"
#include "http_message.hpp"
#include "identity.hpp"
#include "key_vault.hpp"
#include "pki.hpp"
#include "settings.hpp"
#include "token_store.hpp"
#include "vault_state.hpp"

namespace coffer::emulator {

// How the control API changes the certificate the server presents.
struct CertificateControl {
  const CertificateAuthority *trusted = nullptr;
  TlsIdentity untrusted_identity;         // from a CA that clients do not trust
  std::vector<std::string> default_sans;  // of the normal certificate
  std::function<void(const std::optional<TlsIdentity> &)> present;
};

class Emulator {
 public:
  Emulator(Settings settings, std::uint64_t rng_seed);
  Emulator(const Emulator &) = delete;
  Emulator &operator=(const Emulator &) = delete;

  // Completes the set-up once the server is bound.
  void attach(unsigned short https_port, CertificateControl certificates);

  Response handle_https(const Request &request);
  Response handle_imds(const Request &request);

  VaultState &vault() { return vault_; }
  [[nodiscard]] const Settings &settings() const { return settings_; }
  [[nodiscard]] std::uint64_t rng_seed() const { return faults_.seed(); }

 private:
  Response serve(const std::string &route, const Request &request, const Target &target);
  Response dispatch(const std::string &route, const Request &request, const Target &target);
  Response fault_response(const std::string &route, const FaultRule &fault, const Request &request);
  bool take_expired_token_fault(const std::string &route);
  Response handle_control(const Request &request, const Target &target);  // control_api.cpp
  Response configure(const Request &request);                             // control_api.cpp
  [[nodiscard]] std::string config_json() const;                          // control_api.cpp
  void apply_certificate_settings();                                      // control_api.cpp

  Settings settings_;
  VaultState vault_;
  TokenStore tokens_;
  FaultPlan faults_;
  IdentityService identity_;
  KeyVault key_vault_;
  CertificateControl certificates_;
  unsigned short https_port_ = 0;
  std::map<std::string, std::uint64_t> requests_;
};

}  // namespace coffer::emulator

#endif
