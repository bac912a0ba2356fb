#include "git_request.hpp"

#include <algorithm>
#include <cctype>

namespace coffer::helpers {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view without_git_suffix(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.size() > 4 && path.substr(path.size() - 4) == ".git") path.remove_suffix(4);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

struct UrlParts {
  std::string scheme;
  std::string host;
  std::string path;  // without leading and trailing '/' and ".git"
};

std::optional<UrlParts> split_url(std::string_view url) {
  auto at = url.find("://");
  if (at == std::string_view::npos) return std::nullopt;
  UrlParts parts;
  parts.scheme = lower(url.substr(0, at));
  std::string_view rest = url.substr(at + 3);
  auto slash = rest.find('/');
  parts.host = lower(rest.substr(0, slash));
  if (slash != std::string_view::npos) parts.path = without_git_suffix(rest.substr(slash));
  return parts;
}

// Whether `prefix` is `path` or a run of its leading segments.
bool covers(std::string_view prefix, std::string_view path) {
  if (prefix.empty()) return true;
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

}  // namespace

GitRequest parse_git_request(std::string_view text) {
  GitRequest request;
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = line.substr(0, eq);
    std::string_view value = line.substr(eq + 1);
    if (key == "protocol")
      request.protocol = value;
    else if (key == "host")
      request.host = value;
    else if (key == "path")
      request.path = value;
    else if (key == "username")
      request.username = std::string(value);
    else if (key == "password")
      request.password = Secret::copy_of(value);
  }
  return request;
}

std::string git_request_url(const GitRequest &request) {
  std::string url = request.protocol + "://" + request.host;
  if (!request.path.empty()) url += "/" + request.path;
  return url;
}

std::vector<const HelperEntry *> matching_git_entries(const std::vector<HelperEntry> &entries,
                                                      const GitRequest &request) {
  std::vector<std::pair<std::size_t, const HelperEntry *>> found;
  const std::string scheme = lower(request.protocol);
  const std::string host = lower(request.host);
  const std::string path(without_git_suffix(request.path));
  for (const auto &entry : entries) {
    auto parts = split_url(entry.match);
    if (!parts || parts->scheme != scheme || parts->host != host) continue;
    if (!covers(parts->path, path)) continue;
    found.emplace_back(parts->path.size(), &entry);
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto &a, const auto &b) { return a.first > b.first; });
  std::vector<const HelperEntry *> out;
  for (const auto &[length, entry] : found) out.push_back(entry);
  return out;
}

}  // namespace coffer::helpers
