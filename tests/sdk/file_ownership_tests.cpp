// <coffer/file_ownership.hpp>: how a path is resolved under the ownership
// rules (links followed only as the rules allow, "..", loops, a file that
// does not exist yet) and which directories and files pass.
#define BOOST_TEST_MODULE sdk_file_ownership
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>
#include <coffer/file_ownership.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "other_owner.hpp"
#include "temp_directory.hpp"

namespace {

namespace fs = std::filesystem;
using coffer::provider::DirectoryRole;
using coffer::provider::Error;
using coffer::provider::open_trusted_location;

struct Directory : coffer::test::TempDirectory {
  Directory() : TempDirectory("coffer-ownership") {}
};

Error refusal(const fs::path &path) {
  try {
    (void)open_trusted_location(path);
  } catch (const Error &error) {
    return error;
  }
  BOOST_FAIL("expected " << path << " to be refused");
  return Error(COFFER_STATUS_OK, "");
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

struct stat status_of(const fs::path &path) {
  struct stat info {};
  BOOST_REQUIRE(::lstat(path.c_str(), &info) == 0);
  return info;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_plain_path_resolves_to_its_directory_and_name) {
  Directory directory;
  auto location = open_trusted_location(directory.path() / "a.env");
  BOOST_TEST(location.directory_path == directory.path());
  BOOST_TEST(location.name == "a.env");  // need not exist
  BOOST_TEST(location.directory.valid());
  BOOST_TEST(location.file_path() == directory.path() / "a.env");
}

BOOST_AUTO_TEST_CASE(links_are_followed_through_dot_dot_and_loops_end) {
  Directory directory;
  fs::create_directories(directory.path() / "real" / "deep");
  ::chmod((directory.path() / "real").c_str(), 0700);
  fs::create_symlink("real/deep/../deep", directory.path() / "relative");
  fs::create_symlink(directory.path() / "real", directory.path() / "absolute");
  fs::create_symlink("relative/x.env", directory.path() / "file-link");
  auto through = open_trusted_location(directory.path() / "file-link");
  BOOST_TEST(through.file_path() == directory.path() / "real" / "deep" / "x.env");
  BOOST_TEST(open_trusted_location(directory.path() / "absolute" / "y").file_path() ==
             directory.path() / "real" / "y");
  fs::create_symlink("loop-b", directory.path() / "loop-a");
  fs::create_symlink("loop-a", directory.path() / "loop-b");
  BOOST_TEST(contains(refusal(directory.path() / "loop-a").what(), "resolve"));
  BOOST_TEST(refusal("/").status() == COFFER_STATUS_INVALID_ARGUMENT);
}

BOOST_AUTO_TEST_CASE(the_sticky_bit_helps_on_the_way_but_not_where_the_file_lies) {
  struct stat temporary = status_of(fs::temp_directory_path());
  BOOST_TEST(
      coffer::provider::untrusted_directory_reason(temporary, "/tmp", DirectoryRole::on_the_way)
          .empty());
  std::string holds =
      coffer::provider::untrusted_directory_reason(temporary, "/tmp", DirectoryRole::holds_file);
  BOOST_TEST(contains(holds, "mkdir -m 700"), holds);
  Error refused = refusal(fs::temp_directory_path() / "coffer-a-file-directly-in-tmp");
  BOOST_TEST(refused.status() == COFFER_STATUS_DENIED);
}

BOOST_AUTO_TEST_CASE(files_pass_when_regular_private_to_writes_and_owned) {
  Directory directory;
  const fs::path file = directory.path() / "f";
  std::ofstream(file) << "x";
  ::chmod(file.c_str(), 0644);
  BOOST_TEST(coffer::provider::untrusted_file_reason(status_of(file), file).empty());
  ::chmod(file.c_str(), 0664);
  BOOST_TEST(contains(coffer::provider::untrusted_file_reason(status_of(file), file),
                      "writable by its group (mode 0664)"));
  fs::create_symlink(file, directory.path() / "l");
  BOOST_TEST(contains(coffer::provider::untrusted_file_reason(status_of(directory.path() / "l"),
                                                              directory.path() / "l"),
                      "symbolic link"));
  BOOST_TEST(contains(
      coffer::provider::untrusted_file_reason(status_of(directory.path()), directory.path()),
      "not a regular file"));
}

BOOST_AUTO_TEST_CASE(links_and_directories_of_another_user_are_refused,
                     *boost::unit_test::precondition(coffer::test::running_as_root)) {
  Directory directory;
  fs::create_directory(directory.path() / "theirs");
  fs::create_symlink(directory.path() / "theirs", directory.path() / "link");
  coffer::test::give_to_other_user(directory.path() / "link");
  Error link = refusal(directory.path() / "link" / "f");
  BOOST_TEST(link.status() == COFFER_STATUS_DENIED);
  BOOST_TEST(contains(link.what(), "is a symbolic link owned by uid 65534"), link.what());
  coffer::test::give_to_other_user(directory.path() / "theirs");
  Error owned = refusal(directory.path() / "theirs" / "f");
  BOOST_TEST(contains(owned.what(),
                      "'" + (directory.path() / "theirs").string() + "' is owned by uid 65534"),
             owned.what());
}

// <coffer/file_descriptor.hpp>: the descriptor those rules hand out.
BOOST_AUTO_TEST_SUITE(file_descriptor)

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

BOOST_AUTO_TEST_CASE(it_closes_what_it_owns_once_and_hands_ownership_on) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  BOOST_TEST_REQUIRE(raw >= 0);
  {
    coffer::provider::FileDescriptor first(raw);
    BOOST_TEST(first.valid());
    coffer::provider::FileDescriptor second(std::move(first));
    BOOST_TEST(!first.valid());  // NOLINT(bugprone-use-after-move): moved from on purpose
    BOOST_TEST(second.get() == raw);
    BOOST_TEST(is_open(raw));
  }
  BOOST_TEST(!is_open(raw));
}

BOOST_AUTO_TEST_CASE(reset_reports_what_close_says) {
  coffer::provider::FileDescriptor none;
  BOOST_TEST(none.reset() == 0);
  coffer::provider::FileDescriptor fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  BOOST_TEST_REQUIRE(fd.valid());
  BOOST_TEST(fd.reset() == 0);
  BOOST_TEST(!fd.valid());
  // A descriptor closed behind its owner's back: close() says EBADF.
  coffer::provider::FileDescriptor stale(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  BOOST_TEST_REQUIRE(::close(stale.get()) == 0);
  BOOST_TEST(stale.reset() == EBADF);
}

BOOST_AUTO_TEST_CASE(release_gives_the_descriptor_up_without_closing_it) {
  int raw = -1;
  {
    coffer::provider::FileDescriptor fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    BOOST_TEST_REQUIRE(fd.valid());
    raw = fd.release();
    BOOST_TEST(!fd.valid());
  }
  BOOST_TEST(is_open(raw));
  BOOST_TEST(::close(raw) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
