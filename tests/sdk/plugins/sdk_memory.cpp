// A provider that reports where the SDK puts its secret memory: get of
// Memory.Report answers "from_host=H excluded=E", H being whether the SDK
// uses the core's secret memory and E whether a SecretBytes and a
// SecretAllocator string lie in mappings excluded from core dumps.
#include <coffer/provider.hpp>

#include <string>

#include "memory_maps.hpp"

namespace {

using namespace coffer::provider;

bool excluded(const void *address) {
  auto mapping = coffer::test::mapping_of(address);
  return mapping && mapping->has_flag("dd");
}

class MemoryReportProvider final : public SyncProvider {
 public:
  static constexpr uint64_t capabilities = 0;

  MemoryReportProvider(const Host &, const OpenParams &) {}

  Value get(const GetRequest &request) override {
    if (request.key != "Memory.Report") throw Error(COFFER_STATUS_NOT_FOUND, request.key);
    SecretBytes bytes(std::string(100, 'x'));
    std::basic_string<char, std::char_traits<char>, SecretAllocator<char>> text(200, 'y');
    std::string report =
        std::string("from_host=") + (secret_memory_from_host() ? "1" : "0") +
        " excluded=" + (excluded(bytes.data()) && excluded(text.data()) ? "1" : "0");
    return Value{SecretBytes(report), {}};
  }
};

}  // namespace

COFFER_PROVIDER(MemoryReportProvider, "sdk_memory", "1.0.0",
                "test: reports where the SDK's secret memory comes from")
