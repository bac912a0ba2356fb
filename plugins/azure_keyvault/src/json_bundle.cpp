#include "json_bundle.hpp"

#include "secret_memory.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <vector>

namespace coffer::azure {
namespace {

using coffer::provider::Error;
using coffer::provider::SecretBytes;

const char *kind_name(const boost::json::value &value) {
  switch (value.kind()) {
    case boost::json::kind::object:
      return "an object";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::string:
      return "a string";
    default:
      return "a number";
  }
}

// A second pass over a document boost::json::parse accepted. It finds a
// member name that an object defines twice (a parsed boost::json::object
// keeps the last silently), and reads every non-integer number again with
// std::from_chars: Boost.JSON 1.81 parses some decimals to a neighbouring
// double (5e36 as 5.0000000000000004e36), so writing a bundle back would
// change its numbers a little with every write. Strings pass by uncopied.
class DocumentScan {
 public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  std::optional<std::string> duplicate;
  std::vector<double> numbers;  // the non-integers, in document order

  DocumentScan() = default;
  DocumentScan(const DocumentScan &) = delete;
  DocumentScan &operator=(const DocumentScan &) = delete;
  ~DocumentScan() {
    coffer::provider::wipe(numbers.data(), numbers.size() * sizeof(double));
    coffer::provider::wipe(number_.data(), number_.size());
  }

  bool on_document_begin(boost::system::error_code &) { return true; }
  bool on_document_end(boost::system::error_code &) { return true; }
  bool on_array_begin(boost::system::error_code &) {
    scopes_.emplace_back();
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code &) {
    scopes_.pop_back();
    return true;
  }
  bool on_object_begin(boost::system::error_code &) {
    scopes_.emplace_back(std::set<std::string>());
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code &) {
    scopes_.pop_back();
    return true;
  }
  bool on_key_part(boost::json::string_view part, std::size_t, boost::system::error_code &) {
    key_.append(part.data(), part.size());
    return true;
  }
  bool on_key(boost::json::string_view part, std::size_t, boost::system::error_code &error) {
    key_.append(part.data(), part.size());
    if (!scopes_.back()->insert(key_).second) {
      duplicate = std::move(key_);
      error = boost::json::error::extra_data;  // stop here: one is enough
      return false;
    }
    key_.clear();
    return true;
  }
  bool on_string_part(boost::json::string_view, std::size_t, boost::system::error_code &) {
    return true;
  }
  bool on_string(boost::json::string_view, std::size_t, boost::system::error_code &) {
    return true;
  }
  bool on_number_part(boost::json::string_view part, boost::system::error_code &) {
    number_.append(part.data(), part.size());
    return true;
  }
  bool on_int64(int64_t, boost::json::string_view, boost::system::error_code &) {
    number_.clear();
    return true;
  }
  bool on_uint64(uint64_t, boost::json::string_view, boost::system::error_code &) {
    number_.clear();
    return true;
  }
  bool on_double(double parsed, boost::json::string_view part, boost::system::error_code &) {
    number_.append(part.data(), part.size());
    double exact = parsed;
    // Out of range keeps Boost's value: infinity is refused below, and an
    // underflow to zero or a subnormal reads back the same.
    const auto [end, status] =
        std::from_chars(number_.data(), number_.data() + number_.size(), exact);
    numbers.push_back(status == std::errc() && end == number_.data() + number_.size() ? exact
                                                                                      : parsed);
    coffer::provider::wipe(number_.data(), number_.size());
    number_.clear();
    return true;
  }
  bool on_bool(bool, boost::system::error_code &) { return true; }
  bool on_null(boost::system::error_code &) { return true; }
  bool on_comment_part(boost::json::string_view, boost::system::error_code &) { return true; }
  bool on_comment(boost::json::string_view, boost::system::error_code &) { return true; }

 private:
  std::vector<std::optional<std::set<std::string>>> scopes_;  // nothing for an array
  std::string key_;
  std::string number_;
};

// Puts the scan's numbers into `value`, walking it in document order (an
// object keeps its members' order, and has no duplicates by now).
void put_exact_numbers(boost::json::value &value, const std::vector<double> &numbers,
                       std::size_t &next) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      if (next < numbers.size()) value.as_double() = numbers[next];
      ++next;
      return;
    case boost::json::kind::array:
      for (auto &element : value.as_array()) put_exact_numbers(element, numbers, next);
      return;
    case boost::json::kind::object:
      for (auto &member : value.as_object()) put_exact_numbers(member.value(), numbers, next);
      return;
    default:
      return;
  }
}

// `name` for a message, when it is printable ASCII.
std::string shown_member(const std::string &name) {
  const bool printable = std::all_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  return printable ? "'" + name + "'" : "(a name with control or non-ASCII characters)";
}

bool holds_non_finite(const boost::json::value &value) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      return !std::isfinite(value.get_double());
    case boost::json::kind::array:
      for (const auto &element : value.get_array())
        if (holds_non_finite(element)) return true;
      return false;
    case boost::json::kind::object:
      for (const auto &member : value.get_object())
        if (holds_non_finite(member.value())) return true;
      return false;
    default:
      return false;
  }
}

}  // namespace

JsonBundle::JsonBundle(std::string bundle_name)
    : name_(std::move(bundle_name)), object_(secret_storage()) {}

JsonBundle JsonBundle::parse(std::string bundle_name, std::string_view json) {
  JsonBundle bundle(std::move(bundle_name));
  boost::system::error_code error;
  boost::json::value document = parse_secret_json(json, error);
  if (error)
    throw Error(COFFER_STATUS_DATA_ERROR, "the JSON bundle secret '" + bundle.name_ +
                                              "' does not hold valid JSON (" + error.message() +
                                              ")");
  if (!document.is_object())
    throw Error(COFFER_STATUS_DATA_ERROR, "the JSON bundle secret '" + bundle.name_ + "' holds " +
                                              kind_name(document) +
                                              ", not a JSON object of names to string values");
  boost::json::basic_parser<DocumentScan> scanner{boost::json::parse_options()};
  scanner.write_some(false, json.data(), json.size(), error);
  const DocumentScan &scan = scanner.handler();
  if (const auto &twice = scan.duplicate)
    throw Error(COFFER_STATUS_DATA_ERROR,
                "the JSON bundle secret '" + bundle.name_ + "' defines the member " +
                    shown_member(*twice) +
                    " more than once; which value applies would depend on the reader, so the "
                    "bundle is refused: keep one definition (set the secret again)");
  std::size_t next = 0;
  put_exact_numbers(document, scan.numbers, next);
  // A number beyond double's range parses as infinity and would be written
  // back as text that no longer parses: every other value would be lost.
  if (holds_non_finite(document))
    throw Error(COFFER_STATUS_DATA_ERROR,
                "the JSON bundle secret '" + bundle.name_ + "' holds a number out of range");
  bundle.object_ = std::move(document.as_object());
  return bundle;
}

SecretBytes JsonBundle::value(std::string_view member, std::string_view key) const {
  const boost::json::value *found = object_.if_contains(member);
  if (found == nullptr)
    throw Error(COFFER_STATUS_NOT_FOUND, "key " + std::string(key) + " (member '" +
                                             std::string(member) +
                                             "') is not in the JSON bundle secret '" + name_ + "'");
  if (!found->is_string())
    throw Error(COFFER_STATUS_DATA_ERROR,
                "key " + std::string(key) + ": member '" + std::string(member) +
                    "' of the JSON bundle secret '" + name_ + "' holds " + kind_name(*found) +
                    "; a bundle must be a flat JSON object whose values are strings");
  const boost::json::string &text = found->as_string();
  return SecretBytes(reinterpret_cast<const unsigned char *>(text.data()), text.size());
}

std::vector<std::string> JsonBundle::members() const {
  std::vector<std::string> names;
  names.reserve(object_.size());
  for (const auto &member : object_) names.emplace_back(member.key());
  return names;
}

void JsonBundle::set(std::string_view member, std::string_view value) {
  object_[member] = boost::json::string(value, secret_storage());
}

bool JsonBundle::erase(std::string_view member) {
  return object_.erase(member) > 0;
}

SecretBytes JsonBundle::serialize() const {
  SecretBytes out;
  boost::json::serializer serializer;
  serializer.reset(&object_);
  char chunk[4096];
  while (!serializer.done()) {
    std::string_view piece = serializer.read(chunk, sizeof chunk);
    out.append(piece);
  }
  coffer::provider::wipe(chunk, sizeof chunk);
  return out;
}

}  // namespace coffer::azure
