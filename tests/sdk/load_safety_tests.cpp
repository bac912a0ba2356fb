// The core's safety checks before it maps a plugin into the process: files
// and directories that others may write to, files owned by another user, and
// SHA-256 pins in the policy. Each case copies a real plugin into a private
// temporary directory and changes one thing.
#define BOOST_TEST_MODULE sdk_load_safety_tests
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "sdk_test_support.hpp"

using namespace coffer;
using namespace coffer::sdk_test;
namespace fs = std::filesystem;

namespace {

// The plugin copied around: a complete C++ provider built with the SDK.
const char *const kPlugin = "sdk_sync";

std::string sha256_hex(const fs::path &file) {
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  BOOST_REQUIRE(EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) == 1);
  static const char *hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

// A private directory holding a copy of the plugin, ready to be loaded.
struct PluginCopy {
  TempDir dir;
  fs::path file = dir.copy(plugin_file(kPlugin), std::string("lib") + kPlugin + ".so");

  Store open(const std::string &sha256 = {}) const {
    return Store::from_string(one_provider_policy(dir.path(), kPlugin, "{}", sha256),
                              test_options());
  }
  void chmod(const fs::path &path, mode_t mode) const {
    BOOST_REQUIRE(::chmod(path.c_str(), mode) == 0);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_private_copy_loads) {
  PluginCopy copy;
  Store store = copy.open();
  BOOST_TEST(store.get("Behaviour.Value").reveal() == "sync-value");
}

BOOST_AUTO_TEST_CASE(a_plugin_file_writable_by_group_or_others_is_refused) {
  for (mode_t mode : {0775, 0757, 0666}) {
    PluginCopy copy;
    copy.chmod(copy.file, mode);
    Failure f = failure_of([&] { (void)copy.open(); });
    BOOST_TEST_CONTEXT("mode " << std::oct << mode) {
      BOOST_TEST_REQUIRE(f.thrown);
      BOOST_TEST((f.code == Code::invalid_config));
      BOOST_TEST(contains(f.message, copy.file.string()), f.message);
      BOOST_TEST(contains(f.message, "writable by group or others"), f.message);
      BOOST_TEST(contains(f.message, "chmod go-w"), f.message);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_plugin_directory_writable_by_group_or_others_is_refused) {
  for (mode_t mode : {0770, 0707, 01777}) {
    PluginCopy copy;
    copy.chmod(copy.dir.path(), mode);
    Failure f = failure_of([&] { (void)copy.open(); });
    BOOST_TEST_CONTEXT("mode " << std::oct << mode) {
      BOOST_TEST_REQUIRE(f.thrown);
      BOOST_TEST(contains(f.message, copy.file.string()), f.message);
      BOOST_TEST(contains(f.message, "directory is unsafe"), f.message);
      BOOST_TEST(contains(f.message, "writable by group or others"), f.message);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_directory_above_a_plugin_is_checked) {
  // plugins/ itself is private, but anyone may rename it away from the open
  // directory above and put their own in its place.
  TempDir dir;
  fs::path open_dir = dir.path() / "open";
  fs::path plugins = open_dir / "lib" / "plugins";
  fs::create_directories(plugins);
  fs::copy_file(plugin_file(kPlugin), plugins / (std::string("lib") + kPlugin + ".so"));
  auto open = [&] {
    return Store::from_string(one_provider_policy(plugins, kPlugin), test_options());
  };
  BOOST_TEST(open().get("Behaviour.Value").reveal() == "sync-value");
  BOOST_REQUIRE(::chmod(open_dir.c_str(), 0777) == 0);
  Failure f = failure_of([&] { (void)open(); });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST(contains(f.message, "directory is unsafe"), f.message);
  BOOST_TEST(contains(f.message, open_dir.string() + " is writable by group or others"), f.message);
  // A root-owned sticky directory above (like /tmp) is the usual exception.
  if (::geteuid() == 0) {
    BOOST_REQUIRE(::chmod(open_dir.c_str(), 01777) == 0);
    BOOST_TEST(open().get("Behaviour.Value").reveal() == "sync-value");
  }
}

BOOST_AUTO_TEST_CASE(a_plugin_reached_through_a_link_in_an_open_directory_is_refused) {
  PluginCopy copy;
  TempDir links;
  fs::path open_dir = links.path() / "open";
  fs::create_directory(open_dir);
  fs::create_directory_symlink(copy.dir.path(), open_dir / "plugins");
  BOOST_REQUIRE(::chmod(open_dir.c_str(), 0777) == 0);
  Failure f = failure_of([&] {
    (void)Store::from_string(one_provider_policy(open_dir / "plugins", kPlugin), test_options());
  });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST(contains(f.message, open_dir.string() + " is writable by group or others"), f.message);
}

BOOST_AUTO_TEST_CASE(an_entry_symbol_that_is_not_a_function_in_executable_code_is_refused) {
  // Calling either would crash the host; both are refused before the call.
  const std::pair<const char *, const char *> cases[] = {
      {"entry_as_data", "as data, not as a function"},
      {"entry_not_executable", "does not lie in an executable segment"}};
  for (const auto &one_case : cases) {
    // Named copies: lambdas cannot capture structured bindings in every
    // compiler the project builds with (clang 14).
    const char *name = one_case.first;
    const char *why = one_case.second;
    BOOST_TEST_CONTEXT(name) {
      TempDir dir;
      dir.copy(plugin_file(name), std::string("lib") + name + ".so");
      Failure f = failure_of(
          [&] { (void)Store::from_string(one_provider_policy(dir.path(), name), test_options()); });
      BOOST_TEST_REQUIRE(f.thrown);
      BOOST_TEST((f.code == Code::invalid_config));
      BOOST_TEST(contains(f.message, "coffer_provider_entry"), f.message);
      BOOST_TEST(contains(f.message, why), f.message);
      auto listed = scan_plugins({dir.path()});
      BOOST_TEST_REQUIRE(listed.size() == 1u);
      BOOST_TEST(!listed.front().loadable);
      BOOST_TEST(contains(listed.front().refusal, why), listed.front().refusal);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_plugin_owned_by_another_user_is_refused) {
  // Only root can give a file away; as another user this case cannot be set up.
  if (::geteuid() != 0) return;
  PluginCopy copy;
  BOOST_REQUIRE(::chown(copy.file.c_str(), 4242, 4242) == 0);
  Failure f = failure_of([&] { (void)copy.open(); });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST(contains(f.message, copy.file.string()), f.message);
  BOOST_TEST(contains(f.message, "belongs to uid 4242"), f.message);
}

BOOST_AUTO_TEST_CASE(a_matching_sha256_pin_loads) {
  PluginCopy copy;
  std::string digest = sha256_hex(copy.file);
  Store store = copy.open(digest);
  BOOST_TEST(store.get("Behaviour.Value").reveal() == "sync-value");
  // Hexadecimal digits in either case.
  std::string upper = digest;
  for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Store again = copy.open(upper);
  BOOST_TEST(again.get("Behaviour.Value").reveal() == "sync-value");
}

BOOST_AUTO_TEST_CASE(a_mismatching_sha256_pin_is_refused_with_both_digests) {
  PluginCopy copy;
  std::string actual = sha256_hex(copy.file);
  std::string pinned(64, '0');
  Failure f = failure_of([&] { (void)copy.open(pinned); });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST((f.code == Code::invalid_config));
  BOOST_TEST(contains(f.message, copy.file.string()), f.message);
  BOOST_TEST(contains(f.message, actual), f.message);
  BOOST_TEST(contains(f.message, pinned), f.message);
}

BOOST_AUTO_TEST_CASE(a_pin_catches_a_plugin_replaced_after_the_policy_was_written) {
  PluginCopy copy;
  std::string pinned = sha256_hex(copy.file);
  // Another (valid, loadable) plugin now sits under the pinned file name.
  fs::copy_file(plugin_file("sdk_async"), copy.file, fs::copy_options::overwrite_existing);
  Failure f = failure_of([&] { (void)copy.open(pinned); });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST(contains(f.message, pinned), f.message);
  BOOST_TEST(contains(f.message, sha256_hex(copy.file)), f.message);
}

BOOST_AUTO_TEST_CASE(a_malformed_pin_is_a_policy_error) {
  PluginCopy copy;
  Failure f = failure_of([&] { (void)copy.open("abc123"); });
  BOOST_TEST_REQUIRE(f.thrown);
  BOOST_TEST((f.code == Code::invalid_config));
  BOOST_TEST(contains(f.message, "sha256"), f.message);
}

BOOST_AUTO_TEST_CASE(scan_reports_every_refused_file_with_its_reason) {
  TempDir dir;
  auto good = dir.copy(plugin_file(kPlugin), "libgood.so");
  auto writable = dir.copy(plugin_file(kPlugin), "libwritable.so");
  BOOST_REQUIRE(::chmod(writable.c_str(), 0666) == 0);
  auto text = dir.write("libtext.so", "not an ELF file\n");
  auto no_entry = dir.copy(plugin_file("no_entry"), "libno_entry.so");
  auto future = dir.copy(plugin_file("future_major"), "libfuture_major.so");

  auto plugins = scan_plugins({dir.path()});
  BOOST_TEST_REQUIRE(plugins.size() == 5u);
  auto find = [&](const fs::path &file) -> const PluginInfo & {
    for (const auto &info : plugins)
      if (info.file == file) return info;
    BOOST_FAIL("scan_plugins did not report " << file);
    return plugins.front();
  };
  const PluginInfo &ok = find(good);
  BOOST_TEST(ok.loadable, ok.refusal);
  BOOST_TEST(ok.refusal.empty());
  BOOST_TEST(ok.name == "sdk_sync");
  BOOST_TEST(ok.abi_version == COFFER_ABI_VERSION);

  const PluginInfo &w = find(writable);
  BOOST_TEST(!w.loadable);
  BOOST_TEST(contains(w.refusal, "writable by group or others"), w.refusal);
  const PluginInfo &t = find(text);
  BOOST_TEST(!t.loadable);
  BOOST_TEST(contains(t.refusal, "not a loadable shared object"), t.refusal);
  const PluginInfo &n = find(no_entry);
  BOOST_TEST(!n.loadable);
  BOOST_TEST(contains(n.refusal, "coffer_provider_entry"), n.refusal);
  const PluginInfo &f = find(future);
  BOOST_TEST(!f.loadable);
  BOOST_TEST(contains(f.refusal, "2.1"), f.refusal);

  // An unsafe directory: every file in it is refused, saying why.
  BOOST_REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
  for (const auto &info : scan_plugins({dir.path()})) {
    BOOST_TEST(!info.loadable, info.file);
    BOOST_TEST(contains(info.refusal, "directory is unsafe"), info.refusal);
  }
}
