#include "options.hpp"

#include <charconv>

namespace coffer::bench {
namespace {

constexpr int kMaxRounds = 1000;

int parse_rounds(std::string_view text, std::string_view option) {
  int rounds = 0;
  const char *end = text.data() + text.size();
  auto [next, error] = std::from_chars(text.data(), end, rounds);
  if (text.empty() || error != std::errc() || next != end || rounds < 1 || rounds > kMaxRounds)
    throw UsageError(std::string(option) + ": expected a number of rounds from 1 to " +
                     std::to_string(kMaxRounds) + ", got '" + std::string(text) + "'");
  return rounds;
}

void parse_clients(std::string_view list, BenchOptions &options) {
  options.coffer = options.libcurl = options.js_sdk = false;
  if (list.empty()) throw UsageError("--clients: expected a list such as coffer,libcurl,js_sdk");
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view name = list.substr(0, comma);
    bool *chosen = name == "coffer"    ? &options.coffer
                   : name == "libcurl" ? &options.libcurl
                   : name == "js_sdk"  ? &options.js_sdk
                                       : nullptr;
    if (chosen == nullptr)
      throw UsageError("--clients: unknown client '" + std::string(name) +
                       "' (known: coffer, libcurl, js_sdk)");
    if (*chosen) throw UsageError("--clients: client '" + std::string(name) + "' named twice");
    *chosen = true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

BenchOptions parse_bench_options(const std::vector<std::string_view> &arguments) {
  BenchOptions options;
  bool rounds_given = false, clients_given = false;
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    std::string_view argument = arguments[i];
    // "--name=value" or "--name value" for the options that take a value.
    auto value_of = [&](std::string_view name) -> std::string_view {
      if (argument.size() > name.size() && argument.substr(0, name.size()) == name &&
          argument[name.size()] == '=')
        return argument.substr(name.size() + 1);
      if (i + 1 >= arguments.size()) throw UsageError(std::string(name) + ": missing value");
      return arguments[++i];
    };
    auto is = [&](std::string_view name) {
      return argument == name || (argument.substr(0, name.size()) == name &&
                                  argument.size() > name.size() && argument[name.size()] == '=');
    };
    if (argument == "--json") {
      options.json = true;
    } else if (argument == "--help" || argument == "-h") {
      options.help = true;
    } else if (is("--rounds")) {
      if (rounds_given) throw UsageError("--rounds: given twice (or with a positional ROUNDS)");
      options.rounds = parse_rounds(value_of("--rounds"), "--rounds");
      rounds_given = true;
    } else if (is("--clients")) {
      if (clients_given) throw UsageError("--clients: given twice");
      parse_clients(value_of("--clients"), options);
      clients_given = true;
    } else if (is("--mode")) {
      options.mode = std::string(value_of("--mode"));
      if (options.mode != "sequential" && options.mode != "concurrent16" && options.mode != "all")
        throw UsageError("--mode: expected sequential, concurrent16 or all, got '" + options.mode +
                         "'");
    } else if (is("--n")) {
      const std::string_view text = value_of("--n");
      const char *end = text.data() + text.size();
      auto [next, error] = std::from_chars(text.data(), end, options.n);
      if (text.empty() || error != std::errc() || next != end || options.n == 0)
        throw UsageError("--n: expected a number of secrets (30 or 1000), got '" +
                         std::string(text) + "'");
    } else if (!argument.empty() && argument[0] == '-') {
      throw UsageError(std::string(argument) + ": unknown option");
    } else {
      if (rounds_given)
        throw UsageError("ROUNDS '" + std::string(argument) + "': rounds given twice");
      options.rounds = parse_rounds(argument, "ROUNDS");
      rounds_given = true;
    }
  }
  return options;
}

std::string bench_usage(std::string_view program) {
  return "usage: " + std::string(program) +
         " [--rounds N | ROUNDS] [--clients coffer,libcurl,js_sdk] [--json] [--mode M] [--n N]\n"
         "  --rounds N   rounds to take the medians of (default 3)\n"
         "  --clients L  the clients to run, comma-separated (default: all three)\n"
         "  --json       one JSON object per scenario on stdout, nothing else\n"
         "  --mode M     only the scenarios of mode M: sequential, concurrent16 or all\n"
         "  --n N        only the scenarios of N secrets (30 or 1000)\n";
}

}  // namespace coffer::bench
