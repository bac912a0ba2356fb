#include "http_message.hpp"

#include <algorithm>
#include <cctype>

namespace coffer::emulator {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view find_header(const std::vector<Header> &headers, std::string_view name) {
  for (const auto &h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

void parse_pairs(std::string_view text, bool plus_is_space,
                 std::map<std::string, std::string> &out) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    const auto pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), plus_is_space);
    auto value = eq == std::string_view::npos ? std::string{}
                                              : percent_decode(pair.substr(eq + 1), plus_is_space);
    out.emplace(std::move(key), std::move(value));
  }
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  return find_header(headers, name);
}

bool Request::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const Header &h) { return iequals(h.name, name); });
}

void Response::set_header(std::string_view name, std::string_view value) {
  for (auto &h : headers) {
    if (iequals(h.name, name)) {
      h.value = std::string(value);
      return;
    }
  }
  headers.push_back({std::string(name), std::string(value)});
}

std::string_view Response::header(std::string_view name) const {
  return find_header(headers, name);
}

const std::string *Target::param(const std::string &key) const {
  const auto it = query.find(key);
  return it == query.end() ? nullptr : &it->second;
}

Target parse_target(std::string_view target) {
  Target result;
  const auto question = target.find('?');
  result.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) {
    parse_pairs(target.substr(question + 1), false, result.query);
  }
  std::string_view path = result.path;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return result;
  for (;;) {
    const auto slash = path.find('/');
    result.segments.push_back(percent_decode(path.substr(0, slash), false));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return result;
}

std::map<std::string, std::string> parse_form(std::string_view body) {
  std::map<std::string, std::string> out;
  parse_pairs(body, true, out);
  return out;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (auto &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

}  // namespace coffer::emulator
