// A database provider (SQLite, initialised) and the Key Vault emulator side
// by side, with a policy file routing between them and the `coffer` tool to
// drive: the setting of a backend switch.
#ifndef COFFER_TESTS_SWITCHING_SWITCH_FIXTURE_HPP
#define COFFER_TESTS_SWITCHING_SWITCH_FIXTURE_HPP

#include <coffer/store.hpp>

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "child_process.hpp"
#include "kv_fixture.hpp"

namespace coffer::test {

inline std::string cli_program() {
  const char *cli = std::getenv("COFFER_CLI");
  if (cli == nullptr) throw std::runtime_error("COFFER_CLI is not set");
  return cli;
}

inline std::string slurp(const std::filesystem::path &file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Values that are unlike anything else in the run, so that a search for them
// in logs and audit files finds only leaks.
inline std::string secret_value_for(const std::string &key, const std::string &round = "a") {
  return "VAL-" + round + "-" + key + "-q7Z!x9#";
}

class SwitchWorld {
 public:
  // `layout`: the vault's "layout" config value (per_key or a json_bundle object).
  explicit SwitchWorld(boost::json::value layout = "per_key",
                       const std::string &routes = R"("VCS": "db", "*": "db")")
      : kv_() {
    dir_ = kv_.dir().path();
    boost::json::object vault_config = boost::json::parse(kv_.config()).as_object();
    vault_config["layout"] = std::move(layout);
    vault_config_ = boost::json::serialize(vault_config);
    write_policy(routes);
    // Create the SQLite store and its master key.
    auto init = run({"db", "init"});
    if (init.status != 0) throw std::runtime_error("coffer db init failed: " + init.err);
  }

  [[nodiscard]] kvtest::World &kv() { return kv_; }
  [[nodiscard]] const std::filesystem::path &dir() const { return dir_; }
  [[nodiscard]] std::filesystem::path policy_file() const { return dir_ / "coffer.json"; }
  [[nodiscard]] std::filesystem::path audit_file() const { return dir_ / "audit.log"; }

  // The policy, with comments the targeted edit must keep.
  [[nodiscard]] std::string policy_text(const std::string &routes) const {
    return std::string("{\n") + "  // The switch of VCS from the database to the vault.\n" +
           "  \"coffer\": 1,\n" + "  \"plugin_dirs\": [\"" + plugin_dir().string() + "\"],\n" +
           "  \"providers\": {\n" +
           "    \"db\": {\"plugin\": \"database\", \"config\": {\"url\": \"sqlite://" +
           (dir_ / "credentials.db").string() + "\", \"master_key\": {\"file\": \"" +
           (dir_ / "master.key").string() + "\"}}},\n" +
           "    \"vault\": {\"plugin\": \"azure_keyvault\", \"config\": " + vault_config_ + "}\n" +
           "  },\n" + "  \"routes\": {\n" + "    /* keep me */ " + routes + "\n" + "  },\n" +
           "  \"cache\": {\"ttl_s\": 0.2, \"refresh_ahead_s\": 0.05},\n" +
           "  \"audit\": {\"file\": \"audit.log\"}\n" + "}\n";
  }
  void write_policy(const std::string &routes) const {
    auto temp = dir_ / "coffer.json.new";
    std::ofstream(temp, std::ios::binary | std::ios::trunc) << policy_text(routes);
    std::filesystem::rename(temp, policy_file());
  }

  // Runs `coffer --policy FILE ARGS...`.
  [[nodiscard]] ProcessResult run(std::vector<std::string> arguments,
                                  std::string_view input = {}) const {
    SpawnOptions options;
    options.arguments = {"--policy", policy_file().string()};
    for (auto &a : arguments) options.arguments.push_back(std::move(a));
    options.environment["COFFER_PLUGIN_PATH"] = std::nullopt;
    return run_process(cli_program(), options, input);
  }
  [[nodiscard]] SpawnOptions spawn_options(std::vector<std::string> arguments) const {
    SpawnOptions options;
    options.arguments = {"--policy", policy_file().string()};
    for (auto &a : arguments) options.arguments.push_back(std::move(a));
    return options;
  }

  // Writes `values` into the database provider through a Store.
  void seed_database(const std::map<std::string, std::string> &values) const {
    coffer::StoreOptions options;
    options.log_level = coffer::LogLevel::error;
    coffer::Store store = coffer::Store::open(policy_file(), options);
    for (const auto &[key, value] : values)
      store.put_to("db", key, coffer::Secret::copy_of(std::string_view(value)));
  }

 private:
  kvtest::World kv_;
  std::filesystem::path dir_;
  std::string vault_config_;
};

}  // namespace coffer::test

#endif  // COFFER_TESTS_SWITCHING_SWITCH_FIXTURE_HPP
