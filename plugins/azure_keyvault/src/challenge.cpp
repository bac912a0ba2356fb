#include "challenge.hpp"

#include "url.hpp"

#include <utility>
#include <vector>

namespace coffer::azure {
namespace {

struct RawChallenge {
  std::string scheme;
  std::vector<std::pair<std::string, std::string>> parameters;  // names lower-cased
};

bool is_token_character(char c) noexcept {
  if (c >= '0' && c <= '9') return true;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
    case '/':  // token68 characters, lenient
      return true;
    default:
      return false;
  }
}

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}
  bool done() const { return position_ >= text_.size(); }
  void skip_space() {
    while (!done() && (text_[position_] == ' ' || text_[position_] == '\t')) ++position_;
  }
  void skip_separators() {
    while (!done() &&
           (text_[position_] == ' ' || text_[position_] == '\t' || text_[position_] == ','))
      ++position_;
  }
  char peek() const { return done() ? '\0' : text_[position_]; }
  void advance() { ++position_; }
  std::string token() {
    std::size_t start = position_;
    while (!done() && is_token_character(text_[position_])) ++position_;
    return std::string(text_.substr(start, position_ - start));
  }
  // After '=': a quoted string or a token.
  std::string value() {
    if (peek() != '"') {
      std::size_t start = position_;
      while (!done() && text_[position_] != ',' && text_[position_] != ' ' &&
             text_[position_] != '\t')
        ++position_;
      return std::string(text_.substr(start, position_ - start));
    }
    advance();
    std::string out;
    while (!done() && text_[position_] != '"') {
      if (text_[position_] == '\\' && position_ + 1 < text_.size()) ++position_;
      out.push_back(text_[position_++]);
    }
    if (!done()) advance();  // closing quote
    return out;
  }
  std::size_t position() const { return position_; }
  void reset(std::size_t position) { position_ = position; }

 private:
  std::string_view text_;
  std::size_t position_ = 0;
};

std::vector<RawChallenge> parse_all(std::string_view header) {
  std::vector<RawChallenge> challenges;
  Reader reader(header);
  while (true) {
    reader.skip_separators();
    if (reader.done()) break;
    std::string word = reader.token();
    if (word.empty()) {  // unexpected character: skip it
      reader.advance();
      continue;
    }
    std::size_t after_word = reader.position();
    reader.skip_space();
    if (reader.peek() == '=' && !challenges.empty()) {
      reader.advance();
      reader.skip_space();
      challenges.back().parameters.emplace_back(to_lower(word), reader.value());
      continue;
    }
    reader.reset(after_word);
    challenges.push_back(RawChallenge{to_lower(word), {}});
  }
  return challenges;
}

const std::string *find(const RawChallenge &challenge, std::string_view name) {
  for (const auto &[key, value] : challenge.parameters)
    if (key == name) return &value;
  return nullptr;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

bool is_valid_tenant(std::string_view tenant) noexcept {
  if (tenant.empty() || tenant.size() > 256) return false;
  for (char c : tenant) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return tenant != "." && tenant != "..";
}

std::optional<Challenge> parse_challenge(std::string_view header) {
  for (const RawChallenge &raw : parse_all(header)) {
    if (raw.scheme != "bearer") continue;
    const std::string *authorization = find(raw, "authorization");
    if (authorization == nullptr) authorization = find(raw, "authorization_uri");
    const std::string *resource = find(raw, "resource");
    const std::string *scope = find(raw, "scope");
    if (authorization == nullptr || (resource == nullptr && scope == nullptr)) continue;

    auto authority = parse_url(*authorization);
    if (!authority) continue;
    std::string_view path = authority->path;
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    std::string_view tenant = path.substr(0, path.find('/'));
    if (!is_valid_tenant(tenant)) continue;

    Challenge challenge;
    challenge.tenant = std::string(tenant);
    std::string resource_url;
    if (resource != nullptr) {
      resource_url = *resource;
      if (!resource_url.empty() && resource_url.back() == '/') resource_url.pop_back();
      challenge.scope = resource_url + "/.default";
    } else {
      challenge.scope = *scope;
      resource_url = *scope;
    }
    auto parsed_resource = parse_url(resource_url);
    if (!parsed_resource || !parsed_resource->endpoint.tls) continue;
    challenge.resource_host = parsed_resource->endpoint.host;
    return challenge;
  }
  return std::nullopt;
}

std::string check_challenge_resource(const Challenge &challenge, std::string_view vault_host) {
  std::string host = to_lower(vault_host);
  if (ends_with(host, "." + challenge.resource_host)) return {};
  return "the vault's authentication challenge names the resource '" + challenge.resource_host +
         "', which does not match the vault host '" + host + "' (a vault host must end with '." +
         challenge.resource_host +
         "'); refusing to request a Key Vault token for it. If this endpoint is a private "
         "endpoint or an emulator you trust, set \"verify_challenge_resource\": false";
}

}  // namespace coffer::azure
