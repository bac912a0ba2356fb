// coffer-demo: resolves every catalog key through a policy and prints, for
// each, the route that chose its providers, the provider-side name, and the
// outcome. Never a value: only its length and version id.
//
// Usage: coffer-demo POLICY_FILE
#include <coffer/store.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace {

std::string pad(const std::string &text, std::size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s POLICY_FILE\n", argv[0]);
    return 2;
  }
  try {
    coffer::StoreOptions options;
    options.caller = "coffer-demo";
    coffer::Store store = coffer::Store::open(argv[1], options);
    std::vector<std::string> keys;
    for (const auto &entry : store.catalog().entries()) keys.push_back(entry.key);

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
        row.outcome = "resolved (" + std::to_string(r.secret.size()) + " bytes, version " +
                      (r.secret.version().empty() ? "-" : r.secret.version()) + ")";
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
    return resolved == keys.size() ? 0 : 1;
  } catch (const coffer::Error &e) {
    std::fprintf(stderr, "coffer-demo: %s\n", e.what());
    return 2;
  }
}
