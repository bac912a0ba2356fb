// The process environment as a source of secrets (`"source": "environment"`).
// Read-only; every get reads the variable afresh (nothing is cached), and
// list() shows only the variables of the form <prefix>Category__Name.
//
// Threading: safe as long as nothing in the process calls setenv/putenv at
// the same time (a rule of the C library, not of coffer).
#ifndef COFFER_ENV_FILE_ENVIRONMENT_SOURCE_HPP
#define COFFER_ENV_FILE_ENVIRONMENT_SOURCE_HPP

#include "source.hpp"
#include "version_tag.hpp"

#include <optional>
#include <string>
#include <vector>

namespace coffer::env_file {

// The environment behind a seam, so tests can supply their own.
class Environment {
 public:
  virtual ~Environment() = default;
  virtual std::optional<coffer::provider::SecretBytes> get(const std::string &name) = 0;
  virtual std::vector<std::string> names() = 0;
};

// getenv() and environ.
class ProcessEnvironment final : public Environment {
 public:
  std::optional<coffer::provider::SecretBytes> get(const std::string &name) override;
  std::vector<std::string> names() override;
};

class EnvironmentSource final : public Source {
 public:
  EnvironmentSource(std::string prefix, Environment &environment, const VersionTagger &tagger);

  coffer::provider::Value get(const std::string &name) override;
  std::vector<NamedVersion> list() override;
  std::string put(const std::string &name, const coffer::provider::SecretBytes &value) override;
  void remove(const std::string &name) override;
  void health() override {}

 private:
  const std::string prefix_;
  Environment &environment_;
  const VersionTagger &tagger_;
};

}  // namespace coffer::env_file

#endif  // COFFER_ENV_FILE_ENVIRONMENT_SOURCE_HPP
