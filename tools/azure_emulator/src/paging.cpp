#include "paging.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "encoding.hpp"
#include "responses.hpp"

namespace coffer::emulator {

namespace json = boost::json;

namespace {

// Where a listing continues: after `empty_served` empty pages, after `after`.
struct Marker {
  int empty_served = 0;
  bool started = false;  // true once items are being served
  std::string after;
};

std::string encode_marker(const Marker &marker) {
  const std::string inner =
      marker.started ? "A" + marker.after : "E" + std::to_string(marker.empty_served);
  const std::string encoded = base64_encode(inner, false, true);
  const std::string next = "2!" + std::to_string(encoded.size()) + "!" + encoded;
  return base64_encode(json::serialize(json::object{{"NextMarker", next}, {"TargetLocation", 0}}),
                       true, false);
}

std::optional<Marker> decode_marker(const std::string &token) {
  const auto outer = base64_decode(token);
  if (!outer) return std::nullopt;
  boost::system::error_code ec;
  const auto value = json::parse(*outer, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto *next = value.as_object().if_contains("NextMarker");
  if (next == nullptr || !next->is_string()) return std::nullopt;
  const std::string text(next->as_string());
  const auto second = text.find('!', 2);
  if (!text.starts_with("2!") || second == std::string::npos) return std::nullopt;
  const auto inner = base64_decode(text.substr(second + 1));
  if (!inner || inner->empty()) return std::nullopt;
  Marker marker;
  if ((*inner)[0] == 'A') {
    marker.started = true;
    marker.after = inner->substr(1);
    return marker;
  }
  if ((*inner)[0] != 'E') return std::nullopt;
  const auto *begin = inner->data() + 1;
  const auto *end = inner->data() + inner->size();
  if (std::from_chars(begin, end, marker.empty_served).ptr != end) return std::nullopt;
  return marker;
}

}  // namespace

Response list_page(const Request &request, const Target &target, const Settings &settings,
                   const std::string &authority, std::vector<ListItem> items) {
  int page_size = settings.page_size;
  const int max_page = std::max(25, settings.page_size);
  if (const auto *text = target.param("maxresults")) {
    int n = 0;
    const auto *end = text->data() + text->size();
    if (std::from_chars(text->data(), end, n).ptr != end || n < 1 || n > max_page) {
      return key_vault_error(request, 400, "BadParameter",
                             "Invalid maxresults value '" + *text +
                                 "': it must be an integer between 1 and " +
                                 std::to_string(max_page) + ".");
    }
    page_size = n;
  }
  Marker marker;
  if (const auto *token = target.param("$skiptoken")) {
    auto decoded = decode_marker(*token);
    if (!decoded) {
      return key_vault_error(request, 400, "BadParameter", "The skip token is not valid.");
    }
    marker = *decoded;
  }
  json::array value;
  std::optional<Marker> next;
  if (!marker.started && marker.empty_served < settings.empty_pages) {
    next = Marker{marker.empty_served + 1, false, {}};
  } else {
    auto it = items.begin();
    if (marker.started) {
      it = std::upper_bound(
          items.begin(), items.end(), marker.after,
          [](const std::string &key, const ListItem &item) { return key < item.key; });
    }
    std::string last;
    for (; it != items.end() && static_cast<int>(value.size()) < page_size; ++it) {
      value.push_back(std::move(it->item));
      last = it->key;
    }
    // Like the service, a full page always gets a nextLink, even when nothing
    // follows: the end is a page with no items and a null nextLink.
    if (static_cast<int>(value.size()) == page_size) next = Marker{0, true, last};
  }
  json::value next_link = nullptr;
  if (next) {
    next_link = "https://" + authority + target.path +
                "?api-version=" + *target.param("api-version") +
                "&$skiptoken=" + encode_marker(*next) + "&maxresults=" + std::to_string(page_size);
  }
  return key_vault_json(request, 200,
                        json::object{{"value", std::move(value)}, {"nextLink", next_link}});
}

}  // namespace coffer::emulator
