// The metrics' text writer: every family in the Prometheus exposition format,
// label values escaped, histogram buckets cumulative and locale-independent.
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <locale>
#include <string>

#include "observability/exposition.hpp"

using coffer::detail::Exposition;

BOOST_AUTO_TEST_SUITE(exposition)

BOOST_AUTO_TEST_CASE(a_family_starts_with_help_and_type_and_escapes_label_values) {
  Exposition out;
  out.family("coffer_things_total", "counter", "Things.");
  out.sample("coffer_things_total", {{"provider", R"(a"b\c)"}, {"category", "line\nbreak"}}, 7);
  out.sample("coffer_plain", {}, 3);
  BOOST_TEST(out.text() ==
             "# HELP coffer_things_total Things.\n"
             "# TYPE coffer_things_total counter\n"
             "coffer_things_total{provider=\"a\\\"b\\\\c\",category=\"line\\nbreak\"} 7\n"
             "coffer_plain 3\n");
}

BOOST_AUTO_TEST_CASE(a_histogram_writes_cumulative_buckets_sum_and_count) {
  Exposition out;
  std::array<double, 3> bounds = {0.0005, 0.25, 10};
  std::array<std::uint64_t, 3> counts = {2, 0, 1};
  out.histogram("coffer_latency_seconds", {{"route", "get"}}, bounds, counts, 4, 12.5);
  BOOST_TEST(out.text() ==
             "coffer_latency_seconds_bucket{route=\"get\",le=\"0.0005\"} 2\n"
             "coffer_latency_seconds_bucket{route=\"get\",le=\"0.25\"} 2\n"
             "coffer_latency_seconds_bucket{route=\"get\",le=\"10\"} 3\n"
             "coffer_latency_seconds_bucket{route=\"get\",le=\"+Inf\"} 4\n"
             "coffer_latency_seconds_sum{route=\"get\"} 12.5\n"
             "coffer_latency_seconds_count{route=\"get\"} 4\n");
}

namespace {
struct DecimalComma : std::numpunct<char> {
  char do_decimal_point() const override { return ','; }
};
}  // namespace

BOOST_AUTO_TEST_CASE(numbers_do_not_follow_the_global_locale) {
  // A host that installs a locale with a decimal comma must not break the format.
  std::locale previous = std::locale::global(std::locale(std::locale::classic(), new DecimalComma));
  Exposition out;
  std::array<double, 1> bounds = {2.5};
  std::array<std::uint64_t, 1> counts = {1};
  out.histogram("h", {}, bounds, counts, 1, 0.125);
  std::locale::global(previous);
  BOOST_TEST(out.text().find("le=\"2.5\"") != std::string::npos);
  BOOST_TEST(out.text().find("h_sum 0.125\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
