// coffer::Catalog: the credential names a host may ask for.
//
// A catalog is a list of canonical keys `Category.Name` with a description
// each. The built-in catalog (the 30 keys of the platform coffer was first
// built for) ships with the core; hosts add their own from JSON files of the
// form {"keys": [{"key": "Category.Name", "group": "...", "service": "...",
// "description": "..."}, ...]}. "group" and "service" place a key on screens
// that present credentials to people (the admin panel): the platform's
// "Version Control" group holds the "GitHub" service's keys, say. Both are
// optional and default to the key's category.
//
// Threading: const methods may be called from many threads without
// synchronisation; add() needs external synchronisation.
#ifndef COFFER_CATALOG_HPP
#define COFFER_CATALOG_HPP

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coffer {

struct CatalogEntry {
  std::string key;       // `Category.Name`
  std::string category;  // the part before the dot
  std::string group;     // the heading people know it under ("Version Control")
  std::string service;   // the service within the group ("GitHub")
  std::string description;
  std::string source;  // "builtin" or the catalog file it came from
};

class Catalog {
 public:
  // An empty catalog.
  Catalog() = default;
  // The catalog that ships with coffer.
  static Catalog builtin();

  // Adds the entries of a catalog file. Throws Error(invalid_config) naming
  // the file, line and column of a syntax error, a member repeated in one
  // object, or the entry at fault (a malformed key, a duplicate with another
  // description); and naming the rule when the file is not a regular file of
  // at most 4 MiB that only root or the running user can write
  // (docs/security.md, "Files coffer trusts").
  void add_file(const std::filesystem::path &file);
  // Adds one entry; throws Error(invalid_argument) for a malformed key. An
  // empty category, group or service is taken from the key.
  void add(CatalogEntry entry);

  [[nodiscard]] const CatalogEntry *find(std::string_view key) const;
  [[nodiscard]] bool contains(std::string_view key) const { return find(key) != nullptr; }
  // The known key closest to `key` by edit distance, for "did you mean".
  [[nodiscard]] std::optional<std::string> nearest(std::string_view key) const;
  // Entries in the order they were added. A temporary Catalog hands its
  // entries over, so that `for (auto &e : Catalog::builtin().entries())`
  // iterates over something alive.
  [[nodiscard]] const std::vector<CatalogEntry> &entries() const & { return entries_; }
  [[nodiscard]] std::vector<CatalogEntry> entries() && { return std::move(entries_); }
  [[nodiscard]] std::vector<std::string> categories() const;
  // The groups, in the order their first key was added.
  [[nodiscard]] std::vector<std::string> groups() const;

 private:
  std::vector<CatalogEntry> entries_;
};

// Whether `key` has the canonical form `Category.Name`: two non-empty parts of
// ASCII letters and digits separated by one dot, each starting with a letter.
bool is_canonical_key(std::string_view key) noexcept;
// The part of a canonical key before the dot.
std::string_view category_of(std::string_view key) noexcept;

}  // namespace coffer

#endif  // COFFER_CATALOG_HPP
