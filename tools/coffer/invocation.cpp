#include "invocation.hpp"

#include <cstdlib>

namespace coffer::cli {

PolicyLocation Invocation::policy_location() const {
  if (globals.policy) return {*globals.policy, "--policy", true};
  if (const char *env = std::getenv("COFFER_POLICY"); env != nullptr && *env != '\0')
    return {env, "COFFER_POLICY", true};
  return {"./coffer.json", "the default", false};
}

StoreOptions Invocation::store_options() const {
  StoreOptions options;
  options.log_level = globals.quiet ? LogLevel::error : globals.log_level;
  options.caller = "coffer-cli";
  return options;
}

Store Invocation::open_store() const {
  return open_store(store_options());
}

Store Invocation::open_store_to_read() const {
  StoreOptions options = store_options();
  options.open_failures = OpenFailures::isolate;
  return open_store(std::move(options));
}

Store Invocation::open_store(StoreOptions options) const {
  PolicyLocation where = policy_location();
  std::error_code ec;
  if (!std::filesystem::exists(where.file, ec))
    throw Error(Code::invalid_config,
                "no policy file " + where.file.string() + " (" + where.origin +
                    "); give one with --policy FILE or the COFFER_POLICY environment variable");
  return Store::open(where.file, std::move(options));
}

}  // namespace coffer::cli
