// The policy loader (JSON with comments and trailing commas): any text either
// loads into a policy whose references hold, or fails with an invalid_config
// error that names the file.
#include <coffer/error.hpp>

#include <algorithm>
#include <string>

#include "fuzz_support.hpp"
#include "policy/policy.hpp"

namespace {

using coffer::fuzz::require;

void check_chain(const coffer::detail::Policy &policy, const coffer::detail::Chain &chain) {
  require(!chain.providers.empty(), "a chain names at least one provider");
  for (const auto &name : chain.providers)
    require(policy.provider(name) != nullptr, "a chain names only declared providers");
  for (std::size_t i = 0; i < chain.providers.size(); ++i)
    require(std::count(chain.providers.begin(), chain.providers.end(), chain.providers[i]) == 1,
            "a chain names a provider once");
}

void check_policy(const coffer::detail::Policy &policy) {
  require(!policy.providers.empty(), "a policy declares a provider");
  require(!policy.routes.empty() || !policy.keys.empty(), "a policy serves something");
  for (const auto &[category, route] : policy.routes) check_chain(policy, route.chain);
  for (const auto &[key, chain] : policy.keys) check_chain(policy, chain);
  const auto &cache = policy.cache;
  require(cache.ttl.count() >= 0 && cache.refresh_ahead.count() >= 0 &&
              cache.stale_if_error.count() >= 0 && cache.negative_ttl.count() >= 0,
          "cache durations are not negative");
  require(cache.refresh_ahead <= cache.ttl, "refresh_ahead_s does not exceed ttl_s");
  require(policy.timeout.count() > 0, "the timeout is positive");
  if (policy.audit) require(policy.audit->keep <= 1000, "audit.keep is at most 1000");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  const std::string source = "policy.json";
  try {
    check_policy(coffer::detail::parse_policy(source, text, "/etc/coffer"));
  } catch (const coffer::Error &error) {
    require(error.code() == coffer::Code::invalid_config, "a bad policy is invalid_config");
    require(std::string_view(error.what()).starts_with(source + ":"),
            "a policy error names the file");
  }
  return 0;
}
