// coffer-bench-azure-keyvault: the azure_keyvault plugin, loaded with dlopen
// and called through its C ABI, against the official Azure SDK for
// JavaScript, both resolving secrets from one Key Vault / Entra ID emulator on
// loopback with workload identity. Scenarios: the 30 catalog keys from a cold
// start, and 1,000 distinct secrets; sequentially, 16 at a time and all at
// once. Reports wall time, throughput and CPU time per secret side by side
// (medians of several rounds) with the ratios.
#include "base/secure_memory.hpp"
#include "emulator_process.hpp"

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
#include <semaphore>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Step {
  std::string scenario, mode;
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
    struct Shared {
      std::counting_semaphore<100000> slots{0};
      std::mutex mutex;
      std::condition_variable done;
      std::size_t finished = 0, errors = 0;
    } shared;
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
    shared.slots.release(static_cast<std::ptrdiff_t>(std::min(step.concurrency, step.keys.size())));
    for (const std::string &key : step.keys) {
      shared.slots.acquire();
      coffer_get_request request{};
      request.struct_size = sizeof request;
      request.key = key.c_str();
      table_->get(
          instance, &request,
          [](void *context, coffer_status status, const coffer_value *value, const char *message) {
            auto *s = static_cast<Shared *>(context);
            std::lock_guard lock(s->mutex);
            if (status != COFFER_STATUS_OK || value == nullptr || value->size == 0) {
              if (s->errors++ == 0) std::cerr << "coffer get failed: " << message << "\n";
            }
            ++s->finished;
            s->slots.release();
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

}  // namespace

int main(int argc, char **argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
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
  coffer::test::EmulatorOptions options;
  options.token_file = token_file;
  options.seed_file = dir + "/seed.json";
  coffer::test::Emulator akv(options);

  boost::json::object config{{"vault_url", akv.vault_url()},
                             {"authority_host", akv.authority_host()},
                             {"ca_file", akv.ca_file().string()},
                             {"verify_challenge_resource", false},  // the JS side is told the same
                             {"credential", boost::json::object{{"type", "workload_identity"},
                                                                {"tenant_id", akv.tenant()},
                                                                {"client_id", akv.client_id()},
                                                                {"token_file", token_file}}}};
  const std::string config_text = boost::json::serialize(config);

  std::vector<std::string> bulk;
  for (int i = 0; i < 1000; ++i) bulk.push_back("Bench.Secret" + std::to_string(i));
  const std::vector<Step> steps = {
      {"30 catalog keys, cold", "sequential", catalog, 1},
      {"30 catalog keys, cold", "all at once", catalog, catalog.size()},
      {"1,000 secrets", "sequential", bulk, 1},
      {"1,000 secrets", "16 at a time", bulk, 16},
      {"1,000 secrets", "all at once", bulk, bulk.size()},
  };

  Plugin plugin;
  // Process start-up, untimed as node's own start-up is: the first instance
  // of a process parses the system CA bundle when SSL_CERT_FILE names one.
  plugin.run(config_text, Step{"warm-up", "", {catalog[0]}, 1});
  std::vector<std::vector<Measure>> coffer_runs(steps.size()), js_runs(steps.size());
  for (int round = 0; round < rounds; ++round) {
    for (std::size_t i = 0; i < steps.size(); ++i)
      coffer_runs[i].push_back(plugin.run(config_text, steps[i]));
    auto js = run_js(akv, token_file, steps);
    for (std::size_t i = 0; i < steps.size(); ++i) js_runs[i].push_back(js[i]);
    std::cerr << "round " << round + 1 << " of " << rounds << " done\n";
  }

  std::cout << "machine: " << read_first_line("nproc") << " cores, "
            << read_first_line("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'")
            << "; node " << read_first_line(std::string("'") + COFFER_BENCH_NODE + "' --version")
            << "; medians of " << rounds
            << " rounds; each step starts cold (new instance/client)\n\n";
  std::printf("%-22s %-12s %6s | %10s %10s %7s | %12s %12s %7s | %s\n", "scenario", "mode", "n",
              "coffer ms", "JS ms", "speed", "coffer CPU/s", "JS CPU/s", "CPU", "errors");
  std::printf("%s\n", std::string(130, '-').c_str());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    auto pick = [](const std::vector<Measure> &runs, double Measure::*field) {
      std::vector<double> values;
      for (const auto &run : runs) values.push_back(run.*field);
      return median(values);
    };
    const double coffer_wall = pick(coffer_runs[i], &Measure::wall_ms);
    const double js_wall = pick(js_runs[i], &Measure::wall_ms);
    const double n = static_cast<double>(steps[i].keys.size());
    const double coffer_cpu = pick(coffer_runs[i], &Measure::cpu_ms) / n * 1000.0;
    const double js_cpu = pick(js_runs[i], &Measure::cpu_ms) / n * 1000.0;
    std::size_t errors = 0;
    for (const auto &run : coffer_runs[i]) errors += run.errors;
    for (const auto &run : js_runs[i]) errors += run.errors;
    std::printf("%-22s %-12s %6zu | %10.1f %10.1f %6.1fx | %9.0f us %9.0f us  1/%-4.1f | %zu\n",
                steps[i].scenario.c_str(), steps[i].mode.c_str(), steps[i].keys.size(), coffer_wall,
                js_wall, js_wall / coffer_wall, coffer_cpu, js_cpu, js_cpu / coffer_cpu, errors);
  }
  std::cout << "\nspeed: JS wall time / coffer wall time (throughput ratio, higher is better for "
               "coffer); CPU: coffer CPU per secret as a fraction of the JS SDK's. coffer's "
               "times include opening and closing the instance.\n";
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
