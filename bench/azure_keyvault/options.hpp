// The command line of coffer-bench-azure-keyvault. Scripts rely on these
// names: --json, --clients coffer,libcurl,js_sdk, --rounds N (and the older
// positional ROUNDS). --mode and --n pick scenarios (for profiling one).
#ifndef COFFER_BENCH_AZURE_KEYVAULT_OPTIONS_HPP
#define COFFER_BENCH_AZURE_KEYVAULT_OPTIONS_HPP

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::bench {

struct BenchOptions {
  int rounds = 3;
  bool json = false;  // one JSON object per scenario on stdout, nothing else there
  bool coffer = true, libcurl = true, js_sdk = true;  // the clients that run
  bool help = false;
  std::string mode;   // only the scenarios of this mode (sequential, concurrent16, all)
  std::size_t n = 0;  // only the scenarios of this many secrets; 0: all
};

// A bad command line; what() names the option at fault.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses the arguments after the program name. Throws UsageError.
BenchOptions parse_bench_options(const std::vector<std::string_view> &arguments);

// The usage text (for --help and after a UsageError).
std::string bench_usage(std::string_view program);

}  // namespace coffer::bench

#endif  // COFFER_BENCH_AZURE_KEYVAULT_OPTIONS_HPP
