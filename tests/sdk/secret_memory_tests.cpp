// The SDK's secret memory (provider.hpp): from a core of ABI 1.3 it is the
// core's (coffer_host.secret_allocate); from an older core, or before any
// open(), the SDK's own pages; either way excluded from core dumps. The
// choice is made once.
#define BOOST_TEST_MODULE sdk_secret_memory_tests
#include <coffer/provider.hpp>

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <string>

#include "memory_maps.hpp"
#include "sdk_test_support.hpp"

using namespace coffer;
using namespace coffer::sdk_test;
namespace sdk = coffer::provider;

namespace {

bool excluded(const void *address) {
  auto mapping = coffer::test::mapping_of(address);
  return mapping && mapping->has_flag("dd");
}

// A host's secret memory that counts its calls (plain heap: only the routing
// is under test here).
int host_allocations = 0;
int host_frees = 0;
void *counting_allocate(std::size_t size) {
  ++host_allocations;
  return ::operator new(size);
}
void counting_free(void *block, std::size_t) {
  ++host_frees;
  ::operator delete(block);
}

coffer_host host_table(std::size_t struct_size) {
  coffer_host host{};
  host.struct_size = static_cast<uint32_t>(struct_size);
  host.abi_version = COFFER_ABI_VERSION;
  host.secret_allocate = &counting_allocate;
  host.secret_free = &counting_free;
  return host;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(choice)

BOOST_AUTO_TEST_CASE(a_core_of_abi_1_3_lends_its_secret_memory) {
  sdk::detail::SecretMemoryChoice choice;
  coffer_host host = host_table(sizeof(coffer_host));
  sdk::detail::take_host_secret_memory(&host, choice);
  host_allocations = host_frees = 0;
  const auto &functions = choice.get();
  void *block = functions.allocate(64);
  functions.free(block, 64);
  BOOST_TEST(host_allocations == 1);
  BOOST_TEST(host_frees == 1);
}

BOOST_AUTO_TEST_CASE(an_older_core_leaves_the_sdk_its_own) {
  sdk::detail::SecretMemoryChoice choice;
  // A 1.2 table ends before secret_allocate: the pointers past its
  // struct_size must not be used, whatever they hold.
  coffer_host host = host_table(offsetof(coffer_host, secret_allocate));
  sdk::detail::take_host_secret_memory(&host, choice);
  host_allocations = 0;
  const auto &functions = choice.get();
  BOOST_TEST((functions.allocate == &sdk::detail::own_secret_allocate));
  void *block = functions.allocate(64);
  BOOST_TEST(excluded(block));
  functions.free(block, 64);
  BOOST_TEST(host_allocations == 0);
}

BOOST_AUTO_TEST_CASE(the_choice_never_changes) {
  sdk::detail::SecretMemoryChoice choice;
  void *early = choice.get().allocate(16);  // before any open: the SDK's own
  coffer_host host = host_table(sizeof(coffer_host));
  sdk::detail::take_host_secret_memory(&host, choice);
  BOOST_TEST((choice.get().free == &sdk::detail::own_secret_free));
  choice.get().free(early, 16);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(own_memory)

// This process has no core that lends memory: the SDK's own pages.
BOOST_AUTO_TEST_CASE(secret_bytes_and_allocators_stay_out_of_core_dumps) {
  BOOST_TEST(!sdk::secret_memory_from_host());
  sdk::SecretBytes bytes("first");
  BOOST_TEST(excluded(bytes.data()));
  for (int i = 0; i < 2000; ++i) bytes.push_back('x');  // grows across pages
  BOOST_TEST(excluded(bytes.data()));
  BOOST_TEST(excluded(bytes.data() + bytes.size() - 1));
  BOOST_TEST(bytes.view().substr(0, 5) == "first");
  BOOST_TEST(bytes.size() == 2005u);
  sdk::SecretBytes copy = bytes.clone();
  BOOST_TEST(excluded(copy.data()));
  BOOST_TEST((copy == bytes));
  bytes.clear();
  BOOST_TEST(bytes.empty());

  std::basic_string<char, std::char_traits<char>, sdk::SecretAllocator<char>> text(100, 't');
  BOOST_TEST(excluded(text.data()));
  BOOST_TEST(sdk::secret_allocate(0) == nullptr);
  BOOST_CHECK_NO_THROW(sdk::secret_free(nullptr, 10));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(through_the_core)

BOOST_AUTO_TEST_CASE(a_plugin_uses_the_core_secret_memory) {
  Store store = open_test_plugin("sdk_memory");
  Result report = get(store, "Memory.Report");
  BOOST_TEST_REQUIRE(report.ok(), report.message);
  BOOST_TEST(report.secret.reveal() == "from_host=1 excluded=1");
}

BOOST_AUTO_TEST_SUITE_END()
