// Reads a provider's configuration (or any JSON object of known fields) with
// one set of rules and messages, so that every provider and the core report
// a misspelt, repeated or mistyped field the same way:
//   unknown field 'tls.ca_fiel' (did you mean 'tls.ca_file'?); known fields are ...
//   field 'tls.ca_file' appears twice; ...
//   field 'tls.ca_file' must be a string
//   field 'url' is required
// The suggestion follows the one "did you mean" rule of <coffer/provider_helpers.hpp>.
//
// Header-only, C++20. Needs Boost.JSON: link Boost::json. Errors are thrown
// as ConfigError, a coffer::provider::Error, so a provider that lets one
// escape from its constructor fails open() with the error's status and
// message. Stateless functions and const members may be called from many
// threads at once.
#ifndef COFFER_CONFIG_FIELDS_HPP
#define COFFER_CONFIG_FIELDS_HPP

#include <coffer/provider.h>
#include <coffer/provider.hpp>
#include <coffer/provider_helpers.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coffer::provider {

// Where an object lies, for messages: the names of the members from the
// document's root down to it, what the document is, and the status that
// errors carry.
struct ConfigPlace {
  std::vector<std::string> path;               // empty: the document's root
  std::string document = "the configuration";  // names the whole document
  coffer_status status = COFFER_STATUS_INVALID_CONFIG;
};

// A problem with one field (or, with an empty path, with the whole document).
// what() is the full message; path() the member names from the root to the
// field at fault, for a caller that locates it (line and column) itself.
class ConfigError : public Error {
 public:
  ConfigError(coffer_status status, std::vector<std::string> path, std::string message)
      : Error(status, std::move(message)), path_(std::move(path)) {}
  [[nodiscard]] const std::vector<std::string> &path() const noexcept { return path_; }

 private:
  std::vector<std::string> path_;
};

namespace config_detail {

inline std::string join(const std::vector<std::string> &path) {
  std::string out;
  for (const std::string &name : path) out += (out.empty() ? "" : ".") + name;
  return out;
}

// A SAX handler that stops at the first member name repeated in one object
// (the document parser would keep the last silently) and leaves its path.
struct DuplicateFinder {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  struct Frame {
    bool is_object;
    std::vector<std::string> names;  // objects: the member names seen so far
  };
  std::vector<Frame> stack;
  std::string key;
  std::optional<std::vector<std::string>> repeated;

  bool on_document_begin(boost::system::error_code &) { return true; }
  bool on_document_end(boost::system::error_code &) { return true; }
  bool on_object_begin(boost::system::error_code &) {
    stack.push_back({true, {}});
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code &) {
    stack.pop_back();
    return true;
  }
  bool on_array_begin(boost::system::error_code &) {
    stack.push_back({false, {}});
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code &) {
    stack.pop_back();
    return true;
  }
  bool on_key_part(std::string_view part, std::size_t, boost::system::error_code &) {
    key.append(part);
    return true;
  }
  bool on_key(std::string_view part, std::size_t, boost::system::error_code &ec) {
    key.append(part);
    std::vector<std::string> &names = stack.back().names;
    const bool twice = std::find(names.begin(), names.end(), key) != names.end();
    names.push_back(std::move(key));
    key.clear();
    if (!twice) return true;
    // The path of the repeated member; members inside arrays are named by
    // the array's own member name.
    repeated.emplace();
    for (const Frame &frame : stack)
      if (frame.is_object) repeated->push_back(frame.names.back());
    ec = boost::json::error::extra_data;  // any error stops the parser
    return false;
  }
  bool on_string_part(std::string_view, std::size_t, boost::system::error_code &) { return true; }
  bool on_string(std::string_view, std::size_t, boost::system::error_code &) { return true; }
  bool on_number_part(std::string_view, boost::system::error_code &) { return true; }
  bool on_int64(std::int64_t, std::string_view, boost::system::error_code &) { return true; }
  bool on_uint64(std::uint64_t, std::string_view, boost::system::error_code &) { return true; }
  bool on_double(double, std::string_view, boost::system::error_code &) { return true; }
  bool on_bool(bool, boost::system::error_code &) { return true; }
  bool on_null(boost::system::error_code &) { return true; }
  bool on_comment_part(std::string_view, boost::system::error_code &) { return true; }
  bool on_comment(std::string_view, boost::system::error_code &) { return true; }
};

// Comments and trailing commas are accepted, as in the policy file.
inline boost::json::parse_options relaxed() {
  boost::json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  options.max_depth = 64;
  return options;
}

}  // namespace config_detail

// Parses configuration text: JSON with comments and trailing commas; empty
// text is an empty object. Throws ConfigError (place.status) for invalid JSON
// (with line and column) and for a member name repeated in one object
// (naming its path). Does not require an object: ConfigFields checks that.
inline boost::json::value parse_config_text(std::string_view text, const ConfigPlace &place = {}) {
  if (text.empty()) return boost::json::object();
  boost::json::basic_parser<config_detail::DuplicateFinder> scanner(config_detail::relaxed());
  boost::system::error_code error;
  const std::size_t used = scanner.write_some(false, text.data(), text.size(), error);
  if (auto &repeated = scanner.handler().repeated) {
    std::vector<std::string> path = place.path;
    path.insert(path.end(), repeated->begin(), repeated->end());
    std::string message = "field '" + config_detail::join(path) +
                          "' appears twice in one object; one would silently replace the "
                          "other: keep one";
    throw ConfigError(place.status, std::move(path), std::move(message));
  }
  if (!error) {
    // The scanner saw the whole text; the document parser reads it again.
    boost::json::value value = boost::json::parse(text, error, {}, config_detail::relaxed());
    if (!error) return value;
  }
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < used && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  throw ConfigError(place.status, place.path,
                    place.document + " is not valid JSON (line " + std::to_string(line) +
                        ", column " + std::to_string(column) + "): " + error.message());
}

// A JSON object of known fields. The constructor refuses anything but an
// object and an object with an unknown field; the readers check each field's
// type (and range) when asked for it and return nothing for an absent field.
// Every error is a ConfigError naming the field by its path.
//
// Holds a reference to the object: it must outlive the ConfigFields.
class ConfigFields {
 public:
  // `known` is any range of what converts to std::string_view.
  template <class Range>
  ConfigFields(const boost::json::value &value, const Range &known, ConfigPlace place = {})
      : place_(std::move(place)) {
    object_ = value.if_object();
    if (object_ == nullptr) {
      if (place_.path.empty()) fail_whole(place_.document + " must be a JSON object");
      fail_whole("field '" + config_detail::join(place_.path) + "' must be a JSON object");
    }
    check_known(known);
  }
  ConfigFields(const boost::json::value &value, std::initializer_list<std::string_view> known,
               ConfigPlace place = {})
      : ConfigFields(value, std::vector<std::string_view>(known), std::move(place)) {}
  // An object already known to be one (the core's policy reader).
  template <class Range>
  ConfigFields(const boost::json::object &object, const Range &known, ConfigPlace place = {})
      : object_(&object), place_(std::move(place)) {
    check_known(known);
  }

  [[nodiscard]] const boost::json::value *find(std::string_view name) const {
    return object_->if_contains(name);
  }
  [[nodiscard]] bool has(std::string_view name) const { return find(name) != nullptr; }

  // A string without NUL characters (a NUL would cut it short where it
  // becomes a path, a URL or a name); may be empty.
  [[nodiscard]] std::optional<std::string> string(std::string_view name) const {
    const auto *value = find(name);
    if (value == nullptr) return std::nullopt;
    const auto *text = value->if_string();
    if (text == nullptr) fail(name, "must be a string");
    if (text->find('\0') != boost::json::string::npos)
      fail(name, "must not contain a NUL character (\\u0000)");
    return std::string(*text);
  }
  // As string(), and not empty.
  [[nodiscard]] std::optional<std::string> non_empty_string(std::string_view name) const {
    auto text = string(name);
    if (text && text->empty()) fail(name, "must not be empty");
    return text;
  }
  [[nodiscard]] std::optional<bool> boolean(std::string_view name) const {
    const auto *value = find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_bool()) fail(name, "must be true or false");
    return value->get_bool();
  }
  // An integer from `low` to `high`. A fraction or an exponent is refused
  // (1e3 is not taken for 1000, nor 1e300 cast into the range).
  [[nodiscard]] std::optional<std::int64_t> integer(std::string_view name, std::int64_t low,
                                                    std::int64_t high) const {
    const auto *value = find(name);
    if (value == nullptr) return std::nullopt;
    const std::string range = "between " + std::to_string(low) + " and " + std::to_string(high);
    if (value->is_uint64()) fail(name, "must be " + range);  // beyond INT64_MAX
    if (!value->is_int64()) fail(name, "must be an integer " + range);
    const std::int64_t number = value->get_int64();
    if (number < low || number > high)
      fail(name, "must be " + range + " (got " + std::to_string(number) + ")");
    return number;
  }
  // The object-valued field `name`, read with its own known fields; nothing
  // when absent.
  template <class Range>
  [[nodiscard]] std::optional<ConfigFields> object(std::string_view name,
                                                   const Range &known) const {
    const auto *value = find(name);
    if (value == nullptr) return std::nullopt;
    return ConfigFields(*value, known, nested(name));
  }
  [[nodiscard]] std::optional<ConfigFields> object(
      std::string_view name, std::initializer_list<std::string_view> known) const {
    return object(name, std::vector<std::string_view>(known));
  }

  // Where the field `name` of this object lies, for a nested ConfigFields.
  [[nodiscard]] ConfigPlace nested(std::string_view name) const {
    ConfigPlace place = place_;
    place.path.emplace_back(name);
    return place;
  }
  // "tls.ca_file": the field's path from the document's root.
  [[nodiscard]] std::string path(std::string_view name) const {
    return config_detail::join(nested(name).path);
  }
  // Throws ConfigError "field 'PATH' PROBLEM" ("must be ...", "is required").
  [[noreturn]] void fail(std::string_view name, const std::string &problem) const {
    throw ConfigError(place_.status, nested(name).path, "field '" + path(name) + "' " + problem);
  }
  // Throws ConfigError "field 'PATH' is required" and `hint` (e.g. "; e.g. ...").
  [[noreturn]] void missing(std::string_view name, const std::string &hint = {}) const {
    fail(name, "is required" + hint);
  }

 private:
  [[noreturn]] void fail_whole(std::string message) const {
    throw ConfigError(place_.status, place_.path, std::move(message));
  }

  template <class Range>
  void check_known(const Range &known) const {
    for (const auto &member : *object_) {
      const std::string_view name = member.key();
      bool found = false;
      for (const auto &candidate : known) found = found || std::string_view(candidate) == name;
      if (found) continue;
      std::string message = "unknown field '" + path(name) + "'";
      if (auto near = nearest_name(name, known))
        message += " (did you mean '" + path(*near) + "'?)";
      std::string list;
      for (const auto &candidate : known)
        list += (list.empty() ? "" : ", ") + path(std::string_view(candidate));
      message += "; known fields are " + list;
      throw ConfigError(place_.status, nested(name).path, std::move(message));
    }
  }

  const boost::json::object *object_ = nullptr;
  ConfigPlace place_;
};

}  // namespace coffer::provider

#endif  // COFFER_CONFIG_FIELDS_HPP
