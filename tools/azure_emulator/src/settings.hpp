// The emulator's settings: fixed at start from the command line, some of them
// changed later through POST /_emulator/config. Plain data.
#ifndef COFFER_AZURE_EMULATOR_SETTINGS_HPP
#define COFFER_AZURE_EMULATOR_SETTINGS_HPP

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace coffer::emulator {

struct Settings {
  // Identity (command line only).
  std::string tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  std::string client_id = "11111111-2222-3333-4444-555555555555";
  std::filesystem::path token_file;          // federated token: the accepted client_assertion
  std::filesystem::path client_secret_file;  // the accepted client_secret
  std::vector<std::string> extra_sans;       // added to localhost, 127.0.0.1

  // Changeable at run time.
  int token_lifetime_s = 3600;
  int page_size = 25;
  int empty_pages = 0;  // empty pages (with a nextLink) before the first item of a listing
  std::string challenge_resource = "https://vault.azure.net";
  int recoverable_days = 90;  // soft-delete retention (7..90)
  bool purge_protection = false;
  int delete_pending_gets = 0;  // GET /deletedsecrets/NAME answers 404 this often after a delete
  bool untrusted_cert = false;
  std::optional<std::vector<std::string>> cert_sans;  // present a leaf with only these names
};

// Key Vault's recoveryLevel for a retention period and purge protection.
inline std::string recovery_level(const Settings &s) {
  std::string level = s.recoverable_days < 90 ? "CustomizedRecoverable" : "Recoverable";
  if (!s.purge_protection) level += "+Purgeable";
  return level;
}

}  // namespace coffer::emulator

#endif
