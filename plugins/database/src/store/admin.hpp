// The database provider's administrative commands, as the ABI's admin()
// carries them: a command name, a JSON object of arguments, a JSON result.
// docs/providers/database.md documents every argument and result field.
//
//   init               {"scrypt": {"n": N, "r": R, "p": P}}?
//   rotate-master-key  {"new_master_key": SOURCE, "keep_old": BOOL?, "scrypt": {...}?}
//                      | {"drop_old": true}
//   rekey              {"batch_size": N}?
//   verify             {}
//
// Throws coffer::provider::Error (UNSUPPORTED for an unknown command,
// INVALID_ARGUMENT for bad arguments) or AdminError (verify found problems:
// DATA_ERROR with the full result).
#ifndef COFFER_DATABASE_STORE_ADMIN_HPP
#define COFFER_DATABASE_STORE_ADMIN_HPP

#include <filesystem>
#include <string>

#include "store/credential_store.hpp"

namespace coffer::database {

[[nodiscard]] std::string run_admin_command(CredentialStore &store, const std::string &command,
                                            const std::string &arguments_json,
                                            const std::filesystem::path &base_directory);

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORE_ADMIN_HPP
