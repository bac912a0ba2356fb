#include "env_map.hpp"

#include <coffer/catalog.hpp>
#include <coffer/error.hpp>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "exit_status.hpp"

namespace coffer::cli {
namespace {

// Files larger than this are not maps of names to keys.
constexpr std::uintmax_t kMaxMapBytes = 1024 * 1024;

std::string_view trimmed(std::string_view text) {
  const char *blanks = " \t\r";
  auto first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(blanks);
  return text.substr(first, last - first + 1);
}

// NAME=KEY, or what is wrong with it. Neither a line without '=' nor a
// right-hand side that is not a key is repeated: either may be a value.
struct ParsedBinding {
  std::optional<EnvBinding> binding;
  std::string problem;
};

ParsedBinding parse_binding(std::string_view text, std::string origin) {
  ParsedBinding out;
  auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    out.problem = "expected NAME=KEY (the text is not repeated here in case it is a value)";
    return out;
  }
  std::string_view name = trimmed(text.substr(0, eq));
  std::string_view key = trimmed(text.substr(eq + 1));
  if (!is_env_name(name)) {
    out.problem = name.empty() ? std::string("the name before '=' is empty")
                               : "the name before '=' is not an environment variable name "
                                 "(letters, digits and _, not starting with a digit; it is not "
                                 "repeated here in case it is a value)";
    return out;
  }
  if (!is_canonical_key(key)) {
    out.problem = std::string(name) +
                  ": what follows '=' must be a key name such as VCS.GithubAdminPAT (it is not "
                  "repeated here in case it is a value)";
    return out;
  }
  out.binding = EnvBinding{std::string(name), std::string(key), std::move(origin)};
  return out;
}

}  // namespace

bool is_env_name(std::string_view name) noexcept {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    bool digit = c >= '0' && c <= '9';
    if (!letter && !digit && c != '_') return false;
  }
  return true;
}

EnvBinding parse_env_option(std::string_view text) {
  ParsedBinding parsed = parse_binding(text, "--env");
  if (!parsed.binding) throw UsageError("run", "--env: " + parsed.problem);
  return std::move(*parsed.binding);
}

std::vector<EnvBinding> read_env_file(const std::filesystem::path &file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw Error(
        Code::invalid_argument,
        "--env-file " + file.string() +
            (std::filesystem::exists(file, ec) ? " is not a regular file" : ": no such file"));
  if (std::filesystem::file_size(file, ec) > kMaxMapBytes)
    throw Error(Code::invalid_argument, "--env-file " + file.string() +
                                            " is larger than 1 MiB; it should map names to keys");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(Code::invalid_argument, "cannot read --env-file " + file.string());
  std::vector<EnvBinding> bindings;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    std::string_view text = trimmed(line);
    if (text.empty() || text.front() == '#') continue;
    std::string where = file.string() + ":" + std::to_string(number);
    if (text.find('\0') != std::string_view::npos)
      throw Error(Code::invalid_argument, where + ": the line holds a NUL byte");
    ParsedBinding parsed = parse_binding(text, where);
    if (!parsed.binding) throw Error(Code::invalid_argument, where + ": " + parsed.problem);
    bindings.push_back(std::move(*parsed.binding));
  }
  if (in.bad()) throw Error(Code::invalid_argument, "cannot read --env-file " + file.string());
  return bindings;
}

void require_unique_names(const std::vector<EnvBinding> &bindings) {
  std::map<std::string_view, const EnvBinding *> seen;
  for (const auto &binding : bindings) {
    auto [it, added] = seen.emplace(binding.name, &binding);
    if (!added)
      throw Error(Code::invalid_argument, binding.origin + ": " + binding.name +
                                              " is mapped twice (first at " + it->second->origin +
                                              ")");
  }
}

}  // namespace coffer::cli
