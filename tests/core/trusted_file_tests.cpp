// The policy and catalog files are code in effect (they choose plugin
// directories, pins, routes and paths): they must be regular files of bounded
// size that only root or the running user can change, in directories nobody
// else can write. The audit log must be a regular file too.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <coffer/audit.hpp>
#include <coffer/catalog.hpp>
#include <coffer/error.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <future>
#include <thread>

#include "base/trusted_file.hpp"
#include "policy/policy.hpp"
#include "temp_directory.hpp"
#include "test_policy.hpp"

using coffer::Code;
using coffer::Error;
namespace detail = coffer::detail;
namespace fs = std::filesystem;

namespace {

const std::string kPolicy =
    R"({"coffer": 1, "providers": {"p": {"plugin": "memory"}}, "routes": {"*": "p"}})";

std::string error_of(const std::function<void()> &body) {
  try {
    body();
  } catch (const Error &e) {
    BOOST_TEST((e.code() == Code::invalid_config));
    return e.what();
  }
  BOOST_FAIL("expected an error");
  return {};
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

std::string policy_error(const fs::path &file) {
  return error_of([&] { (void)detail::read_policy(file); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(regular_files)

BOOST_AUTO_TEST_CASE(a_private_policy_file_loads) {
  coffer::test::TempDirectory dir;
  auto policy = detail::read_policy(dir.write("coffer.json", kPolicy));
  BOOST_TEST(policy.providers.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_fifo_as_the_policy_is_refused_without_waiting_for_a_writer) {
  coffer::test::TempDirectory dir;
  fs::path fifo = dir.path() / "coffer.json";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Should the load wait for a writer after all, this one comes after 3 s
  // with a policy-shaped text, so that the test fails on its assertions
  // instead of hanging.
  auto writer = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) {
      (void)!::write(fd, kPolicy.data(), kPolicy.size());
      ::close(fd);
    }
  });
  std::string message = policy_error(fifo);
  BOOST_TEST(contains(message, fifo.string()), message);
  BOOST_TEST(contains(message, "FIFO"), message);
  writer.wait();
}

BOOST_AUTO_TEST_CASE(a_device_or_a_directory_as_the_policy_is_refused) {
  coffer::test::TempDirectory dir;
  fs::path zero = dir.path() / "coffer.json";
  fs::create_symlink("/dev/zero", zero);
  std::string device = policy_error(zero);
  BOOST_TEST(contains(device, "device"), device);
  fs::create_directory(dir.path() / "sub.json");
  BOOST_TEST(contains(policy_error(dir.path() / "sub.json"), "directory"));
}

BOOST_AUTO_TEST_CASE(a_policy_over_one_mebibyte_is_refused) {
  coffer::test::TempDirectory dir;
  std::string big = kPolicy;
  big.insert(1, std::string((1 << 20) - big.size() + 1, ' '));
  std::string message = policy_error(dir.write("coffer.json", big));
  BOOST_TEST(contains(message, "more than the 1048576 bytes"), message);
  // Exactly the limit loads.
  big.erase(1, 1);
  BOOST_TEST(detail::read_policy(dir.write("coffer.json", big)).providers.size() == 1u);
}

// A file longer than fstat said (a file that grew after the check; /proc
// files report a size of 0) is read whole, and still refused past the limit.
BOOST_AUTO_TEST_CASE(a_file_longer_than_its_reported_size_is_read_whole_within_the_limit) {
  const fs::path status = "/proc/self/status";
  BOOST_REQUIRE(fs::file_size(status) == 0u);
  std::string text = detail::read_trusted_file(status, {"status file", 1 << 16});
  BOOST_TEST(text.starts_with("Name:"));
  BOOST_TEST(text.find("\nVmRSS:") != std::string::npos);
  BOOST_TEST(text.size() > 1000u);
  std::string message = error_of([&] { detail::read_trusted_file(status, {"status file", 64}); });
  BOOST_TEST(contains(message, "more than the 64 bytes a status file may have"), message);
}

BOOST_AUTO_TEST_CASE(a_fifo_as_a_catalog_or_the_audit_log_is_refused) {
  coffer::test::TempDirectory dir;
  fs::path fifo = dir.path() / "catalog.json";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto writer = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) {
      (void)!::write(fd, "{\"keys\": []}", 12);
      ::close(fd);
    }
  });
  coffer::Catalog catalog;
  BOOST_TEST(contains(error_of([&] { catalog.add_file(fifo); }), "FIFO"));
  writer.wait();

  // An audit log at a FIFO (that a reader holds open, so opening for writing
  // would succeed) or at a device is refused when the log is opened.
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  BOOST_REQUIRE(reader >= 0);
  for (const fs::path &file : {fifo, fs::path("/dev/null")}) {
    coffer::AuditOptions options;
    options.file = file;
    std::string message = error_of([&] { coffer::AuditLog log(options); });
    BOOST_TEST(contains(message, "not a regular file"), message);
  }
  ::close(reader);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ownership)

BOOST_AUTO_TEST_CASE(a_policy_others_may_write_is_refused) {
  for (mode_t mode : {0666, 0620, 0602}) {
    coffer::test::TempDirectory dir;
    auto file = dir.write("coffer.json", kPolicy);
    BOOST_REQUIRE(::chmod(file.c_str(), mode) == 0);
    BOOST_TEST_CONTEXT("mode " << std::oct << mode) {
      std::string message = policy_error(file);
      BOOST_TEST(contains(message, "writable by group or others"), message);
      BOOST_TEST(contains(message, "chmod go-w " + file.string()), message);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_policy_in_a_directory_others_may_write_is_refused) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json", kPolicy);
  BOOST_REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
  std::string message = policy_error(file);
  BOOST_TEST(contains(message, "directory is unsafe"), message);
  BOOST_TEST(contains(message, dir.path().string() + " is writable by group or others"), message);
}

BOOST_AUTO_TEST_CASE(every_directory_above_the_policy_is_checked) {
  coffer::test::TempDirectory dir;
  fs::path open_dir = dir.path() / "open";
  fs::path nested = open_dir / "etc" / "coffer";
  fs::create_directories(nested);
  std::ofstream(nested / "coffer.json") << kPolicy;
  BOOST_TEST(detail::read_policy(nested / "coffer.json").providers.size() == 1u);
  // Anyone could rename etc/ away and put their own tree in its place.
  BOOST_REQUIRE(::chmod(open_dir.c_str(), 0777) == 0);
  std::string message = policy_error(nested / "coffer.json");
  BOOST_TEST(contains(message, open_dir.string() + " is writable by group or others"), message);
  // A root-owned sticky directory above it (like /tmp) is fine: others can
  // add entries to it but not replace ours.
  if (::geteuid() == 0) {
    BOOST_REQUIRE(::chmod(open_dir.c_str(), 01777) == 0);
    BOOST_TEST(detail::read_policy(nested / "coffer.json").providers.size() == 1u);
  }
}

BOOST_AUTO_TEST_CASE(a_policy_owned_by_another_user_is_refused) {
  // Only root can give a file away; as another user this case cannot be set up.
  if (::geteuid() != 0) return;
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json", kPolicy);
  BOOST_REQUIRE(::chown(file.c_str(), 4242, 4242) == 0);
  BOOST_TEST(contains(policy_error(file), "belongs to uid 4242"));
  BOOST_REQUIRE(::chown(file.c_str(), 0, 0) == 0);
  BOOST_REQUIRE(::chown(dir.path().c_str(), 4242, 4242) == 0);
  std::string message = policy_error(file);
  BOOST_TEST(contains(message, dir.path().string() + " belongs to uid 4242"), message);
  BOOST_REQUIRE(::chown(dir.path().c_str(), 0, 0) == 0);
}

BOOST_AUTO_TEST_CASE(a_catalog_others_may_write_is_refused) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("catalog.json", R"({"keys": [{"key": "Billing.A"}]})");
  BOOST_REQUIRE(::chmod(file.c_str(), 0666) == 0);
  coffer::Catalog catalog;
  std::string message = error_of([&] { catalog.add_file(file); });
  BOOST_TEST(contains(message, "catalog file"), message);
  BOOST_TEST(contains(message, "writable by group or others"), message);
  BOOST_TEST(catalog.entries().empty());
}

BOOST_AUTO_TEST_CASE(a_configmap_style_mount_of_symbolic_links_loads) {
  // kubelet's layout: coffer.json -> ..data/coffer.json, ..data -> ..2026_12_03..,
  // all links and directories owned by root (here: by the running user).
  coffer::test::TempDirectory dir;
  fs::path mount = dir.path() / "config";
  fs::path version = mount / "..2026_12_03_10_00_00.123";
  fs::create_directories(version);
  std::ofstream(version / "coffer.json") << kPolicy;
  fs::create_directory_symlink(version.filename(), mount / "..data");
  fs::create_symlink(fs::path("..data") / "coffer.json", mount / "coffer.json");
  BOOST_TEST(detail::read_policy(mount / "coffer.json").providers.size() == 1u);
  // A link in a directory others may write to is not: they could point it
  // elsewhere.
  fs::path open_dir = dir.path() / "open";
  fs::create_directory(open_dir);
  fs::create_symlink(mount / "coffer.json", open_dir / "coffer.json");
  BOOST_REQUIRE(::chmod(open_dir.c_str(), 0777) == 0);
  std::string message = policy_error(open_dir / "coffer.json");
  BOOST_TEST(contains(message, open_dir.string() + " is writable by group or others"), message);
}

BOOST_AUTO_TEST_SUITE_END()
