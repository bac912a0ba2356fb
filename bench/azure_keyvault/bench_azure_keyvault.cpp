// coffer-bench-azure-keyvault: the azure_keyvault plugin, loaded with dlopen
// and called through its C ABI, against a bare libcurl client (the floor of a
// synchronous curl-based SDK) and the official Azure SDK for JavaScript, all
// resolving secrets from one Key Vault / Entra ID emulator on loopback with
// workload identity. Scenarios: the 30 catalog keys from a cold start, and
// 1,000 distinct secrets; sequentially, 16 at a time and all at once. Reports
// wall time, throughput and CPU time per secret side by side (medians of
// several rounds) with the ratios, as a table or (--json) one JSON object per
// scenario.
#include "base/secure_memory.hpp"
#include "curl_client.hpp"
#include "emulator_process.hpp"
#include "options.hpp"

#include <coffer/provider.h>
#include <dlfcn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <coffer/catalog.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Step {
  std::string scenario, mode;
  std::string json_mode;          // "sequential", "concurrent16" or "all" (--json)
  std::vector<std::string> keys;  // canonical keys; the JS side gets the hyphen names
  std::size_t concurrency;
};

struct Measure {
  std::size_t count = 0, errors = 0;
  double wall_ms = 0, cpu_ms = 0;
};

double cpu_ms_now() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval &t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

std::string hyphen_name(std::string key) {
  std::replace(key.begin(), key.end(), '.', '-');
  return key;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// The plugin through its C table, as the core uses it; the host records
// warnings and errors only (as a production host would).
class Plugin {
 public:
  Plugin() {
    const std::string file = std::string(COFFER_BENCH_PLUGIN_DIR) + "/libazure_keyvault.so";
    handle_ = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) throw std::runtime_error(std::string("dlopen: ") + ::dlerror());
    auto entry =
        reinterpret_cast<coffer_provider_entry_fn>(::dlsym(handle_, COFFER_PROVIDER_ENTRY_SYMBOL));
    table_ = entry(COFFER_ABI_VERSION);
    host_.struct_size = sizeof host_;
    host_.abi_version = COFFER_ABI_VERSION;
    host_.log = [](void *, int32_t level, const char *message) {
      if (level >= COFFER_LOG_WARNING) std::cerr << "plugin: " << message << "\n";
    };
    host_.log_level = COFFER_LOG_WARNING;
    host_.now_unix_ms = [](void *) -> int64_t {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    // The core's secret memory, as the core lends it (ABI 1.3).
    host_.secret_allocate = &coffer::detail::secret_allocate_for_plugin;
    host_.secret_free = &coffer::detail::secret_free_for_plugin;
  }

  // Opens an instance, resolves `step`, closes it: a cold start each time.
  Measure run(const std::string &config, const Step &step) {
    // The caller blocks on a condition variable, as the core's Store::get
    // does (a std::counting_semaphore spins with sched_yield first, which
    // would charge coffer's side for the harness).
    struct Shared {
      std::mutex mutex;
      std::condition_variable done;
      std::size_t in_flight = 0, finished = 0, errors = 0;
    } shared;
    const std::size_t concurrency = std::max<std::size_t>(1, step.concurrency);
    const double cpu_start = cpu_ms_now();
    const auto start = Clock::now();
    coffer_open_params params{};
    params.struct_size = sizeof params;
    params.instance_name = "bench";
    params.config_json = config.c_str();
    params.config_size = config.size();
    coffer_instance *instance = nullptr;
    char error[1024] = {0};
    if (table_->open(&host_, &params, &instance, error, sizeof error) != COFFER_STATUS_OK)
      throw std::runtime_error(std::string("open: ") + error);
    for (const std::string &key : step.keys) {
      {
        std::unique_lock lock(shared.mutex);
        shared.done.wait(lock, [&] { return shared.in_flight < concurrency; });
        ++shared.in_flight;
      }
      coffer_get_request request{};
      request.struct_size = sizeof request;
      request.key = key.c_str();
      // One at a time, this thread waits for each answer, as a Store::get
      // caller does, and says so as the core would: the provider may answer
      // on this thread.
      if (concurrency == 1) request.flags = COFFER_GET_CALLER_WAITS;
      table_->get(
          instance, &request,
          [](void *context, coffer_status status, const coffer_value *value, const char *message) {
            auto *s = static_cast<Shared *>(context);
            std::lock_guard lock(s->mutex);
            if (status != COFFER_STATUS_OK || value == nullptr || value->size == 0) {
              if (s->errors++ == 0) std::cerr << "coffer get failed: " << message << "\n";
            }
            ++s->finished;
            --s->in_flight;
            s->done.notify_all();
          },
          &shared);
    }
    {
      std::unique_lock lock(shared.mutex);
      shared.done.wait(lock, [&] { return shared.finished == step.keys.size(); });
    }
    Measure measure;
    measure.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    table_->close(instance);
    measure.cpu_ms = cpu_ms_now() - cpu_start;
    measure.count = step.keys.size();
    measure.errors = shared.errors;
    return measure;
  }

 private:
  void *handle_ = nullptr;
  const coffer_provider *table_ = nullptr;
  coffer_host host_{};
};

// Runs the JS SDK over every step in one node process; returns the measures
// in step order.
std::vector<Measure> run_js(const coffer::test::Emulator &akv, const std::string &token_file,
                            const std::vector<Step> &steps) {
  boost::json::array json_steps;
  for (const Step &step : steps) {
    boost::json::array names;
    for (const auto &key : step.keys) names.emplace_back(hyphen_name(key));
    json_steps.push_back(boost::json::object{{"scenario", step.scenario},
                                             {"mode", step.mode},
                                             {"names", names},
                                             {"concurrency", step.concurrency}});
  }
  boost::json::object task{{"sdk_package_json", COFFER_BENCH_SDK_PACKAGE},
                           {"vault_url", akv.vault_url()},
                           {"authority_host", akv.authority_host()},
                           {"tenant", akv.tenant()},
                           {"client_id", akv.client_id()},
                           {"token_file", token_file},
                           {"steps", json_steps}};
  const std::string task_file = (akv.state_dir() / "js-task.json").string();
  {
    std::ofstream out(task_file);
    out << boost::json::serialize(task);
  }
  const std::string command = "COFFER_BENCH_TASK=\"$(cat '" + task_file +
                              "')\" NODE_EXTRA_CA_CERTS='" + akv.ca_file().string() + "' '" +
                              COFFER_BENCH_NODE + "' '" + COFFER_BENCH_JS + "'";
  FILE *pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run node");
  std::vector<Measure> measures;
  char line[4096];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    auto value = boost::json::parse(line).as_object();
    Measure measure;
    measure.count = value.at("count").to_number<std::size_t>();
    measure.errors = value.at("errors").to_number<std::size_t>();
    measure.wall_ms = value.at("wall_ms").to_number<double>();
    measure.cpu_ms = value.at("cpu_ms").to_number<double>();
    measures.push_back(measure);
  }
  if (::pclose(pipe) != 0 || measures.size() != steps.size())
    throw std::runtime_error(
        "the JS SDK run failed (is the SDK installed? npm ci in "
        "bench/azure_keyvault/js)");
  return measures;
}

std::string read_first_line(const std::string &command) {
  FILE *pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "?";
  char line[512] = {0};
  if (std::fgets(line, sizeof line, pipe) == nullptr) line[0] = 0;
  ::pclose(pipe);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// The Key Vault API version both coffer (in its config) and the libcurl
// client use: the plugin's default.
constexpr const char *kApiVersion = "7.6";
// The vault's name for coffer and libcurl: a Key Vault host name in the
// emulator's certificate, reached at the emulator's address (coffer's
// connect_to, libcurl's CURLOPT_CONNECT_TO), so that both may send the token
// with the first request, as they would to a real vault.
constexpr const char *kVaultHost = "bench.vault.azure.net";

enum Client : std::size_t { kCoffer, kLibcurl, kJsSdk, kClients };
constexpr const char *kClientNames[kClients] = {"coffer", "libcurl", "js_sdk"};

// Why the JS SDK cannot run, or "" when it can.
std::string js_sdk_missing() {
  const std::string node = COFFER_BENCH_NODE;
  if (node.empty() || node.ends_with("-NOTFOUND"))
    return "node was not found when the benchmark was configured";
  const auto modules = std::filesystem::path(COFFER_BENCH_SDK_PACKAGE).parent_path() /
                       "node_modules" / "@azure" / "keyvault-secrets";
  std::error_code error;
  if (!std::filesystem::is_directory(modules, error))
    return "the JS SDK is not installed (no " + modules.string() +
           "): run npm ci in bench/azure_keyvault/js, or leave js_sdk out of --clients";
  return {};
}

struct Summary {
  double wall_ms = 0, cpu_us_per_secret = 0;
  std::size_t errors = 0;  // over every round
};

Summary summarise(const std::vector<Measure> &runs, std::size_t n) {
  std::vector<double> wall, cpu;
  Summary summary;
  for (const auto &run : runs) {
    wall.push_back(run.wall_ms);
    cpu.push_back(run.cpu_ms);
    summary.errors += run.errors;
  }
  summary.wall_ms = median(wall);
  summary.cpu_us_per_secret = median(cpu) / static_cast<double>(n) * 1000.0;
  return summary;
}

// "1/x": a CPU cost as a fraction of another.
std::string fraction(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "1/%.1f", x);
  return text;
}

}  // namespace

int main(int argc, char **argv) {
  coffer::bench::BenchOptions options;
  try {
    options =
        coffer::bench::parse_bench_options(std::vector<std::string_view>(argv + 1, argv + argc));
  } catch (const coffer::bench::UsageError &error) {
    std::cerr << "coffer-bench-azure-keyvault: " << error.what() << "\n"
              << coffer::bench::bench_usage(argv[0]);
    return 2;
  }
  if (options.help) {
    std::cout << coffer::bench::bench_usage(argv[0]);
    return 0;
  }
  if (options.js_sdk) {
    if (const std::string why = js_sdk_missing(); !why.empty()) {
      std::cerr << "coffer-bench-azure-keyvault: js_sdk: " << why << "\n";
      return 2;
    }
  }
  const bool runs[kClients] = {options.coffer, options.libcurl, options.js_sdk};
  const int rounds = options.rounds;
  coffer::bench::CurlGlobal curl_global;  // before any thread starts

  char directory_template[] = "/tmp/coffer-bench-akv-XXXXXX";
  const std::string dir = ::mkdtemp(directory_template);
  const std::string token_file = dir + "/azure-identity-token";
  std::vector<std::string> catalog;  // the 30 keys of the built-in catalog
  const coffer::Catalog builtin = coffer::Catalog::builtin();
  for (const auto &entry : builtin.entries()) catalog.push_back(entry.key);
  {
    std::ofstream(token_file) << "bench-federated-token";
    boost::json::object seed;
    for (const auto &key : catalog) seed[hyphen_name(key)] = "catalog-value-" + key;
    for (int i = 0; i < 1000; ++i)
      seed["Bench-Secret" + std::to_string(i)] = "bench-value-" + std::to_string(i);
    std::ofstream(dir + "/seed.json") << boost::json::serialize(seed);
  }
  coffer::test::EmulatorOptions emulator_options;
  emulator_options.token_file = token_file;
  emulator_options.seed_file = dir + "/seed.json";
  emulator_options.sans.push_back(kVaultHost);
  coffer::test::Emulator akv(emulator_options);

  const std::string port = std::to_string(akv.https_port());
  const std::string vault_url = std::string("https://") + kVaultHost + ":" + port;
  boost::json::object config{{"vault_url", vault_url},
                             {"connect_to", "127.0.0.1:" + port},
                             {"authority_host", akv.authority_host()},
                             {"ca_file", akv.ca_file().string()},
                             {"api_version", kApiVersion},
                             {"credential", boost::json::object{{"type", "workload_identity"},
                                                                {"tenant_id", akv.tenant()},
                                                                {"client_id", akv.client_id()},
                                                                {"token_file", token_file}}}};
  const std::string config_text = boost::json::serialize(config);
  // The same endpoint, tenant, client, token file and CA as coffer's config.
  const coffer::bench::CurlTarget curl_target{
      .vault_url = vault_url,
      .token_url = akv.authority_host() + akv.tenant() + "/oauth2/v2.0/token",
      .client_id = akv.client_id(),
      .token_file = token_file,
      .ca_file = akv.ca_file().string(),
      .api_version = kApiVersion,
      .connect_to = std::string(kVaultHost) + ":" + port + ":127.0.0.1:" + port};

  std::vector<std::string> bulk;
  for (int i = 0; i < 1000; ++i) bulk.push_back("Bench.Secret" + std::to_string(i));
  std::vector<Step> steps = {
      {"30 catalog keys, cold", "sequential", "sequential", catalog, 1},
      {"30 catalog keys, cold", "all at once", "all", catalog, catalog.size()},
      {"1,000 secrets", "sequential", "sequential", bulk, 1},
      {"1,000 secrets", "16 at a time", "concurrent16", bulk, 16},
      {"1,000 secrets", "all at once", "all", bulk, bulk.size()},
  };
  std::erase_if(steps, [&](const Step &step) {
    return (!options.mode.empty() && step.json_mode != options.mode) ||
           (options.n != 0 && step.keys.size() != options.n);
  });
  if (steps.empty()) {
    std::cerr << "coffer-bench-azure-keyvault: no scenario has that --mode and --n\n";
    return 2;
  }
  auto run_curl = [&](const Step &step) {
    std::vector<std::string> names;
    for (const auto &key : step.keys) names.push_back(hyphen_name(key));
    const double cpu_start = cpu_ms_now();
    const auto start = Clock::now();
    Measure measure;
    measure.errors = coffer::bench::curl_resolve(curl_target, names, step.concurrency);
    measure.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    measure.cpu_ms = cpu_ms_now() - cpu_start;
    measure.count = names.size();
    return measure;
  };

  std::optional<Plugin> plugin;
  if (runs[kCoffer]) plugin.emplace();
  // Process start-up, untimed as node's own start-up is: the first instance
  // of a process parses the system CA bundle when SSL_CERT_FILE names one;
  // libcurl's first handle loads OpenSSL's configuration and error strings.
  if (runs[kCoffer]) plugin->run(config_text, Step{"warm-up", "", "", {catalog[0]}, 1});
  if (runs[kLibcurl]) run_curl(Step{"warm-up", "", "", {catalog[0]}, 1});
  std::vector<std::vector<Measure>> measures[kClients];
  for (auto &client : measures) client.resize(steps.size());
  for (int round = 0; round < rounds; ++round) {
    // coffer and libcurl take turns going first, round by round: a step that
    // follows the other client's heaviest step (a thousand connections
    // closing) finds the emulator busier than one that follows its own.
    const bool coffer_first = round % 2 == 0;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      auto run_coffer = [&] {
        if (runs[kCoffer]) measures[kCoffer][i].push_back(plugin->run(config_text, steps[i]));
      };
      if (coffer_first) run_coffer();
      if (runs[kLibcurl]) measures[kLibcurl][i].push_back(run_curl(steps[i]));
      if (!coffer_first) run_coffer();
    }
    if (runs[kJsSdk]) {
      auto js = run_js(akv, token_file, steps);
      for (std::size_t i = 0; i < steps.size(); ++i) measures[kJsSdk][i].push_back(js[i]);
    }
    std::cerr << "round " << round + 1 << " of " << rounds << " done\n";
  }

  // Human text goes to stdout, or to stderr when stdout carries the JSON.
  std::ostream &human = options.json ? std::cerr : std::cout;
  human << "machine: " << read_first_line("nproc") << " cores, "
        << read_first_line("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'");
  if (runs[kLibcurl]) human << "; " << coffer::bench::curl_library_version();
  if (runs[kJsSdk])
    human << "; node " << read_first_line(std::string("'") + COFFER_BENCH_NODE + "' --version");
  human << "; medians of " << rounds
        << " rounds; each step starts cold (new instance/client/handles, token exchange)\n";
  if (!options.json) {
    std::printf("\n%-22s %-12s %5s |", "scenario", "mode", "n");
    for (std::size_t c = 0; c < kClients; ++c)
      if (runs[c]) std::printf(" %10s", (std::string(kClientNames[c]) + " ms").c_str());
    for (std::size_t c = 0; c < kClients; ++c)
      if (runs[c]) std::printf(" %12s", (std::string(kClientNames[c]) + " CPU/s").c_str());
    if (runs[kCoffer] && runs[kLibcurl]) std::printf(" | %8s %8s", "vs curl", "CPU");
    if (runs[kCoffer] && runs[kJsSdk]) std::printf(" | %8s %8s", "vs JS", "CPU");
    std::printf(" | errors\n%s\n", std::string(150, '-').c_str());
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const std::size_t n = steps[i].keys.size();
    Summary summary[kClients];
    std::size_t errors = 0;
    for (std::size_t c = 0; c < kClients; ++c)
      if (runs[c]) {
        summary[c] = summarise(measures[c][i], n);
        errors += summary[c].errors;
      }
    if (options.json) {
      boost::json::object clients;
      for (std::size_t c = 0; c < kClients; ++c)
        if (runs[c])
          clients[kClientNames[c]] = {{"wall_ms", summary[c].wall_ms},
                                      {"cpu_us_per_secret", summary[c].cpu_us_per_secret},
                                      {"errors", summary[c].errors}};
      std::cout << boost::json::serialize(boost::json::object{{"scenario", steps[i].scenario},
                                                              {"mode", steps[i].json_mode},
                                                              {"n", n},
                                                              {"clients", clients}})
                << "\n";
      continue;
    }
    std::printf("%-22s %-12s %5zu |", steps[i].scenario.c_str(), steps[i].mode.c_str(), n);
    for (std::size_t c = 0; c < kClients; ++c)
      if (runs[c]) std::printf(" %10.1f", summary[c].wall_ms);
    for (std::size_t c = 0; c < kClients; ++c)
      if (runs[c]) std::printf(" %9.0f us", summary[c].cpu_us_per_secret);
    const Summary &ours = summary[kCoffer];
    if (runs[kCoffer] && runs[kLibcurl])
      std::printf(" | %7.2fx %8.2f", summary[kLibcurl].wall_ms / ours.wall_ms,
                  ours.cpu_us_per_secret / summary[kLibcurl].cpu_us_per_secret);
    if (runs[kCoffer] && runs[kJsSdk])
      std::printf(" | %7.1fx %8s", summary[kJsSdk].wall_ms / ours.wall_ms,
                  fraction(summary[kJsSdk].cpu_us_per_secret / ours.cpu_us_per_secret).c_str());
    std::printf(" | %zu\n", errors);
  }
  if (!options.json && runs[kCoffer] && (runs[kLibcurl] || runs[kJsSdk]))
    std::cout << "\nvs curl, vs JS: the peer's wall time / coffer's (throughput ratio, higher is "
                 "better for coffer); CPU: coffer's CPU per secret / libcurl's (lower is better "
                 "for coffer), and as a fraction of the JS SDK's. coffer's times include opening "
                 "and closing the instance; libcurl's the token exchange and its handles.\n";
  std::cout.flush();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
