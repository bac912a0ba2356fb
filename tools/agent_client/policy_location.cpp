#include "policy_location.hpp"

#include <cstdlib>

namespace coffer::tools {

PolicyLocation locate_policy(const std::optional<std::string> &option) {
  if (option) return {*option, "--policy", true};
  if (const char *env = std::getenv("COFFER_POLICY"); env != nullptr && *env != '\0')
    return {env, "COFFER_POLICY", true};
  return {"./coffer.json", "the default", false};
}

Store open_policy(const PolicyLocation &where, StoreOptions options) {
  std::error_code ec;
  if (!std::filesystem::exists(where.file, ec))
    throw Error(Code::invalid_config,
                "no policy file " + where.file.string() + " (" + where.origin +
                    "); give one with --policy FILE or the COFFER_POLICY environment variable");
  return Store::open(where.file, std::move(options));
}

}  // namespace coffer::tools
