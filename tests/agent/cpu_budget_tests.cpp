// The CPUs the agent counts on: a cgroup's cpu.max quota rounded up, and the
// default number of I/O threads derived from it.
#define BOOST_TEST_MODULE agent_units
#include <boost/test/unit_test.hpp>

#include "cpu_budget.hpp"

using coffer::agent::cpus_of_quota;

BOOST_AUTO_TEST_SUITE(cpu_budget)

BOOST_AUTO_TEST_CASE(a_quota_grants_its_cpus_rounded_up) {
  BOOST_TEST(cpus_of_quota("200000 100000\n").value() == 2u);
  BOOST_TEST(cpus_of_quota("150000 100000").value() == 2u);
  BOOST_TEST(cpus_of_quota("50000 100000").value() == 1u);  // half a CPU still needs a thread
  BOOST_TEST(cpus_of_quota("1 100000").value() == 1u);
  BOOST_TEST(cpus_of_quota("800000 100000").value() == 8u);
}

BOOST_AUTO_TEST_CASE(no_quota_or_other_text_grants_nothing) {
  BOOST_TEST(!cpus_of_quota("max 100000").has_value());
  BOOST_TEST(!cpus_of_quota("").has_value());
  BOOST_TEST(!cpus_of_quota("100000").has_value());
  BOOST_TEST(!cpus_of_quota("100000 0").has_value());
  BOOST_TEST(!cpus_of_quota("12x 100000").has_value());
}

BOOST_AUTO_TEST_CASE(the_default_leaves_one_cpu_to_the_clients) {
  unsigned cpus = coffer::agent::cpu_budget();
  BOOST_TEST(cpus >= 1u);
  BOOST_TEST(coffer::agent::default_io_threads() == (cpus > 1 ? cpus - 1 : 1u));
}

BOOST_AUTO_TEST_SUITE_END()
