#include <coffer/catalog.hpp>
#include <coffer/error.hpp>
#include <coffer/provider_helpers.hpp>

#include <boost/json.hpp>

#include <algorithm>

#include "base/json_text.hpp"
#include "base/trusted_file.hpp"

namespace coffer {
namespace detail {
std::string_view builtin_catalog_json() noexcept;
}

namespace {

// An optional display label of an entry: absent is empty; present, a
// non-empty string of at most 100 bytes.
std::string optional_label(const detail::JsonDocument &doc, std::size_t index,
                           const boost::json::object &entry, std::string_view field) {
  const auto *value = entry.if_contains(field);
  if (value == nullptr) return {};
  if (!value->is_string() || value->as_string().empty() || value->as_string().size() > 100) {
    doc.fail(
        {std::string("keys"), index, std::string(field)},
        "expected \"" + std::string(field) + "\" to be a non-empty string of at most 100 bytes");
  }
  return std::string(value->as_string());
}

void load_into(Catalog &catalog, const detail::JsonDocument &doc, const std::string &source) {
  using detail::JsonPath;
  const auto *root = doc.root().if_object();
  if (root == nullptr) doc.fail({}, "expected an object with a \"keys\" array");
  static const std::vector<std::string> known = {"coffer_catalog", "name", "keys"};
  for (const auto &member : *root) {
    std::string field(member.key());
    if (std::find(known.begin(), known.end(), field) == known.end())
      doc.fail({field}, "unknown field" + provider::did_you_mean(field, known));
  }
  if (const auto *format = root->if_contains("coffer_catalog")) {
    if (!format->is_int64() || format->as_int64() != 1)
      doc.fail({"coffer_catalog"}, "expected 1 (the only catalog format version)");
  }
  const auto *keys = root->if_contains("keys");
  if (keys == nullptr || !keys->is_array()) doc.fail({}, "expected a \"keys\" array");
  std::size_t index = 0;
  for (const auto &item : keys->as_array()) {
    JsonPath path{std::string("keys"), index};
    const auto *entry = item.if_object();
    if (entry == nullptr) doc.fail(path, "expected an object {\"key\": ..., \"description\": ...}");
    const auto *key = entry->if_contains("key");
    if (key == nullptr || !key->is_string()) doc.fail(path, "expected a \"key\" string");
    std::string name(key->as_string());
    if (!is_canonical_key(name))
      doc.fail(path, "'" + name + "' is not a canonical key (Category.Name, letters and digits)");
    CatalogEntry e;
    e.key = name;
    e.category = std::string(category_of(name));
    if (const auto *d = entry->if_contains("description"); d != nullptr && d->is_string())
      e.description = std::string(d->as_string());
    e.group = optional_label(doc, index, *entry, "group");
    e.service = optional_label(doc, index, *entry, "service");
    e.source = source;
    if (const auto *existing = catalog.find(name)) {
      if (existing->description != e.description && !e.description.empty() &&
          !existing->description.empty())
        doc.fail(path, "key '" + name + "' is already defined by " + existing->source +
                           " with another description");
      ++index;
      continue;
    }
    catalog.add(std::move(e));
    ++index;
  }
}

}  // namespace

bool is_canonical_key(std::string_view key) noexcept {
  return provider::is_canonical_key(key);
}

std::string_view category_of(std::string_view key) noexcept {
  auto dot = key.find('.');
  return dot == std::string_view::npos ? key : key.substr(0, dot);
}

Catalog Catalog::builtin() {
  Catalog catalog;
  detail::JsonDocument doc("builtin catalog", std::string(detail::builtin_catalog_json()));
  load_into(catalog, doc, "builtin");
  return catalog;
}

void Catalog::add_file(const std::filesystem::path &file) {
  constexpr std::size_t max_bytes = 4 << 20;
  detail::JsonDocument doc(file.string(),
                           detail::read_trusted_file(file, {"catalog file", max_bytes}));
  load_into(*this, doc, file.string());
}

void Catalog::add(CatalogEntry entry) {
  if (!is_canonical_key(entry.key))
    throw Error(Code::invalid_argument,
                "'" + entry.key + "' is not a canonical key (Category.Name, letters and digits)");
  if (find(entry.key) != nullptr) return;
  if (entry.category.empty()) entry.category = std::string(category_of(entry.key));
  if (entry.group.empty()) entry.group = entry.category;
  if (entry.service.empty()) entry.service = entry.category;
  entries_.push_back(std::move(entry));
}

const CatalogEntry *Catalog::find(std::string_view key) const {
  for (const auto &entry : entries_)
    if (entry.key == key) return &entry;
  return nullptr;
}

std::optional<std::string> Catalog::nearest(std::string_view key) const {
  std::vector<std::string> keys;
  keys.reserve(entries_.size());
  for (const auto &entry : entries_) keys.push_back(entry.key);
  return provider::nearest_name(key, keys);
}

std::vector<std::string> Catalog::categories() const {
  std::vector<std::string> out;
  for (const auto &entry : entries_)
    if (std::find(out.begin(), out.end(), entry.category) == out.end())
      out.push_back(entry.category);
  return out;
}

std::vector<std::string> Catalog::groups() const {
  std::vector<std::string> out;
  for (const auto &entry : entries_)
    if (std::find(out.begin(), out.end(), entry.group) == out.end()) out.push_back(entry.group);
  return out;
}

}  // namespace coffer
