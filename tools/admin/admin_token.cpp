#include "admin_token.hpp"

#include <openssl/crypto.h>
#include <coffer/error.hpp>

#include <algorithm>
#include <cctype>

#include "token_auth.hpp"

namespace coffer::admin {
namespace {

using agent::token_digest;

std::string_view trimmed(std::string_view text) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

// Refuses a token under 128 bits; `where` names the file (and line).
void check_strength(std::string_view token, const std::string &where,
                    const std::filesystem::path &file) {
  if (token_bits(token) >= 128) return;
  throw Error(Code::invalid_config,
              where + ": the token is shorter than 128 bits (" + std::to_string(token.size()) +
                  " characters); write a longer one, e.g. with 'openssl rand -hex 32' into " +
                  file.string());
}

// One line of a token file that is neither blank nor a comment.
struct TokenLine {
  std::size_t number = 0;
  std::string_view name;  // empty: not a NAME:TOKEN line
  std::string_view token;
};

TokenLine split_line(std::size_t number, std::string_view line) {
  TokenLine out{.number = number, .name = {}, .token = line};
  auto colon = line.find(':');
  if (colon != std::string_view::npos && is_admin_name(trimmed(line.substr(0, colon)))) {
    out.name = trimmed(line.substr(0, colon));
    out.token = trimmed(line.substr(colon + 1));
  }
  return out;
}

}  // namespace

unsigned token_bits(std::string_view token) noexcept {
  bool hex = std::all_of(token.begin(), token.end(),
                         [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  return static_cast<unsigned>(token.size()) * (hex ? 4u : 6u);
}

bool is_admin_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64 || std::isalpha(static_cast<unsigned char>(name[0])) == 0)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
}

AdminToken AdminToken::load(const std::filesystem::path &file, std::string_view option) {
  Secret token = agent::read_token_file(file);
  check_strength(token.reveal(), std::string(option) + " " + file.string(), file);
  AdminToken out;
  out.digest_ = token_digest(token.reveal());
  return out;
}

bool AdminToken::matches(std::string_view presented) const noexcept {
  auto digest = token_digest(presented);
  bool equal = CRYPTO_memcmp(digest.data(), digest_.data(), digest.size()) == 0;
  OPENSSL_cleanse(digest.data(), digest.size());
  return equal && !presented.empty();
}

AdminTokenTable AdminTokenTable::load(const std::filesystem::path &file) {
  Secret content = agent::read_token_file(file);
  std::vector<TokenLine> lines;
  std::string_view rest = content.reveal();
  for (std::size_t number = 1; !rest.empty(); ++number) {
    auto end = rest.find('\n');
    std::string_view line = trimmed(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (!line.empty() && line.front() != '#') lines.push_back(split_line(number, line));
  }
  std::string prefix = "--admin-token-file " + file.string();
  AdminTokenTable table;
  if (lines.size() == 1 && lines.front().name.empty()) {
    // One token alone: the unnamed admin, as before there were names.
    check_strength(lines.front().token, prefix, file);
    table.digests_.push_back(token_digest(lines.front().token));
    table.names_.emplace_back(kUnnamedAdmin);
    return table;
  }
  std::vector<std::size_t> numbers;  // the line of each admin
  for (const auto &line : lines) {
    std::string where = prefix + " line " + std::to_string(line.number);
    if (line.name.empty())
      throw Error(Code::invalid_config,
                  where +
                      ": expected NAME:TOKEN (NAME: letters, digits, '.', '_', '-', starting "
                      "with a letter); a file of several lines names every admin");
    where += " (" + std::string(line.name) + ")";
    check_strength(line.token, where, file);
    auto same_name = std::find(table.names_.begin(), table.names_.end(), line.name);
    if (same_name != table.names_.end())
      throw Error(Code::invalid_config,
                  where + ": the admin " + std::string(line.name) + " is named on line " +
                      std::to_string(numbers[same_name - table.names_.begin()]) +
                      " too; give each admin one line");
    if (auto same_token = agent::matching_token(table.digests_, line.token))
      throw Error(Code::invalid_config,
                  where + ": the same token as line " + std::to_string(numbers[*same_token]) +
                      " (" + table.names_[*same_token] + "); each admin needs their own");
    table.digests_.push_back(token_digest(line.token));
    table.names_.emplace_back(line.name);
    numbers.push_back(line.number);
  }
  if (table.digests_.empty()) throw Error(Code::invalid_config, prefix + ": holds no token");
  return table;
}

std::optional<std::string> AdminTokenTable::identify(std::string_view presented) const {
  auto match = agent::matching_token(digests_, presented);
  if (!match) return std::nullopt;
  return names_[*match];
}

}  // namespace coffer::admin
