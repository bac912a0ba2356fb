// Loads a provider through an installed libcoffer and checks one key.
//
//   sdk_host POLICY PLUGIN_DIR KEY EXPECTED_VALUE [EXPECTED_KEY_NAME]
//
// PLUGIN_DIR ("-" for none) is searched before the policy's own plugin_dirs.
// Exits 0 when
// the value (and the provider's name for the key) match, 1 otherwise. Never
// prints a value: a mismatch is reported by sizes.
#include <coffer/store.hpp>

#include <algorithm>
#include <iostream>
#include <string>

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    std::cerr << "usage: sdk_host POLICY PLUGIN_DIR KEY EXPECTED_VALUE [EXPECTED_KEY_NAME]\n";
    return 2;
  }
  const std::string key = argv[3];
  const std::string expected = argv[4];
  try {
    coffer::StoreOptions options;
    if (std::string(argv[2]) != "-") options.plugin_dirs = {argv[2]};
    coffer::Store store = coffer::Store::open(argv[1], options);
    coffer::Secret secret = store.get(key);
    if (secret.reveal() != expected) {
      std::cerr << key << ": wrong value (" << secret.size() << " bytes, expected "
                << expected.size() << ")\n";
      return 1;
    }
    const std::string provider = store.providers().front();
    if (argc == 6 && store.key_name(key, provider) != argv[5]) {
      std::cerr << key << ": provider name '" << store.key_name(key, provider) << "', expected '"
                << argv[5] << "'\n";
      return 1;
    }
    auto entries = store.list(provider);
    bool listed = std::any_of(entries.begin(), entries.end(),
                              [&](const coffer::ListEntry &entry) { return entry.key == key; });
    if (!listed) {
      std::cerr << key << ": not listed by provider '" << provider << "'\n";
      return 1;
    }
    std::cout << key << ": ok through " << coffer::library_version() << " ("
              << store.plugin_of(provider) << ")\n";
    return 0;
  } catch (const coffer::Error &e) {
    std::cerr << "coffer error (" << coffer::to_string(e.code()) << "): " << e.what() << "\n";
    return 1;
  }
}
