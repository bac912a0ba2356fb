#include "db_arguments.hpp"

#include <boost/json.hpp>

#include "exit_status.hpp"

namespace coffer::cli {
namespace json = boost::json;

namespace {

const OptionSpec kProvider{"--provider", "", "NAME",
                           "the database provider to use (default: the policy's only one)"};
const OptionSpec kJson{"--json", "", "", "print the result as JSON on one line"};
const OptionSpec kArguments{"--arguments", "", "JSON",
                            "extra admin arguments as a JSON object (the options above win)"};

CommandSpec subcommand(std::string name, std::string summary, std::string description,
                       std::vector<OptionSpec> extra = {}) {
  CommandSpec spec;
  spec.name = "db " + name;
  spec.summary = std::move(summary);
  spec.description = std::move(description);
  spec.options = {kProvider};
  for (auto &option : extra) spec.options.push_back(std::move(option));
  spec.options.push_back(kArguments);
  spec.options.push_back(kJson);
  return spec;
}

json::object base_arguments(const Arguments &arguments) {
  auto text = arguments.value("--arguments");
  if (!text) return {};
  boost::system::error_code ec;
  json::value parsed = json::parse(*text, ec);
  if (ec || !parsed.is_object())
    throw UsageError("", "--arguments must be a JSON object, e.g. '{\"drop_old\": true}'");
  return parsed.as_object();
}

}  // namespace

std::vector<CommandSpec> db_subcommands() {
  return {
      subcommand("init",
                 "Create the store's tables, its first data key and, if asked, the master key",
                 "Initialises the store that the provider's config names: creates the schema and\n"
                 "a data key wrapped by the configured master key. Works before the store exists;\n"
                 "running it again on an initialised store changes nothing.\n"),
      subcommand(
          "rotate-master-key", "Wrap the data keys under a new master key",
          "Re-wraps every data key under a new master key without re-encrypting the\n"
          "records. Name the new master key in exactly one way: a file, an environment\n"
          "variable holding the key, or an environment variable holding a passphrase;\n"
          "the key material never appears on the command line. Then point the provider's\n"
          "\"master_key\" config at the new key. With --keep-old the old master key keeps\n"
          "opening the store (a staged rotation) until 'db rotate-master-key --drop-old'\n"
          "removes every master key but the one the policy names.\n",
          {{"--new-key-file", "", "PATH", "the new master key, read from this file"},
           {"--new-key-env", "", "NAME", "the new master key, read from this environment variable"},
           {"--new-passphrase-env", "", "NAME",
            "derive the new master key (scrypt) from the passphrase in this variable"},
           {"--keep-old", "", "", "keep the old master key working too (a staged rotation)"},
           {"--drop-old", "", "",
            "finish a staged rotation: drop every master key but the policy's (alone)"}}),
      subcommand("rekey", "Start a new data key and re-encrypt every record under it",
                 "Creates a new data key and re-encrypts the records under it in batches while\n"
                 "the store stays in use; an interrupted rekey resumes where it stopped.\n",
                 {{"--batch-size", "", "N", "records re-encrypted per transaction (default 100)"}}),
      subcommand("verify", "Decrypt and authenticate every record",
                 "Decrypts every stored record (all versions) and checks it against its key\n"
                 "name and version. Prints the provider's report ({\"records\": N, \"bad\":\n"
                 "[...]}, ...); exits with status 1 when any record is bad.\n"),
  };
}

std::string db_arguments_json(std::string_view command, const Arguments &arguments) {
  json::object out = base_arguments(arguments);
  if (command == "rotate-master-key") {
    const std::pair<const char *, const char *> sources[] = {
        {"--new-key-file", "file"},
        {"--new-key-env", "env"},
        {"--new-passphrase-env", "passphrase_env"}};
    int given = 0;
    for (const auto &[option, field] : sources) {
      if (auto value = arguments.value(option)) {
        if (value->empty())
          throw UsageError("db rotate-master-key",
                           std::string(option) + " needs a non-empty value");
        out["new_master_key"] = json::object{{field, *value}};
        ++given;
      }
    }
    if (arguments.has("--drop-old")) {
      if (given > 0 || arguments.has("--keep-old"))
        throw UsageError("db rotate-master-key",
                         "--drop-old comes alone: it removes every master key but the one the "
                         "policy names");
      out["drop_old"] = true;
    } else {
      if (given > 1)
        throw UsageError("db rotate-master-key",
                         "give only one of --new-key-file, --new-key-env and --new-passphrase-env");
      if (given == 0 && !out.contains("new_master_key"))
        throw UsageError("db rotate-master-key",
                         "name the new master key with --new-key-file PATH, --new-key-env NAME or "
                         "--new-passphrase-env NAME");
      if (arguments.has("--keep-old")) out["keep_old"] = true;
    }
  } else if (command == "rekey") {
    if (auto batch = arguments.value("--batch-size")) {
      std::size_t used = 0;
      long long n = 0;
      try {
        n = std::stoll(*batch, &used);
      } catch (const std::exception &) {
        used = 0;
      }
      if (used == 0 || used != batch->size() || n < 1)
        throw UsageError("db rekey", "--batch-size needs a positive whole number");
      out["batch_size"] = n;
    }
  }
  return json::serialize(out);
}

}  // namespace coffer::cli
