// coffer-demo: resolves every catalog key through a policy and prints, for
// each, the route that chose its providers, the provider-side name, and the
// outcome. Never a value: only its length and version id.
//
// Usage: coffer-demo [--during-switch] POLICY_FILE
//
// With --during-switch it first reads every key from four threads in a loop,
// with the policy file watched, until the policy changes (an operator
// switching a backend) and a moment after; it reports how many reads there
// were and how many failed, then prints the table under the new policy.
#include <coffer/process.hpp>
#include <coffer/store.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string pad(const std::string &text, std::size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

// Reads `keys` from four threads until the policy generation moves past
// `from`, then half a second more. Returns the number of failed reads.
long read_through_a_switch(coffer::Store &store, const std::vector<std::string> &keys) {
  const std::uint64_t from = store.generation();
  std::atomic<bool> running{true};
  std::atomic<long> reads{0};
  std::atomic<long> failed{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t)
    readers.emplace_back([&] {
      while (running)
        for (const auto &key : keys) {
          coffer::Result r = store.try_get(key);
          ++reads;
          if (!r.ok()) ++failed;
        }
    });
  auto limit = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (store.generation() == from && std::chrono::steady_clock::now() < limit)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  running = false;
  for (auto &t : readers) t.join();
  std::cout << "during the switch: " << reads.load() << " reads from 4 threads, " << failed.load()
            << " failed; policy generation " << from << " -> " << store.generation() << "\n\n";
  return failed.load();
}

int run(const char *policy, bool during_switch) {
  {
    coffer::StoreOptions options;
    options.caller = "coffer-demo";
    options.watch_policy = during_switch;
    coffer::Store store = coffer::Store::open(policy, options);
    std::vector<std::string> keys;
    // Held while it is read: a reload (the file watch) may replace it meanwhile.
    std::shared_ptr<const coffer::Catalog> catalog = store.catalog();
    for (const auto &entry : catalog->entries()) keys.push_back(entry.key);
    long failed_during_switch = during_switch ? read_through_a_switch(store, keys) : 0;

    // Resolve all keys concurrently, as a host would at start-up.
    std::vector<coffer::Result> results = store.get_many(keys);

    struct Row {
      std::string key, rule, provider, name, outcome;
    };
    std::vector<Row> rows;
    std::size_t resolved = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      coffer::Explanation why = store.explain(keys[i]);
      const coffer::Result &r = results[i];
      Row row;
      row.key = keys[i];
      row.rule = why.rule;
      row.provider = r.provider.empty() ? "-" : r.provider;
      row.name = "-";
      for (const auto &step : why.chain)
        if (step.provider == r.provider || (r.provider.empty() && row.name == "-"))
          row.name = step.name;
      if (r.ok()) {
        ++resolved;
        row.outcome =
            "resolved (" + std::to_string(r.secret.size()) + " bytes, version " +
            (r.secret.version().empty() ? std::string("-") : std::string(r.secret.version())) + ")";
      } else {
        row.outcome = std::string(coffer::to_string(r.code));
      }
      rows.push_back(std::move(row));
    }
    std::size_t w[4] = {4, 5, 8, 13};
    for (const auto &row : rows) {
      w[0] = std::max(w[0], row.key.size() + 1);
      w[1] = std::max(w[1], row.rule.size() + 1);
      w[2] = std::max(w[2], row.provider.size() + 1);
      w[3] = std::max(w[3], row.name.size() + 1);
    }
    std::cout << pad("KEY", w[0]) << pad("ROUTE", w[1]) << pad("PROVIDER", w[2])
              << pad("PROVIDER NAME", w[3]) << "OUTCOME\n";
    for (const auto &row : rows)
      std::cout << pad(row.key, w[0]) << pad(row.rule, w[1]) << pad(row.provider, w[2])
                << pad(row.name, w[3]) << row.outcome << "\n";
    std::cout << resolved << " of " << keys.size() << " keys resolved\n";
    return resolved == keys.size() && failed_during_switch == 0 ? 0 : 1;
  }
}

}  // namespace

int main(int argc, char **argv) {
  bool during_switch = argc == 3 && std::string(argv[1]) == "--during-switch";
  if (argc != 2 && !during_switch) {
    std::fprintf(stderr, "usage: %s [--during-switch] POLICY_FILE\n", argv[0]);
    return 2;
  }
  try {
    // A host that reads secrets: no core dump, no debugger (docs/security.md).
    coffer::harden_process();
    return run(argv[argc - 1], during_switch);
  } catch (const coffer::Error &e) {
    std::fprintf(stderr, "coffer-demo: %s\n", e.what());
    return 2;
  }
}
