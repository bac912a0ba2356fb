#include "sessions.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <coffer/error.hpp>
#include <coffer/provider_helpers.hpp>

#include <vector>

namespace coffer::admin {

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    throw Error(Code::internal, "the random number generator failed");
  std::string out = provider::to_hex(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return out;
}

SessionTable::SessionTable(SessionLimits limits, std::function<SessionClock::time_point()> now)
    : limits_(limits), now_(now ? std::move(now) : [] { return SessionClock::now(); }) {}

SessionTable::Digest SessionTable::digest_of(std::string_view id) {
  Digest digest{};
  SHA256(reinterpret_cast<const unsigned char *>(id.data()), id.size(), digest.data());
  return digest;
}

bool SessionTable::expired(const Entry &entry, SessionClock::time_point now) const {
  return now - entry.last_used >= limits_.idle || now - entry.created >= limits_.lifetime;
}

NewSession SessionTable::create(std::string identity) {
  NewSession session{.id = random_hex(32), .csrf = random_hex(32)};
  auto now = now_();
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();)
    it = expired(it->second, now) ? entries_.erase(it) : std::next(it);
  while (entries_.size() >= limits_.max_sessions) {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->second.created < oldest->second.created) oldest = it;
    entries_.erase(oldest);
  }
  entries_.emplace(
      digest_of(session.id),
      Entry{
          .identity = std::move(identity), .csrf = session.csrf, .created = now, .last_used = now});
  return session;
}

std::optional<SessionInfo> SessionTable::use(std::string_view id) {
  if (id.size() != 64) return std::nullopt;
  auto digest = digest_of(id);
  auto now = now_();
  std::lock_guard lock(mutex_);
  auto it = entries_.find(digest);
  if (it == entries_.end()) return std::nullopt;
  if (expired(it->second, now)) {
    entries_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  auto until_absolute = it->second.created + limits_.lifetime - now;
  auto left = std::min<SessionClock::duration>(limits_.idle, until_absolute);
  return SessionInfo{.identity = it->second.identity,
                     .csrf = it->second.csrf,
                     .expires_in = std::chrono::duration_cast<std::chrono::milliseconds>(left)};
}

void SessionTable::end(std::string_view id) {
  auto digest = digest_of(id);
  std::lock_guard lock(mutex_);
  entries_.erase(digest);
}

}  // namespace coffer::admin
