// Catalog files: any content either adds canonical keys to the built-in
// catalog or fails with an invalid_config error that names the file; either
// way every built-in entry stays as it was and every key is there once.
#include <coffer/catalog.hpp>
#include <coffer/error.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "fuzz_support.hpp"
#include "temp_directory.hpp"

namespace {

using coffer::fuzz::require;

// A private directory holding the catalog file the harness rewrites for each
// input (the catalog API reads files only), removed when the process exits.
class ScratchFile {
 public:
  ScratchFile() = default;
  ScratchFile(const ScratchFile &) = delete;
  ScratchFile &operator=(const ScratchFile &) = delete;

  const std::filesystem::path &write(std::string_view content) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    require(out.good(), "the scratch catalog file can be written");
    return path_;
  }

 private:
  coffer::test::TempDirectory directory_{"coffer-fuzz"};
  std::filesystem::path path_ = directory_ / "catalog.json";
};

bool same_entries(const coffer::Catalog &a, const coffer::Catalog &b) {
  if (a.entries().size() != b.entries().size()) return false;
  for (std::size_t i = 0; i < a.entries().size(); ++i) {
    const auto &x = a.entries()[i];
    const auto &y = b.entries()[i];
    if (x.key != y.key || x.description != y.description || x.source != y.source) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  static const ScratchFile scratch;
  static const coffer::Catalog builtin = coffer::Catalog::builtin();
  const auto &file = scratch.write({reinterpret_cast<const char *>(data), size});

  coffer::Catalog catalog = builtin;
  try {
    catalog.add_file(file);
  } catch (const coffer::Error &error) {
    require(error.code() == coffer::Code::invalid_config, "a bad catalog is invalid_config");
    require(std::string_view(error.what()).starts_with(file.string() + ":"),
            "a catalog error names the file");
  }

  std::set<std::string> keys;
  for (std::size_t i = 0; i < catalog.entries().size(); ++i) {
    const auto &entry = catalog.entries()[i];
    require(coffer::is_canonical_key(entry.key), "every catalog key is canonical");
    require(entry.category == coffer::category_of(entry.key), "the category is the key's");
    require(keys.insert(entry.key).second, "a key is in the catalog once");
    if (i < builtin.entries().size()) {
      const auto &original = builtin.entries()[i];
      require(entry.key == original.key && entry.description == original.description &&
                  entry.source == original.source,
              "a catalog file leaves the built-in entries as they were");
    }
  }
  if (catalog.entries().size() == builtin.entries().size())
    require(same_entries(catalog, builtin), "a catalog that adds nothing changes nothing");
  (void)catalog.nearest("VCS.GithubAdminPat");
  return 0;
}
