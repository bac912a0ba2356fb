// The agent's log: one line per event on standard error, as text for people
// or as one JSON object per line (`--json`) for log collectors. Lines carry
// what happened, to whom and why, never a secret value or a token: callers
// pass only names, numbers and messages of the core, which never hold values.
//
// Threading: every method may be called from many threads at once.
#ifndef COFFER_AGENT_AGENT_LOG_HPP
#define COFFER_AGENT_AGENT_LOG_HPP

#include <coffer/store.hpp>

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace coffer::agent {

// One named field of a log line.
struct LogField {
  std::string name;
  std::variant<std::string, std::int64_t> value;
};

class AgentLog {
 public:
  struct Options {
    bool json = false;
    LogLevel level = LogLevel::info;
    std::FILE *out = stderr;
  };
  explicit AgentLog(Options options) : options_(options) {}

  // Writes one line when `level` is at or above the configured level.
  void write(LogLevel level, std::string_view message, const std::vector<LogField> &fields = {});
  [[nodiscard]] bool enabled(LogLevel level) const noexcept {
    return static_cast<int>(level) >= static_cast<int>(options_.level);
  }
  // A sink for the Store's own log lines (StoreOptions::log).
  [[nodiscard]] LogSink store_sink();

 private:
  Options options_;
  std::mutex mutex_;
};

}  // namespace coffer::agent

#endif  // COFFER_AGENT_AGENT_LOG_HPP
