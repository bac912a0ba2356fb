// The JSON bundle layout: one Key Vault secret whose value is a flat JSON
// object mapping secret names (`VCS-GithubAdminPAT`) to string values. The
// parsed object lives in wiped memory. Not thread-safe (one owner).
#ifndef COFFER_AZURE_JSON_BUNDLE_HPP
#define COFFER_AZURE_JSON_BUNDLE_HPP

#include <coffer/provider.hpp>

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace coffer::azure {

class JsonBundle {
 public:
  // An empty bundle (for a bundle secret that does not exist yet).
  explicit JsonBundle(std::string bundle_name);

  // Parses a bundle's value. Throws coffer::provider::Error
  // (COFFER_STATUS_DATA_ERROR) when it is not a JSON object or an object in
  // it defines a member twice (naming the member); nested members are kept
  // and reported when read.
  static JsonBundle parse(std::string bundle_name, std::string_view json);

  // The member's value. Throws coffer::provider::Error: NOT_FOUND when absent,
  // DATA_ERROR (naming `key`) when the member is not a string.
  [[nodiscard]] coffer::provider::SecretBytes value(std::string_view member,
                                                    std::string_view key) const;

  // Member names, in the order of the document.
  [[nodiscard]] std::vector<std::string> members() const;

  // Sets or replaces a string member; returns nothing.
  void set(std::string_view member, std::string_view value);
  // Removes a member; false when it was not there.
  bool erase(std::string_view member);

  // The whole document as compact JSON text.
  [[nodiscard]] coffer::provider::SecretBytes serialize() const;

  [[nodiscard]] const std::string &name() const noexcept { return name_; }

 private:
  std::string name_;
  boost::json::object object_;
};

}  // namespace coffer::azure

#endif  // COFFER_AZURE_JSON_BUNDLE_HPP
