// Reads a JSON object of known fields (the provider's config, a master key
// source, admin arguments) with errors that name the field: an unknown field
// is an error naming the nearest known one ("did you mean 'history'?").
// Errors throw coffer::provider::Error with the status given at construction.
#ifndef COFFER_DATABASE_STORE_JSON_FIELDS_HPP
#define COFFER_DATABASE_STORE_JSON_FIELDS_HPP

#include <coffer/provider.h>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::database {

class JsonFields {
 public:
  // `prefix` is prepended to field names in messages ("" or "master_key.").
  // Throws when `value` is not an object or holds an unknown field.
  JsonFields(const boost::json::value &value, std::string prefix,
             std::initializer_list<std::string_view> known, coffer_status status);

  [[nodiscard]] const boost::json::value *find(std::string_view name) const;
  [[nodiscard]] bool has(std::string_view name) const { return find(name) != nullptr; }
  // A non-empty string without NUL characters.
  [[nodiscard]] std::optional<std::string> text(std::string_view name) const;
  [[nodiscard]] std::optional<uint64_t> integer(std::string_view name, uint64_t minimum,
                                                uint64_t maximum) const;
  [[nodiscard]] std::optional<bool> boolean(std::string_view name) const;
  [[nodiscard]] std::string path(std::string_view name) const {
    return prefix_ + std::string(name);
  }
  [[noreturn]] void fail(std::string_view name, const std::string &problem) const;

 private:
  const boost::json::object *object_ = nullptr;
  std::string prefix_;
  coffer_status status_;
};

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORE_JSON_FIELDS_HPP
