// `coffer migrate --update-policy`'s edit of a policy file. Input: a line
// "FROM TO", lines "c CATEGORY" or "k Category.Name" (the changes, all from
// FROM to TO as migrate makes them), NUL, the policy text. Properties: a
// refusal leaves the text as it was and says why; an edited text parses, a
// second run changes nothing, every member the changes do not name is as it
// was, each changed route and key names TO and not FROM, every other key of a
// changed category no longer names FROM, and a text that loaded as a policy
// before still loads.
#include <coffer/catalog.hpp>
#include <coffer/error.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "policy/policy.hpp"
#include "policy_edit.hpp"
#include "relaxed_json.hpp"

namespace {

using coffer::cli::RouteChange;
using coffer::fuzz::require;

std::vector<std::string> words(std::string_view line) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < line.size()) {
    std::size_t space = line.find(' ', at);
    if (space == std::string_view::npos) space = line.size();
    if (space > at) out.emplace_back(line.substr(at, space - at));
    at = space + 1;
  }
  return out;
}

bool is_word(std::string_view text, bool allow_dash) {
  if (text.empty() || text.size() > 64 ||
      !((text.front() >= 'A' && text.front() <= 'Z') ||
        (text.front() >= 'a' && text.front() <= 'z')))
    return false;
  for (char c : text)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          (allow_dash && (c == '_' || c == '-'))))
      return false;
  return true;
}

// Changes as migrate makes them: provider names as the policy allows them,
// categories of the catalog (or "*"), canonical keys.
std::optional<std::vector<RouteChange>> read_changes(std::string_view spec) {
  std::vector<RouteChange> changes;
  std::string from, to;
  std::size_t at = 0;
  while (at <= spec.size() && changes.size() < 4) {
    std::size_t end = spec.find('\n', at);
    if (end == std::string_view::npos) end = spec.size();
    auto parts = words(spec.substr(at, end - at));
    at = end + 1;
    if (parts.size() != 2) continue;
    if (from.empty()) {
      if (!is_word(parts[0], true) || !is_word(parts[1], true) || parts[0] == parts[1])
        return std::nullopt;
      from = parts[0];
      to = parts[1];
    } else if (parts[0] == "c" && (parts[1] == "*" || is_word(parts[1], false))) {
      changes.push_back({RouteChange::Target::category, parts[1], from, to});
    } else if (parts[0] == "k" && coffer::is_canonical_key(parts[1])) {
      changes.push_back({RouteChange::Target::key, parts[1], from, to});
    }
  }
  if (changes.empty()) return std::nullopt;
  return changes;
}

// The provider names of a chain (a name, a list, or an object with "providers").
std::optional<std::vector<std::string>> chain_names(const boost::json::value &chain) {
  const boost::json::value *providers = &chain;
  if (chain.is_object()) {
    providers = chain.as_object().if_contains("providers");
    if (providers == nullptr) return std::nullopt;
  }
  if (providers->is_string()) return std::vector<std::string>{std::string(providers->as_string())};
  if (!providers->is_array()) return std::nullopt;
  std::vector<std::string> names;
  for (const auto &name : providers->as_array()) {
    if (!name.is_string()) return std::nullopt;
    names.emplace_back(name.as_string());
  }
  return names;
}

bool names(const std::vector<std::string> &chain, const std::string &provider) {
  return std::find(chain.begin(), chain.end(), provider) != chain.end();
}

const boost::json::object *member_object(const boost::json::object &root, std::string_view name) {
  const auto *value = root.if_contains(name);
  return value != nullptr && value->is_object() ? &value->as_object() : nullptr;
}

bool changes_key(const std::vector<RouteChange> &changes, std::string_view key) {
  for (const auto &change : changes) {
    if (change.target == RouteChange::Target::key && change.name == key) return true;
    if (change.target == RouteChange::Target::category && key.starts_with(change.name + "."))
      return true;
  }
  return false;
}

bool changes_route(const std::vector<RouteChange> &changes, std::string_view category) {
  for (const auto &change : changes)
    if (change.target == RouteChange::Target::category && change.name == category) return true;
  return false;
}

// The same value, counting a NaN as equal to itself: Boost.JSON 1.81 reads a
// zero with a huge exponent (0E600) as NaN, and NaN == NaN is false.
bool same(const boost::json::value &a, const boost::json::value &b) {
  return a == b || boost::json::serialize(a) == boost::json::serialize(b);
}

// Every member of `before` that no change names is in `after`, as it was.
void check_untouched(const boost::json::object &before, const boost::json::object &after,
                     const std::vector<RouteChange> &changes) {
  for (const auto &member : before) {
    if (member.key() == "routes" || member.key() == "keys") continue;
    const auto *now = after.if_contains(member.key());
    require(now != nullptr && same(*now, member.value()), "an edit leaves other members alone");
  }
  for (std::string_view section : {"routes", "keys"}) {
    const auto *old_section = member_object(before, section);
    if (old_section == nullptr) continue;
    const auto *new_section = member_object(after, section);
    require(new_section != nullptr, "an edit keeps routes and keys objects");
    if (new_section == nullptr) continue;
    for (const auto &entry : *old_section) {
      bool named = section == "routes" ? changes_route(changes, entry.key())
                                       : changes_key(changes, entry.key());
      if (named) continue;
      const auto *now = new_section->if_contains(entry.key());
      require(now != nullptr && same(*now, entry.value()), "an edit leaves other routes alone");
    }
  }
}

void check_changed(const boost::json::object &after, const std::vector<RouteChange> &changes) {
  const auto *routes = member_object(after, "routes");
  const auto *keys = member_object(after, "keys");
  for (const auto &change : changes) {
    if (change.target == RouteChange::Target::category) {
      const auto *route = routes != nullptr ? routes->if_contains(change.name) : nullptr;
      auto chain = route != nullptr ? chain_names(*route) : std::nullopt;
      require(chain && names(*chain, change.to) && !names(*chain, change.from),
              "a changed route names TO and not FROM");
      if (keys == nullptr) continue;
      for (const auto &entry : *keys) {
        if (!entry.key().starts_with(change.name + ".")) continue;
        auto key_chain = chain_names(entry.value());
        require(!key_chain || !names(*key_chain, change.from),
                "no key of a changed category names FROM");
      }
    } else {
      const auto *entry = keys != nullptr ? keys->if_contains(change.name) : nullptr;
      auto chain = entry != nullptr ? chain_names(*entry) : std::nullopt;
      require(chain && names(*chain, change.to) && !names(*chain, change.from),
              "a changed key names TO and not FROM");
    }
  }
}

bool loads(const std::string &text) {
  try {
    (void)coffer::detail::parse_policy("policy.json", text, "/etc/coffer");
    return true;
  } catch (const coffer::Error &) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  coffer::fuzz::Input input(data, size);
  auto changes = read_changes(input.field());
  if (!changes) return 0;
  const std::string text(input.rest());

  auto edit = coffer::cli::edit_routes("policy.json", text, *changes);
  if (!edit.possible) {
    require(edit.text == text, "a refused edit leaves the text as it was");
    require(!edit.refusal.empty(), "a refusal says why");
    return 0;
  }
  const std::size_t bom = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  auto before = coffer::fuzz::parse_relaxed(std::string_view(text).substr(bom));
  auto after = coffer::fuzz::parse_relaxed(std::string_view(edit.text).substr(bom));
  require(before.has_value(), "an edit is made only to a text that parses");
  require(after.has_value(), "an edited text parses");
  if (!before || !after) return 0;

  auto again = coffer::cli::edit_routes("policy.json", edit.text, *changes);
  require(again.possible && again.text == edit.text && again.done.empty(),
          "a second run changes nothing");

  require(before->is_object() && after->is_object(), "an edited policy is an object");
  check_untouched(before->as_object(), after->as_object(), *changes);
  check_changed(after->as_object(), *changes);
  const auto &from = changes->front().from;
  const auto &to = changes->front().to;
  const auto *providers = member_object(before->as_object(), "providers");
  if (providers != nullptr && providers->contains(from) && providers->contains(to) && bom == 0 &&
      loads(text))
    require(loads(edit.text), "a policy that loaded still loads after the edit");
  return 0;
}
