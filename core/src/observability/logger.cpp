#include "observability/logger.hpp"

#include <cstdio>
#include <mutex>

namespace coffer::detail {
namespace {

const char *label(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

}  // namespace

Logger::Logger(LogSink sink, LogLevel level) : sink_(std::move(sink)), level_(level) {
  if (!sink_) {
    sink_ = [](LogLevel l, std::string_view line) {
      static std::mutex stderr_mutex;  // keeps lines whole
      std::lock_guard lock(stderr_mutex);
      std::fprintf(stderr, "coffer: %s: %.*s\n", label(l), static_cast<int>(line.size()),
                   line.data());
    };
  }
}

void Logger::log(LogLevel level, const std::string &line) const {
  if (level < level_) return;
  try {
    sink_(level, line);
  } catch (...) {  // a failing sink must not break a get
  }
}

}  // namespace coffer::detail
