// hello: an example coffer provider, written with the C++ SDK (<coffer/provider.hpp>).
//
// It serves the values listed in its own configuration:
//
//   "providers": {
//     "demo": { "plugin": "hello",
//               "config": { "values": { "Demo.Greeting": "hello from a plugin" } } }
//   }
//
// A real provider fetches values from a backend (a vault, a database, a file)
// and its configuration says where that backend is; secret values never belong
// in a policy file. This one keeps its values in the configuration so that
// the example shows the SDK and nothing else. Everything a provider must get
// right is here: strict configuration parsing with messages that name the
// field at fault, the mapping of canonical keys to the provider's own names,
// listing, errors as statuses, logging without values, and wiping secrets.
//
// Build it out of tree against an installed coffer (see CMakeLists.txt beside
// this file and docs/sdk.md).
#include <coffer/config_fields.hpp>
#include <coffer/provider.hpp>
#include <coffer/provider_helpers.hpp>

#include <boost/json.hpp>

#include <cctype>
#include <map>
#include <string>
#include <vector>

namespace {

using coffer::provider::ConfigFields;
using coffer::provider::ConfigPlace;
using coffer::provider::Error;
using coffer::provider::GetRequest;
using coffer::provider::Host;
using coffer::provider::ListEntry;
using coffer::provider::OpenParams;
using coffer::provider::SecretBytes;
using coffer::provider::Value;

// The core checks keys before it asks a provider; checking again with the
// SDK's grammar costs nothing and keeps the provider safe when something
// else drives it (a test).
using coffer::provider::is_canonical_key;

// The configuration's place in messages: "field 'config.values' ...".
const ConfigPlace kConfig{.path = {"config"}, .document = "config"};

// Overwrites the characters of every string in a parsed JSON document, so that
// the values read from the configuration do not linger in freed memory.
void wipe_strings(boost::json::value &value) {
  if (auto *text = value.if_string()) {
    coffer::provider::wipe(text->data(), text->size());
  } else if (auto *object = value.if_object()) {
    for (auto &member : *object) wipe_strings(member.value());
  } else if (auto *array = value.if_array()) {
    for (auto &element : *array) wipe_strings(element);
  }
}

// A SyncProvider answers every operation before returning: right for anything
// that needs no network (memory, local files, an embedded database). A
// provider that waits on the network derives from coffer::provider::Provider
// instead and answers its completions from its own threads.
class HelloProvider final : public coffer::provider::SyncProvider {
 public:
  // What this provider implements beyond get and key_name (which every
  // provider built with the SDK has). The SDK puts only these operations in
  // the table; the others report COFFER_STATUS_UNSUPPORTED to hosts.
  static constexpr uint64_t capabilities = COFFER_CAP_LIST | COFFER_CAP_HEALTH;

  // Runs in open(). Throwing Error fails the open with that status and
  // message; the core shows the message with the policy's provider name.
  HelloProvider(const Host &host, const OpenParams &params) : instance_name_(params.instance_name) {
    // The SDK's reader: the rules and messages of coffer's own providers.
    // Fields are named from "config" (config.values), as the policy does.
    boost::json::value config = coffer::provider::parse_config_text(params.config_json, kConfig);
    try {
      load(config);
    } catch (...) {
      wipe_strings(config);
      throw;
    }
    wipe_strings(config);
    // Log what an operator needs (how much, from where), never a value.
    host.info("serving " + std::to_string(values_.size()) + " value(s) from the configuration");
  }

  // The core calls get() from many threads at once. values_ never changes
  // after the constructor, so reading it needs no lock.
  Value get(const GetRequest &request) override {
    // Named versions never reach a provider without COFFER_CAP_VERSIONS (the
    // core answers them itself); refusing them here keeps the contract local.
    if (!request.version.empty())
      throw Error(COFFER_STATUS_UNSUPPORTED,
                  "provider '" + instance_name_ + "' keeps no older versions of " + request.key);
    auto found = values_.find(request.key);
    if (found == values_.end())
      throw Error(COFFER_STATUS_NOT_FOUND, "no value for " + request.key + ": provider '" +
                                               instance_name_ + "' has nothing at " +
                                               key_name(request.key) + " in its config");
    // The SDK hands these bytes to the core, which copies them into locked
    // memory; our copy is wiped when `value` goes out of scope in the SDK.
    // No version: the core then tells versions apart by a keyed digest of its
    // own. A provider with real versions (a counter, a vault's version id)
    // returns them in Value::version.
    return Value{found->second.clone(), {}};
  }

  // The names an operator sees in `coffer list` and `coffer keyname`. Never
  // the values.
  std::vector<ListEntry> list() override {
    std::vector<ListEntry> entries;
    entries.reserve(values_.size());
    for (const auto &entry : values_)
      entries.push_back(ListEntry{entry.first, key_name(entry.first), {}});
    return entries;
  }

  // Where this provider looks for a key, in its own terms: a JSON pointer
  // into its configuration, so `coffer keyname Demo.Greeting` tells an
  // operator exactly what to edit. Pure computation, no I/O: the core may
  // call it from any thread. A key the provider cannot represent is an
  // invalid argument.
  std::string key_name(const std::string &key) override {
    if (!is_canonical_key(key))
      throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                  "'" + key + "' is not a canonical key (Category.Name, letters and digits)");
    return "/values/" + key;
  }

  // Nothing to reach: an instance that opened is healthy.
  void health() override {}

  // Runs in close(): the map's SecretBytes wipe themselves.
  ~HelloProvider() override = default;

 private:
  void load(const boost::json::value &config) {
    // Refuses anything but an object, and unknown fields: a misspelt option
    // must not be silently ignored.
    const ConfigFields fields(config, {"values"}, kConfig);
    const auto *values = fields.find("values");
    if (values == nullptr || !values->is_object())
      fields.fail("values", "must be an object of \"Category.Name\": \"value\"");
    for (const auto &[name, value] : values->as_object()) {
      std::string key(name);
      if (!is_canonical_key(key))
        fields.fail("values", "holds '" + key + "', which is not a canonical key (Category.Name)");
      // Name the key, never show the value, not even part of it.
      if (!value.is_string())
        throw Error(COFFER_STATUS_INVALID_CONFIG,
                    "field '" + fields.path("values") + "." + key + "' must be a string");
      values_.emplace(key, SecretBytes(std::string_view(value.as_string())));
    }
  }

  std::string instance_name_;
  std::map<std::string, SecretBytes> values_;
};

}  // namespace

// Exports the provider: the one symbol coffer_provider_entry returns a table
// built from the class. The name must equal the plugin file's (libhello.so)
// and the policy's `plugin` field.
COFFER_PROVIDER(HelloProvider, "hello", "1.0.0",
                "Example provider: serves the values listed in its configuration")
