#include "retry.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <vector>

namespace coffer::azure {
namespace {

std::optional<int64_t> parse_integer(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty() || text.size() > 12) return std::nullopt;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day) noexcept {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

std::optional<unsigned> month_number(std::string_view name) {
  static constexpr std::array<std::string_view, 12> months = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < months.size(); ++i)
    if (name == months[i]) return i + 1;
  return std::nullopt;
}

bool parse_clock(std::string_view text, int64_t &seconds) {
  if (text.size() != 8 || text[2] != ':' || text[5] != ':') return false;
  auto hours = parse_integer(text.substr(0, 2));
  auto minutes = parse_integer(text.substr(3, 2));
  auto secs = parse_integer(text.substr(6, 2));
  if (!hours || !minutes || !secs || *hours > 23 || *minutes > 59 || *secs > 60) return false;
  seconds = *hours * 3600 + *minutes * 60 + *secs;
  return true;
}

}  // namespace

bool is_retryable_status(unsigned status) noexcept {
  switch (status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

std::optional<int64_t> parse_http_date(std::string_view text) {
  // Split on spaces, commas and hyphens: the three forms then differ only in
  // the order of their fields.
  std::vector<std::string_view> words;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ' ' || text[i] == ',' || text[i] == '-') {
      if (i > start) words.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  std::string_view day_text, month_text, year_text, clock_text;
  if (words.size() == 6 && words[5] == "GMT") {  // IMF-fixdate or RFC 850
    day_text = words[1];
    month_text = words[2];
    year_text = words[3];
    clock_text = words[4];
  } else if (words.size() == 5) {  // asctime: Sun Nov  6 08:49:37 1994
    month_text = words[1];
    day_text = words[2];
    clock_text = words[3];
    year_text = words[4];
  } else {
    return std::nullopt;
  }
  auto month = month_number(month_text);
  auto day = parse_integer(day_text);
  auto year = parse_integer(year_text);
  int64_t clock = 0;
  if (!month || !day || !year || *day < 1 || *day > 31 || !parse_clock(clock_text, clock))
    return std::nullopt;
  if (year_text.size() == 2) *year += *year < 50 ? 2000 : 1900;  // RFC 7231 7.1.1.1
  if (year_text.size() != 2 && year_text.size() != 4) return std::nullopt;
  return days_from_civil(*year, *month, static_cast<unsigned>(*day)) * 86400 + clock;
}

std::optional<Milliseconds> parse_retry_after(std::string_view value, int64_t now_unix_ms) {
  if (auto seconds = parse_integer(value)) return Milliseconds(*seconds * 1000);
  auto date = parse_http_date(value);
  if (!date) return std::nullopt;
  int64_t delta = *date * 1000 - now_unix_ms;
  return Milliseconds(std::max<int64_t>(delta, 0));
}

std::optional<Milliseconds> parse_retry_after_ms(std::string_view value) {
  if (auto millis = parse_integer(value)) return Milliseconds(*millis);
  return std::nullopt;
}

Milliseconds backoff_delay(const RetryPolicy &policy, int attempt,
                           std::optional<Milliseconds> server_delay, double random01) noexcept {
  int64_t cap = std::max<int64_t>(policy.base_delay.count(), 0);
  for (int i = 1; i < attempt && cap < policy.max_delay.count(); ++i) cap *= 2;
  cap = std::min<int64_t>(cap, policy.max_delay.count());
  random01 = std::clamp(random01, 0.0, 1.0);
  auto jittered = Milliseconds(static_cast<int64_t>(static_cast<double>(cap) * random01));
  if (server_delay && *server_delay > jittered) return *server_delay;
  return jittered;
}

std::optional<Milliseconds> next_retry_delay(const RetryPolicy &policy, int attempt,
                                             std::optional<Milliseconds> server_delay,
                                             Milliseconds remaining, double random01) noexcept {
  if (attempt >= policy.max_attempts) return std::nullopt;
  Milliseconds delay = backoff_delay(policy, attempt, server_delay, random01);
  if (delay >= remaining) return std::nullopt;
  return delay;
}

}  // namespace coffer::azure
