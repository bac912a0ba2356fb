#include "vault_state.hpp"

#include <openssl/rand.h>

#include <cctype>
#include <stdexcept>

namespace coffer::emulator {

std::string uppercase(const std::string &text) {
  std::string out = text;
  for (auto &c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool valid_secret_name(const std::string &name) {
  if (name.empty() || name.size() > 127) return false;
  for (const char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-') return false;
  }
  return true;
}

std::string new_version_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);  // UUID version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

Secret *VaultState::find(const std::string &name) {
  const auto it = secrets_.find(uppercase(name));
  return it == secrets_.end() ? nullptr : &it->second;
}

DeletedSecret *VaultState::find_deleted(const std::string &name) {
  const auto it = deleted_.find(uppercase(name));
  return it == deleted_.end() ? nullptr : &it->second;
}

const SecretVersion &VaultState::set(const std::string &name, const SecretWrite &write,
                                     std::int64_t now) {
  Secret &secret = secrets_[uppercase(name)];
  if (secret.name.empty()) secret.name = name;
  SecretVersion version;
  version.version = new_version_id();
  version.value = write.value;
  version.content_type = write.content_type;
  version.tags = write.tags;
  version.attributes.enabled = write.enabled.value_or(true);
  version.attributes.not_before = write.not_before;
  version.attributes.expires = write.expires;
  version.attributes.created = now;
  version.attributes.updated = now;
  secret.versions.push_back(std::move(version));
  return secret.versions.back();
}

DeletedSecret *VaultState::remove(const std::string &name, std::int64_t now, int retention_days,
                                  int pending_gets) {
  const auto it = secrets_.find(uppercase(name));
  if (it == secrets_.end()) return nullptr;
  DeletedSecret deleted;
  deleted.secret = std::move(it->second);
  deleted.deleted_date = now;
  deleted.scheduled_purge_date = now + std::int64_t{retention_days} * 86400;
  deleted.pending_gets = pending_gets;
  secrets_.erase(it);
  auto &slot = deleted_[uppercase(name)];
  slot = std::move(deleted);
  return &slot;
}

bool VaultState::purge(const std::string &name) {
  return deleted_.erase(uppercase(name)) > 0;
}

Secret *VaultState::recover(const std::string &name) {
  const auto it = deleted_.find(uppercase(name));
  if (it == deleted_.end()) return nullptr;
  auto &slot = secrets_[it->first];
  slot = std::move(it->second.secret);
  deleted_.erase(it);
  return &slot;
}

std::vector<const Secret *> VaultState::secrets() const {
  std::vector<const Secret *> out;
  for (const auto &[key, secret] : secrets_) out.push_back(&secret);
  return out;
}

std::vector<const DeletedSecret *> VaultState::deleted_secrets() const {
  std::vector<const DeletedSecret *> out;
  for (const auto &[key, deleted] : deleted_) out.push_back(&deleted);
  return out;
}

void VaultState::deny(const std::string &name, const std::string &code) {
  denials_[uppercase(name)] = code;
}

void VaultState::allow(const std::string &name) {
  denials_.erase(uppercase(name));
}

std::optional<std::string> VaultState::denial(const std::string &name) const {
  if (auto it = denials_.find(uppercase(name)); it != denials_.end()) return it->second;
  if (auto it = denials_.find("*"); it != denials_.end()) return it->second;
  return std::nullopt;
}

}  // namespace coffer::emulator
