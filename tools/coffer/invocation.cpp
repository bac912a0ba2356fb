#include "invocation.hpp"

namespace coffer::cli {

PolicyLocation Invocation::policy_location() const {
  return tools::locate_policy(globals.policy);
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
  return tools::open_policy(policy_location(), std::move(options));
}

}  // namespace coffer::cli
