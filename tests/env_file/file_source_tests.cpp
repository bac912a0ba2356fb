// FileSource against a file system whose timestamps cannot tell two writes
// apart: the content comparison while times are recent is what notices the
// change.
#define BOOST_TEST_MODULE env_file_source
#include <boost/test/unit_test.hpp>

#include "file_source.hpp"
#include "file_system.hpp"
#include "temp_directory.hpp"
#include "version_tag.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using coffer::env_file::FileSource;
using coffer::env_file::FileSourceSettings;
using coffer::env_file::FileStatus;
using coffer::env_file::PosixFileSystem;
using coffer::env_file::VersionTagger;
using coffer::provider::SecretBytes;

// Reports every file with the same modification and change times, as a
// coarse-grained file system does for writes within one tick.
class CoarseFileSystem : public PosixFileSystem {
 public:
  static constexpr std::int64_t kFileTime = 1'700'000'000'000'000'000;
  std::int64_t now = kFileTime;

  int status(const fs::path &path, FileStatus &status) override {
    int error = PosixFileSystem::status(path, status);
    status.modified_ns = status.changed_ns = kFileTime;
    return error;
  }
  int read(const fs::path &path, SecretBytes &content, FileStatus &status) override {
    int error = PosixFileSystem::read(path, content, status);
    status.modified_ns = status.changed_ns = kFileTime;
    return error;
  }
  std::int64_t now_ns() override { return now; }
};

struct Setup {
  coffer::test::TempDirectory scratch{"coffer-env-source"};
  fs::path directory = scratch.path();
  fs::path file = directory / "credentials.env";
  CoarseFileSystem file_system;
  VersionTagger tagger;
  void write(const std::string &text) const {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
    ::chmod(file.c_str(), 0600);
  }
  FileSource open() {
    return FileSource(FileSourceSettings{file, false, false, false}, file_system, tagger,
                      [](int32_t, const std::string &) {});
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_same_size_rewrite_within_the_timestamp_granularity_is_seen) {
  Setup setup;
  setup.write("KEY=aaaa\n");
  // The file was read within the granularity of its timestamps.
  setup.file_system.now = CoarseFileSystem::kFileTime + 1'000'000'000;
  FileSource source = setup.open();
  BOOST_TEST(source.get("KEY").bytes.view() == "aaaa");
  setup.write("KEY=bbbb\n");  // same inode, same size, same (coarse) times
  BOOST_TEST(source.get("KEY").bytes.view() == "bbbb");
}

BOOST_AUTO_TEST_CASE(old_enough_timestamps_are_trusted_without_reading) {
  Setup setup;
  setup.write("KEY=aaaa\n");
  setup.file_system.now = CoarseFileSystem::kFileTime + 10'000'000'000;
  FileSource source = setup.open();
  BOOST_TEST(source.get("KEY").bytes.view() == "aaaa");
  // Unchanged status: the file is not read again. (A real file system gives
  // a write made now a new mtime; this fake one cannot, which shows that
  // the stat() check alone decides here.)
  setup.write("KEY=bbbb\n");
  BOOST_TEST(source.get("KEY").bytes.view() == "aaaa");
}
