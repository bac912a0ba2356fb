// Where the core's and the providers' log lines go.
#ifndef COFFER_CORE_LOGGER_HPP
#define COFFER_CORE_LOGGER_HPP

#include <coffer/store.hpp>

#include <string>

namespace coffer::detail {

class Logger {
 public:
  Logger(LogSink sink, LogLevel level);
  void log(LogLevel level, const std::string &line) const;
  void debug(const std::string &line) const { log(LogLevel::debug, line); }
  void info(const std::string &line) const { log(LogLevel::info, line); }
  void warning(const std::string &line) const { log(LogLevel::warning, line); }
  void error(const std::string &line) const { log(LogLevel::error, line); }
  [[nodiscard]] LogLevel level() const { return level_; }

 private:
  LogSink sink_;
  LogLevel level_;
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_LOGGER_HPP
