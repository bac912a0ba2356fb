// The git credential helper protocol (git help credential, "INPUT/OUTPUT
// FORMAT"): the description git writes on a helper's standard input, and
// which of the policy's "helpers.git" entries answers it.
#ifndef COFFER_HELPERS_GIT_REQUEST_HPP
#define COFFER_HELPERS_GIT_REQUEST_HPP

#include <coffer/store.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::helpers {

// The attributes of one description that a helper uses; others (wwwauth[],
// capability[], password_expiry_utc, oauth_refresh_token, ...) are ignored.
struct GitRequest {
  std::string protocol;                 // "https"
  std::string host;                     // "github.com" or "example.com:8443"
  std::string path;                     // sent with credential.useHttpPath only
  std::optional<std::string> username;  // when git already has one
  Secret password;                      // `store` and `erase` only
};

// Parses "key=value" lines up to an empty line or the end. A line without
// '=' is skipped (the protocol has none).
GitRequest parse_git_request(std::string_view text);

// The URL the request is for: protocol://host[/path].
std::string git_request_url(const GitRequest &request);

// The entries whose "url" covers the request, most specific first: same
// scheme and host (letter case aside, the port included as git sends it),
// and the entry's path, if any, a whole-segment prefix of the request's
// (a trailing ".git" and '/' ignored on both). Entries of equal length
// keep their policy order.
std::vector<const HelperEntry *> matching_git_entries(const std::vector<HelperEntry> &entries,
                                                      const GitRequest &request);

}  // namespace coffer::helpers

#endif  // COFFER_HELPERS_GIT_REQUEST_HPP
