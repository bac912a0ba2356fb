#include "admin_token.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <coffer/error.hpp>

#include <algorithm>
#include <cctype>

#include "token_auth.hpp"

namespace coffer::admin {
namespace {

using Digest = std::array<unsigned char, 32>;

Digest digest_of(std::string_view text) {
  Digest digest{};
  SHA256(reinterpret_cast<const unsigned char *>(text.data()), text.size(), digest.data());
  return digest;
}

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
  out.digest_ = digest_of(token.reveal());
  return out;
}

bool AdminToken::matches(std::string_view presented) const noexcept {
  Digest digest = digest_of(presented);
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
    table.entries_.push_back(
        {.digest = digest_of(lines.front().token), .name = std::string(kUnnamedAdmin)});
    return table;
  }
  std::vector<std::size_t> numbers;
  for (const auto &line : lines) {
    std::string where = prefix + " line " + std::to_string(line.number);
    if (line.name.empty())
      throw Error(Code::invalid_config,
                  where +
                      ": expected NAME:TOKEN (NAME: letters, digits, '.', '_', '-', starting "
                      "with a letter); a file of several lines names every admin");
    where += " (" + std::string(line.name) + ")";
    check_strength(line.token, where, file);
    Entry entry{.digest = digest_of(line.token), .name = std::string(line.name)};
    for (std::size_t i = 0; i < table.entries_.size(); ++i) {
      const Entry &other = table.entries_[i];
      if (other.name == entry.name)
        throw Error(Code::invalid_config, where + ": the admin " + entry.name +
                                              " is named on line " + std::to_string(numbers[i]) +
                                              " too; give each admin one line");
      if (CRYPTO_memcmp(other.digest.data(), entry.digest.data(), entry.digest.size()) == 0)
        throw Error(Code::invalid_config, where + ": the same token as line " +
                                              std::to_string(numbers[i]) + " (" + other.name +
                                              "); each admin needs their own");
    }
    table.entries_.push_back(std::move(entry));
    numbers.push_back(line.number);
  }
  if (table.entries_.empty()) throw Error(Code::invalid_config, prefix + ": holds no token");
  return table;
}

std::optional<std::string> AdminTokenTable::identify(std::string_view presented) const {
  if (presented.empty()) return std::nullopt;
  Digest digest = digest_of(presented);
  const Entry *match = nullptr;
  for (const auto &entry : entries_) {
    bool equal = CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
    if (equal) match = &entry;
  }
  OPENSSL_cleanse(digest.data(), digest.size());
  if (match == nullptr) return std::nullopt;
  return match->name;
}

}  // namespace coffer::admin
