// Writing env files: quoting that reads back byte for byte, edits that leave
// the rest of the file alone, and the atomic replacement of the file.
#define BOOST_TEST_MODULE env_file_writer
#include <boost/test/unit_test.hpp>

#include "dotenv_parser.hpp"
#include "dotenv_writer.hpp"
#include "file_system.hpp"
#include "temp_directory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace {

namespace fs = std::filesystem;
using coffer::env_file::Document;
using coffer::env_file::parse;
using coffer::env_file::ParseOptions;
using coffer::env_file::quote_value;
using coffer::env_file::remove_entry;
using coffer::env_file::set_entry;
using coffer::provider::SecretBytes;

// What `value` reads back as after quote_value(), with expansion off or on.
std::string round_trip(std::string_view value, bool expand) {
  SecretBytes quoted = quote_value(value);
  std::string text = "KEY=" + std::string(quoted.view()) + "\n";
  Document document = parse(text, ParseOptions{expand});
  BOOST_REQUIRE(document.find("KEY") != nullptr);
  return std::string(document.find("KEY")->value.view());
}

std::string set(std::string_view text, std::string_view name, std::string_view value) {
  Document document = parse(text);
  return std::string(set_entry(text, document, name, quote_value(value).view()).view());
}

std::string removed(std::string_view text, std::string_view name) {
  Document document = parse(text);
  return std::string(remove_entry(text, document, name).view());
}

std::string read_file(const fs::path &file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path &file, const std::string &text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

struct TemporaryDirectory : coffer::test::TempDirectory {
  TemporaryDirectory() : TempDirectory("coffer-env-writer") {}
  [[nodiscard]] std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(path()), {}));
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(quoting)

BOOST_AUTO_TEST_CASE(every_byte_reads_back_unchanged) {
  for (int byte = 0; byte < 256; ++byte) {
    std::string value = "a" + std::string(1, static_cast<char>(byte)) + "b";
    BOOST_TEST(round_trip(value, false) == value, "byte " << byte);
    BOOST_TEST(round_trip(value, true) == value, "byte " << byte << " with expansion");
  }
}

BOOST_AUTO_TEST_CASE(hostile_values_read_back_unchanged) {
  const std::string values[] = {
      "",
      "\"",
      "\\",
      "\\\"",
      "'",
      "${A}",
      "$$",
      "P@$$w0rd",
      "$(touch x)",
      "`id`",
      "a #b",
      "#",
      "line 1\nline 2\r\nline 3\r",
      "\\0123",
      "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n",
      std::string("nul\0inside", 10),
      " leading and trailing ",
      "\xEF\xBB\xBF"
      "bom",
      "\xC3\xA9t\xC3\xA9",
  };
  for (const std::string &value : values) {
    BOOST_TEST(round_trip(value, false) == value);
    BOOST_TEST(round_trip(value, true) == value);
  }
}

BOOST_AUTO_TEST_CASE(random_values_read_back_unchanged) {
  std::mt19937 generator(20240607);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 64);
  for (int round = 0; round < 2000; ++round) {
    std::string value(static_cast<std::size_t>(length(generator)), '\0');
    for (char &c : value) c = static_cast<char>(byte(generator));
    BOOST_TEST(round_trip(value, round % 2 == 0) == value);
  }
}

BOOST_AUTO_TEST_CASE(quoting_uses_double_quotes_and_escapes) {
  BOOST_TEST(quote_value("a\\b\"c$d\ne\x01").view() == "\"a\\\\b\\\"c\\$d\\ne\\0001\"");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(editing)

BOOST_AUTO_TEST_CASE(an_existing_value_is_replaced_in_place) {
  const std::string text =
      "# credentials\n"
      "A=1\n"
      "\n"
      "  export VCS__Token = 'old' # rotated in May\n"
      "B: two\n"
      "C=\"multi\nline\"\n";
  BOOST_TEST(set(text, "VCS__Token", "new") ==
             "# credentials\n"
             "A=1\n"
             "\n"
             "  export VCS__Token = \"new\" # rotated in May\n"
             "B: two\n"
             "C=\"multi\nline\"\n");
  BOOST_TEST(set(text, "C", "x") ==
             "# credentials\nA=1\n\n  export VCS__Token = 'old' # rotated in May\nB: two\n"
             "C=\"x\"\n");
  BOOST_TEST(set(text, "B", "") ==
             "# credentials\nA=1\n\n  export VCS__Token = 'old' # rotated in May\nB: \"\"\n"
             "C=\"multi\nline\"\n");
  BOOST_TEST(set("A=\nB=1", "A", "v") == "A=\"v\"\nB=1");
}

BOOST_AUTO_TEST_CASE(a_new_key_is_appended_in_the_file_line_break_style) {
  BOOST_TEST(set("A=1\n# end\n", "B", "2") == "A=1\n# end\nB=\"2\"\n");
  BOOST_TEST(set("A=1\r\nC=3\r\n", "B", "2") == "A=1\r\nC=3\r\nB=\"2\"\r\n");
  BOOST_TEST(set("A=1", "B", "2") == "A=1\nB=\"2\"\n");
  BOOST_TEST(set("# only a comment", "B", "2") == "# only a comment\nB=\"2\"\n");
  BOOST_TEST(set("", "B", "2") == "B=\"2\"\n");
  BOOST_TEST(set("\xEF\xBB\xBF", "B", "2") ==
             "\xEF\xBB\xBF"
             "B=\"2\"\n");
  BOOST_TEST(set("\xEF\xBB\xBF"
                 "A=1\n",
                 "A", "2") ==
             "\xEF\xBB\xBF"
             "A=\"2\"\n");
}

BOOST_AUTO_TEST_CASE(earlier_duplicates_are_dropped_and_the_last_keeps_its_place) {
  BOOST_TEST(set("A=1\nB=2\nA=3 # last\nC=4\n", "A", "5") == "B=2\nA=\"5\" # last\nC=4\n");
}

BOOST_AUTO_TEST_CASE(remove_drops_every_line_of_every_definition) {
  BOOST_TEST(removed("# keep\nA=1\nB=\"x\ny\" # c\nC=3\nB=4", "B") == "# keep\nA=1\nC=3\n");
  BOOST_TEST(removed("A=1\r\nB=2\r\nC=3\r\n", "B") == "A=1\r\nC=3\r\n");
  BOOST_TEST(removed("\xEF\xBB\xBF"
                     "A=1\nB=2\n",
                     "A") ==
             "\xEF\xBB\xBF"
             "B=2\n");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(atomic_replacement)

// Checks, at the moment of the rename, that the original file is untouched
// and the new content is complete, private and synced in the same directory.
class WatchedFileSystem : public coffer::env_file::PosixFileSystem {
 public:
  fs::path temporary;
  bool checked = false;
  bool fail_rename = false;
  struct stat before {};
  std::string old_content, new_content;

 protected:
  void rename_into_place(const StagedFile &file) override {
    const fs::path &from = file.temporary;
    const fs::path &target = file.target;
    temporary = from;
    struct stat now {};
    BOOST_REQUIRE(::stat(target.c_str(), &now) == 0);
    BOOST_TEST(now.st_ino == before.st_ino);
    BOOST_TEST(read_file(target) == old_content);
    BOOST_TEST(from.parent_path() == target.parent_path());
    struct stat staged {};
    BOOST_REQUIRE(::stat(from.c_str(), &staged) == 0);
    BOOST_TEST((staged.st_mode & 07777) == 0600u);
    BOOST_TEST(read_file(from) == new_content);
    checked = true;
    if (fail_rename) throw coffer::provider::Error(COFFER_STATUS_UNAVAILABLE, "rename refused");
    PosixFileSystem::rename_into_place(file);
  }
};

BOOST_AUTO_TEST_CASE(the_file_is_replaced_by_rename_and_left_private) {
  TemporaryDirectory directory;
  const fs::path file = directory.path() / "credentials.env";
  write_file(file, "A=1\n");
  ::chmod(file.c_str(), 0644);
  WatchedFileSystem file_system;
  BOOST_REQUIRE(::stat(file.c_str(), &file_system.before) == 0);
  file_system.old_content = "A=1\n";
  file_system.new_content = "A=1\nB=\"2\"\n";
  // A reader that opened the file before the write keeps the old content.
  int reader = ::open(file.c_str(), O_RDONLY);
  coffer::env_file::FileStatus previous;
  BOOST_REQUIRE(file_system.status(file, previous) == 0);
  file_system.replace(file, file_system.new_content, previous);

  BOOST_TEST(file_system.checked);
  BOOST_TEST(read_file(file) == file_system.new_content);
  struct stat after {};
  BOOST_REQUIRE(::stat(file.c_str(), &after) == 0);
  BOOST_TEST(after.st_ino != file_system.before.st_ino);
  BOOST_TEST((after.st_mode & 07777) == 0600u);
  BOOST_TEST(!fs::exists(file_system.temporary));
  BOOST_TEST(directory.entries() == 1u);
  char buffer[16] = {};
  BOOST_TEST(::read(reader, buffer, sizeof buffer) == 4);
  BOOST_TEST(std::string(buffer) == "A=1\n");
  ::close(reader);
}

BOOST_AUTO_TEST_CASE(a_failed_replacement_leaves_the_file_and_no_temporary) {
  TemporaryDirectory directory;
  const fs::path file = directory.path() / "credentials.env";
  write_file(file, "A=1\n");
  WatchedFileSystem file_system;
  BOOST_REQUIRE(::stat(file.c_str(), &file_system.before) == 0);
  file_system.old_content = "A=1\n";
  file_system.new_content = "A=2\n";
  file_system.fail_rename = true;
  coffer::env_file::FileStatus previous;
  BOOST_REQUIRE(file_system.status(file, previous) == 0);
  BOOST_CHECK_THROW(file_system.replace(file, file_system.new_content, previous),
                    coffer::provider::Error);
  BOOST_TEST(file_system.checked);
  BOOST_TEST(read_file(file) == "A=1\n");
  BOOST_TEST(directory.entries() == 1u);
}

// Puts a symbolic link to `victim` where the temporary file was, at the
// moment before the rename, as someone who could write the directory would.
class SwappingFileSystem : public coffer::env_file::PosixFileSystem {
 public:
  fs::path victim;

 protected:
  void rename_into_place(const StagedFile &staged) override {
    BOOST_REQUIRE(::unlink(staged.temporary.c_str()) == 0);
    BOOST_REQUIRE(::symlink(victim.c_str(), staged.temporary.c_str()) == 0);
    PosixFileSystem::rename_into_place(staged);
  }
};

BOOST_AUTO_TEST_CASE(a_link_swapped_in_for_the_temporary_file_is_never_renamed_into_place) {
  TemporaryDirectory directory;
  const fs::path file = directory.path() / "credentials.env";
  const fs::path victim = directory.path() / "victim";
  write_file(file, "A=1\n");
  write_file(victim, "untouched\n");
  SwappingFileSystem file_system;
  file_system.victim = victim;
  coffer::env_file::FileStatus previous;
  BOOST_REQUIRE(file_system.status(file, previous) == 0);
  try {
    file_system.replace(file, "A=2\n", previous);
    BOOST_FAIL("the swapped temporary file was renamed into place");
  } catch (const coffer::provider::Error &error) {
    BOOST_TEST(error.status() == COFFER_STATUS_DENIED);
    BOOST_TEST(std::string(error.what()).find("was replaced before it could be renamed") !=
                   std::string::npos,
               error.what());
  }
  BOOST_TEST(!fs::is_symlink(file));
  BOOST_TEST(read_file(file) == "A=1\n");
  BOOST_TEST(read_file(victim) == "untouched\n");
  BOOST_TEST(directory.entries() == 2u);  // the link at the temporary name is gone too
}

BOOST_AUTO_TEST_CASE(the_new_file_belongs_to_the_writer_and_a_file_changed_since_the_read_is_kept) {
  TemporaryDirectory directory;
  const fs::path file = directory.path() / "credentials.env";
  write_file(file, "A=1\n");
  coffer::env_file::PosixFileSystem file_system;
  BOOST_TEST(file_system.resolve_for_writing(file) == file);
  coffer::env_file::FileStatus previous;
  BOOST_REQUIRE(file_system.status(file, previous) == 0);
  file_system.replace(file, "A=2\n", previous);
  struct stat after {};
  BOOST_REQUIRE(::lstat(file.c_str(), &after) == 0);
  BOOST_TEST(after.st_uid == ::geteuid());
  BOOST_TEST((after.st_mode & 07777) == 0600u);
  BOOST_TEST(read_file(file) == "A=2\n");
  // The version read is no longer there: nothing is written over the new one.
  BOOST_CHECK_THROW(file_system.replace(file, "A=3\n", previous), coffer::provider::Error);
  BOOST_TEST(read_file(file) == "A=2\n");
}

BOOST_AUTO_TEST_SUITE_END()
