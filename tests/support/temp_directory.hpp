// Test support: a fresh private directory for one test, removed with everything
// in it when the object is destroyed. Every failure to make it or to write into
// it throws std::runtime_error naming the path and the system's reason; a
// failure to remove it is reported on standard error (a destructor cannot
// throw). Not thread-safe; one owner.
#ifndef COFFER_TESTS_TEMP_DIRECTORY_HPP
#define COFFER_TESTS_TEMP_DIRECTORY_HPP

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace coffer::test {

class TempDirectory {
 public:
  // Creates $TMPDIR/PREFIX-XXXXXX with mode 0700 (mkdtemp(3)).
  explicit TempDirectory(std::string_view prefix = "coffer-test") {
    std::error_code error;
    const std::filesystem::path base = std::filesystem::temp_directory_path(error);
    if (error)
      throw std::runtime_error("temporary directory for " + std::string(prefix) + ": " +
                               error.message());
    std::string pattern = (base / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    path_ = pattern;
  }

  // Removes the directory and its contents, whatever modes the test gave them.
  ~TempDirectory() {
    std::error_code error;
    make_removable(path_);
    std::filesystem::remove_all(path_, error);
    if (error) std::cerr << "warning: cannot remove " << path_ << ": " << error.message() << "\n";
  }

  TempDirectory(const TempDirectory &) = delete;
  TempDirectory &operator=(const TempDirectory &) = delete;

  [[nodiscard]] const std::filesystem::path &path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(std::string_view name) const {
    return path_ / name;
  }

  // Writes `text` to NAME in the directory (replacing it) and gives it `mode`
  // (owner read and write by default, as files holding secrets must be).
  std::filesystem::path write(
      std::string_view name, std::string_view text,
      std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                    std::filesystem::perms::owner_write) const {
    const std::filesystem::path file = path_ / name;
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
      out.close();
      if (!out)
        throw std::runtime_error("cannot write " + file.string() + ": " + std::strerror(errno));
    }
    std::error_code error;
    std::filesystem::permissions(file, mode, error);
    if (error) throw std::runtime_error("chmod " + file.string() + ": " + error.message());
    return file;
  }

 private:
  // A test may leave a directory without write or search permission; its owner
  // can always give them back before removing it.
  static void make_removable(const std::filesystem::path &directory) {
    std::error_code error;
    std::filesystem::permissions(directory, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, error);
    for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
      if (it->is_directory(error) && !it->is_symlink(error)) make_removable(it->path());
    }
  }

  std::filesystem::path path_;
};

}  // namespace coffer::test

#endif  // COFFER_TESTS_TEMP_DIRECTORY_HPP
