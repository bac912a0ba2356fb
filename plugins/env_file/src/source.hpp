// Where an env_file instance takes its variables from: a file (FileSource) or
// the process environment (EnvironmentSource). Sources speak in variable
// names (`PMP_VCS__GithubAdminPAT`); mapping canonical keys is the provider's
// business.
//
// Threading: every method may be called from many threads at once.
#ifndef COFFER_ENV_FILE_SOURCE_HPP
#define COFFER_ENV_FILE_SOURCE_HPP

#include <coffer/provider.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace coffer::env_file {

// Writes one log line through the host (never with a value in it).
using LogFunction = std::function<void(int32_t level, const std::string &message)>;

struct NamedVersion {
  std::string name;
  std::string version;
};

class Source {
 public:
  virtual ~Source() = default;
  // The value of `name` and its version. Throws coffer::provider::Error:
  // NOT_FOUND when it is not defined, DENIED/UNAVAILABLE when the source
  // cannot be used.
  virtual coffer::provider::Value get(const std::string &name) = 0;
  // Every name the source holds, in its own order, with versions.
  virtual std::vector<NamedVersion> list() = 0;
  // Sets `name` and returns the new version. UNSUPPORTED unless writable.
  virtual std::string put(const std::string &name, const coffer::provider::SecretBytes &value) = 0;
  // Removes `name`; NOT_FOUND when it is not defined. UNSUPPORTED unless writable.
  virtual void remove(const std::string &name) = 0;
  // Throws when the source cannot serve (the status and a message saying why).
  virtual void health() = 0;
};

}  // namespace coffer::env_file

#endif  // COFFER_ENV_FILE_SOURCE_HPP
