#include "environment_source.hpp"

#include "key_mapping.hpp"

#include <cstdlib>
#include <cstring>
#include <utility>

extern char **environ;

namespace coffer::env_file {

using coffer::provider::Error;
using coffer::provider::SecretBytes;
using coffer::provider::Value;

std::optional<SecretBytes> ProcessEnvironment::get(const std::string &name) {
  const char *value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return SecretBytes(std::string_view(value));
}

std::vector<std::string> ProcessEnvironment::names() {
  std::vector<std::string> out;
  for (char **entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const char *equals = std::strchr(*entry, '=');
    if (equals != nullptr) out.emplace_back(*entry, static_cast<std::size_t>(equals - *entry));
  }
  return out;
}

EnvironmentSource::EnvironmentSource(std::string prefix, Environment &environment,
                                     const VersionTagger &tagger)
    : prefix_(std::move(prefix)), environment_(environment), tagger_(tagger) {}

Value EnvironmentSource::get(const std::string &name) {
  std::optional<SecretBytes> value = environment_.get(name);
  if (!value) throw Error(COFFER_STATUS_NOT_FOUND, name + " is not set in the process environment");
  std::string version = tagger_.tag(name, value->view());
  return Value{std::move(*value), std::move(version)};
}

std::vector<NamedVersion> EnvironmentSource::list() {
  std::vector<NamedVersion> out;
  for (const std::string &name : environment_.names()) {
    if (!canonical_key(prefix_, name)) continue;
    std::optional<SecretBytes> value = environment_.get(name);
    if (value) out.push_back({name, tagger_.tag(name, value->view())});
  }
  return out;
}

std::string EnvironmentSource::put(const std::string &name, const SecretBytes &) {
  throw Error(COFFER_STATUS_UNSUPPORTED,
              "cannot set " + name +
                  ": the process environment is read-only to coffer (use \"source\": \"file\" "
                  "with \"writable\": true to store secrets)");
}

void EnvironmentSource::remove(const std::string &name) {
  throw Error(COFFER_STATUS_UNSUPPORTED,
              "cannot remove " + name + ": the process environment is read-only to coffer");
}

}  // namespace coffer::env_file
