#include "agent_log.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <ctime>

namespace coffer::agent {
namespace {

std::string_view level_name(LogLevel level) {
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

// RFC 3339 in UTC with milliseconds.
std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis.count()));
  return text;
}

// Control characters shown escaped, so that a field cannot forge a line.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

void AgentLog::write(LogLevel level, std::string_view message,
                     const std::vector<LogField> &fields) {
  if (static_cast<int>(level) < static_cast<int>(options_.level)) return;
  std::string line;
  if (options_.json) {
    boost::json::object object;
    object["time"] = timestamp();
    object["level"] = level_name(level);
    object["message"] = message;
    for (const auto &field : fields) {
      if (const auto *text = std::get_if<std::string>(&field.value))
        object[field.name] = *text;
      else
        object[field.name] = std::get<std::int64_t>(field.value);
    }
    line = boost::json::serialize(object);
  } else {
    line = "coffer serve: " + std::string(level_name(level)) + ": " + printable(message);
    for (const auto &field : fields) {
      line += ' ' + field.name + '=';
      if (const auto *text = std::get_if<std::string>(&field.value))
        line += printable(*text);
      else
        line += std::to_string(std::get<std::int64_t>(field.value));
    }
  }
  line += '\n';
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), options_.out);
  std::fflush(options_.out);
}

LogSink AgentLog::store_sink() {
  return [this](LogLevel level, std::string_view line) {
    write(level, line, {{"source", "store"}});
  };
}

}  // namespace coffer::agent
