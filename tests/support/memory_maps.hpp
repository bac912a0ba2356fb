// Test support: the memory mappings of a process as /proc/PID/smaps lists
// them, and searching the dumpable ones for byte strings (read through
// /proc/PID/mem), the way a core dump would hold them. Linux only.
#ifndef COFFER_TESTS_MEMORY_MAPS_HPP
#define COFFER_TESTS_MEMORY_MAPS_HPP

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::test {

struct Mapping {
  std::uintptr_t begin = 0, end = 0;
  std::string permissions;  // "rw-p"
  std::string path;         // "[heap]", a file, or empty
  std::vector<std::string>
      flags;  // VmFlags: "rd", "wr", "dd" (excluded from dumps), "lo" (locked), ...

  [[nodiscard]] bool has_flag(std::string_view flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
  }
  [[nodiscard]] bool readable() const { return !permissions.empty() && permissions[0] == 'r'; }
  // What a core dump may hold: a mapping not marked MADV_DONTDUMP.
  [[nodiscard]] bool dumpable() const { return !has_flag("dd"); }
  [[nodiscard]] bool contains(const void *address) const {
    auto at = reinterpret_cast<std::uintptr_t>(address);
    return at >= begin && at < end;
  }
  [[nodiscard]] std::string describe() const {
    std::ostringstream out;
    out << std::hex << begin << "-" << end << std::dec << " " << permissions << " "
        << (path.empty() ? "[anonymous]" : path);
    return out.str();
  }
};

// The mappings of `pid` ("self" when 0), in address order. Throws when
// /proc/PID/smaps cannot be read.
inline std::vector<Mapping> read_mappings(pid_t pid = 0) {
  const std::string file =
      "/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) + "/smaps";
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file);
  std::vector<Mapping> mappings;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmFlags:", 0) == 0) {
      if (mappings.empty()) continue;
      std::istringstream words(line.substr(8));
      std::string flag;
      while (words >> flag) mappings.back().flags.push_back(flag);
      continue;
    }
    // A mapping's first line: "begin-end perms offset dev inode [path]".
    const std::size_t dash = line.find('-');
    const std::size_t space = line.find(' ');
    if (dash == std::string::npos || space == std::string::npos || dash > space) continue;
    if (line.find(':') < space) continue;  // a "Name: value" line
    Mapping mapping;
    try {
      mapping.begin = std::stoull(line.substr(0, dash), nullptr, 16);
      mapping.end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
    } catch (const std::exception &) {
      continue;
    }
    std::istringstream fields(line.substr(space + 1));
    std::string offset, device, inode;
    fields >> mapping.permissions >> offset >> device >> inode;
    std::getline(fields >> std::ws, mapping.path);
    mappings.push_back(std::move(mapping));
  }
  return mappings;
}

// The mapping of this process that holds `address`, if any.
inline std::optional<Mapping> mapping_of(const void *address) {
  for (const Mapping &mapping : read_mappings())
    if (mapping.contains(address)) return mapping;
  return std::nullopt;
}

// Where a needle was found.
struct Hit {
  std::string needle;  // its name
  std::string mapping;
  std::uintptr_t address = 0;
};

struct Needle {
  std::string name;   // for messages: "master key", "value of Db.One", ... (never the bytes)
  std::string bytes;  // what to look for
};

// The dumpable memory of a process, read mapping by mapping through
// /proc/PID/mem (or a core file: see scan_file). The reading buffer and the
// needles are the caller's; when scanning itself, keep both in memory that is
// not dumpable.
class DumpScan {
 public:
  struct Summary {
    std::vector<Hit> hits;
    std::size_t mappings = 0;  // dumpable mappings read
    std::size_t bytes = 0;     // bytes read from them
  };

  // Reads every readable, dumpable mapping of `pid` and reports each place a
  // needle occurs. Mappings the kernel will not let anyone read ([vvar] and
  // the like) are skipped. Throws when /proc/PID/mem cannot be opened.
  static Summary scan_process(pid_t pid, const std::vector<Needle> &needles) {
    Summary summary;
    const std::string file = "/proc/" + std::to_string(pid) + "/mem";
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + file + ": " + std::strerror(errno));
    std::vector<char> chunk(1 << 20);
    for (const Mapping &mapping : read_mappings(pid)) {
      if (!mapping.readable() || !mapping.dumpable()) continue;
      bool counted = false;
      std::string carry;  // the end of the previous chunk, for needles across chunks
      for (std::uintptr_t at = mapping.begin; at < mapping.end;) {
        const std::size_t want = std::min<std::uintptr_t>(chunk.size(), mapping.end - at);
        const ssize_t got = ::pread(fd, chunk.data(), want, static_cast<off_t>(at));
        if (got <= 0) break;  // EIO for pages nobody may read
        if (!counted) {
          ++summary.mappings;
          counted = true;
        }
        summary.bytes += static_cast<std::size_t>(got);
        std::string_view window(chunk.data(), static_cast<std::size_t>(got));
        search(carry, window, at, mapping.describe(), needles, summary.hits);
        carry = keep_tail(carry, window, needles);
        at += static_cast<std::uintptr_t>(got);
      }
    }
    ::close(fd);
    return summary;
  }

  // Searches a whole file (a core dump) for the needles.
  static Summary scan_file(const std::string &path, const std::vector<Needle> &needles) {
    Summary summary;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::vector<char> chunk(1 << 20);
    std::string carry;
    std::uintptr_t at = 0;
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      const auto got = static_cast<std::size_t>(in.gcount());
      if (got == 0) break;
      summary.bytes += got;
      std::string_view window(chunk.data(), got);
      search(carry, window, at, path, needles, summary.hits);
      carry = keep_tail(carry, window, needles);
      at += got;
    }
    summary.mappings = 1;
    return summary;
  }

 private:
  static std::size_t longest(const std::vector<Needle> &needles) {
    std::size_t size = 0;
    for (const auto &needle : needles) size = std::max(size, needle.bytes.size());
    return size;
  }
  // `carry` holds the bytes just before `window` (at `at`).
  static void search(const std::string &carry, std::string_view window, std::uintptr_t at,
                     const std::string &where, const std::vector<Needle> &needles,
                     std::vector<Hit> &hits) {
    std::string joined = carry;
    joined.append(window.substr(0, std::min(window.size(), longest(needles))));
    for (const auto &needle : needles) {
      if (needle.bytes.empty()) continue;
      // Occurrences that straddle the boundary ...
      for (std::size_t found = joined.find(needle.bytes); found != std::string::npos;
           found = joined.find(needle.bytes, found + 1))
        if (found < carry.size() && found + needle.bytes.size() > carry.size())
          hits.push_back({needle.name, where, at - carry.size() + found});
      // ... and inside the window.
      for (std::size_t found = window.find(needle.bytes); found != std::string_view::npos;
           found = window.find(needle.bytes, found + 1))
        hits.push_back({needle.name, where, at + found});
    }
  }
  static std::string keep_tail(const std::string &carry, std::string_view window,
                               const std::vector<Needle> &needles) {
    const std::size_t keep = longest(needles) > 0 ? longest(needles) - 1 : 0;
    std::string all = carry;
    all.append(window.substr(window.size() > keep ? window.size() - keep : 0));
    return all.size() > keep ? all.substr(all.size() - keep) : all;
  }
};

}  // namespace coffer::test

#endif  // COFFER_TESTS_MEMORY_MAPS_HPP
