// When to retry a request and how long to wait first: the transient HTTP
// statuses, the server's Retry-After (seconds or an HTTP date) and the
// exponential backoff with full jitter used when the server says nothing.
// Pure functions; thread-safe.
#ifndef COFFER_AZURE_RETRY_HPP
#define COFFER_AZURE_RETRY_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace coffer::azure {

using Milliseconds = std::chrono::milliseconds;

struct RetryPolicy {
  int max_attempts = 4;                   // attempts in total, the first included
  Milliseconds base_delay{500};           // cap of the first backoff
  Milliseconds max_delay{8000};           // cap of any computed backoff
  Milliseconds operation_timeout{20000};  // total deadline of one operation
};

// 408, 429, 500, 502, 503 and 504.
bool is_retryable_status(unsigned status) noexcept;

// Parses a Retry-After value: delta-seconds, or an HTTP date (IMF-fixdate,
// RFC 850 or asctime form) taken relative to `now_unix_ms`. A date in the past
// gives zero. Nothing when the value is malformed.
std::optional<Milliseconds> parse_retry_after(std::string_view value, int64_t now_unix_ms);

// Parses retry-after-ms / x-ms-retry-after-ms (an integer of milliseconds).
std::optional<Milliseconds> parse_retry_after_ms(std::string_view value);

// Parses an HTTP date into Unix seconds. Exposed for tests.
std::optional<int64_t> parse_http_date(std::string_view text);

// The wait before attempt `attempt + 1` after `attempt` failed (1-based):
// uniform in [0, min(max_delay, base_delay * 2^(attempt-1))] using `random01`
// in [0, 1) ("full jitter"), and never less than what the server asked for.
Milliseconds backoff_delay(const RetryPolicy &policy, int attempt,
                           std::optional<Milliseconds> server_delay, double random01) noexcept;

// The wait before the next attempt after attempt `attempt` (1-based) failed,
// or nothing when no attempt is left: the policy's attempts are used up, or the
// wait would end after `remaining` (the time left before the deadline).
std::optional<Milliseconds> next_retry_delay(const RetryPolicy &policy, int attempt,
                                             std::optional<Milliseconds> server_delay,
                                             Milliseconds remaining, double random01) noexcept;

}  // namespace coffer::azure

#endif  // COFFER_AZURE_RETRY_HPP
