// Re-routing categories and keys in a policy file by editing its text.
//
// The edit keeps every byte it does not mean to change, so it works on the
// byte spans that the scanner of json_spans.hpp records. Boost.JSON still has
// the last word: the input and the result must both parse with the options
// the policy loader uses.
#include "policy_edit.hpp"

#include <boost/json/parser.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "json_spans.hpp"

namespace coffer::cli {
namespace {

using namespace detail;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// ---------------------------------------------------------------------------
// Edits and refusals.

// The bytes [begin, end) of the text become `text`.
struct Edit {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string text;
  std::string note;         // the `done` line without its location; empty for a helper edit
  std::size_t note_at = 0;  // where in `text` the noted change starts, for its line number
};

// Why an edit cannot be made. `offset` (into the text being edited, kNone when
// there is no place to point at) gives the location; `hint` is the specific
// change to make by hand.
struct Refused {
  std::size_t offset = kNone;
  std::string reason;
  std::string hint;
};

// A `done` line whose location follows the text through later edits.
struct Done {
  std::size_t offset;
  std::string note;
};

// Where `offset` of the text before `edits` (sorted) is after them. An offset
// inside a replaced range moves to the start of its replacement.
std::size_t offset_after(std::size_t offset, const std::vector<Edit> &edits) {
  std::size_t moved = offset;
  for (const Edit &e : edits) {
    if (e.end <= offset) {
      moved = moved + e.text.size() - (e.end - e.begin);
    } else if (e.begin < offset) {
      return moved - (offset - e.begin);
    } else {
      break;
    }
  }
  return moved;
}

// Where `offset` of the text after `edits` (sorted) was before them. An offset
// inside inserted text moves to the start of what it replaced.
std::size_t offset_before(std::size_t offset, const std::vector<Edit> &edits) {
  std::ptrdiff_t growth = 0;  // how much the edits so far lengthened the text
  for (const Edit &e : edits) {
    auto begin_after = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(e.begin) + growth);
    if (offset < begin_after) break;
    if (offset < begin_after + e.text.size()) return e.begin;
    growth +=
        static_cast<std::ptrdiff_t>(e.text.size()) - static_cast<std::ptrdiff_t>(e.end - e.begin);
  }
  return static_cast<std::size_t>(static_cast<std::ptrdiff_t>(offset) - growth);
}

// ---------------------------------------------------------------------------
// Chains: a provider name, a list of names, or {"providers": name or list}.

struct Chain {
  std::string path;                 // "routes.VCS", "routes.CIAdmin.providers"
  std::size_t at = 0;               // where the chain's value starts
  std::vector<const Node *> names;  // the provider-name literals, in order
  const Node *list = nullptr;       // the array holding them, when the chain is a list
};

std::string describe(const Chain &chain) {
  std::string out;
  for (const Node *name : chain.names) out += (out.empty() ? "" : ", ") + quote(name->string);
  return chain.list ? "[" + out + "]" : out;
}

// The member of `object` named `name`, or null. Two members of that name are
// refused: the loader would use the last, which is easy to miss by hand.
const Member *find_member(const Node &object, std::string_view name, const std::string &where) {
  const Member *found = nullptr;
  for (const Member &member : object.members) {
    if (member.name != name) continue;
    if (found != nullptr)
      throw Refused{member.name_span.begin, where + " has two members " + quote(name),
                    "Remove one of them"};
    found = &member;
  }
  return found;
}

[[noreturn]] void refuse_shape(const Node &value, const std::string &path) {
  throw Refused{value.span.begin,
                path + " is not a provider name, a list of names or an object with \"providers\"",
                ""};
}

Chain read_names(const Node &value, std::string path) {
  Chain chain;
  chain.path = std::move(path);
  chain.at = value.span.begin;
  if (value.kind == Node::Kind::string) {
    chain.names.push_back(&value);
  } else if (value.kind == Node::Kind::array) {
    chain.list = &value;
    for (const Element &element : value.elements) {
      if (element.value.kind != Node::Kind::string) refuse_shape(element.value, chain.path);
      chain.names.push_back(&element.value);
    }
  } else {
    refuse_shape(value, chain.path);
  }
  return chain;
}

Chain read_chain(const Node &value, const std::string &path) {
  if (value.kind != Node::Kind::object) return read_names(value, path);
  const Member *providers = find_member(value, "providers", path);
  if (providers == nullptr) refuse_shape(value, path);
  return read_names(providers->value, path + ".providers");
}

std::vector<std::size_t> indices_of(const Chain &chain, std::string_view provider) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < chain.names.size(); ++i)
    if (chain.names[i]->string == provider) out.push_back(i);
  return out;
}

bool names(const Chain &chain, std::string_view provider) {
  return !indices_of(chain, provider).empty();
}

// Removes element `index` of `array`: with the comma after it (and, when it
// stood alone on its line, that whole line), or, for the last element without
// one, with the comma before it. Either way the removed bytes run from one
// token to another, so no comment or string is cut in half.
Edit remove_element(std::string_view text, const Node &array, std::size_t index) {
  const Element &element = array.elements[index];
  Edit edit;
  if (element.comma != kNone) {
    edit.begin = element.value.span.begin;
    edit.end = element.comma + 1;
    while (edit.end < text.size() && is_blank(text[edit.end])) ++edit.end;
    std::size_t start = line_start(text, edit.begin);
    std::string_view rest = text.substr(edit.end);
    bool alone = all_blank(text.substr(start, edit.begin - start)) &&
                 (rest.starts_with("\n") || rest.starts_with("\r\n"));
    if (alone) {
      edit.begin = start;
      edit.end = text.find('\n', edit.end) + 1;
    }
  } else {
    edit.begin = array.elements[index - 1].comma;
    edit.end = element.value.span.end;
  }
  return edit;
}

// The edits that make `chain` name `to` where it names `from`: the literal is
// replaced, or removed when the chain names `to` already. None when the chain
// does not name `from`.
std::vector<Edit> reroute(std::string_view text, const Chain &chain, const std::string &from,
                          const std::string &to) {
  std::vector<std::size_t> at = indices_of(chain, from);
  if (at.empty()) return {};
  const Node &literal = *chain.names[at.front()];
  if (at.size() > 1)
    throw Refused{chain.names[at[1]]->span.begin, chain.path + " names " + quote(from) + " twice",
                  "Remove one of them"};
  if (names(chain, to)) {
    // Only a list can name both.
    Edit edit = remove_element(text, *chain.list, at.front());
    edit.note = chain.path + ": removed " + quote(from) + " (" + quote(to) + " is already in it)";
    return {edit};
  }
  if (literal.escaped) {
    // The decoded name matched; rewriting escapes is not worth the risk.
    std::string raw(text.substr(literal.span.begin, literal.span.end - literal.span.begin));
    throw Refused{literal.span.begin,
                  chain.path + " writes " + quote(from) + " with an escape sequence (" + raw +
                      "); not rewritten automatically",
                  "Replace " + raw + " in " + chain.path + " with " + quote(to)};
  }
  return {Edit{literal.span.begin, literal.span.end, quote(to),
               chain.path + ": " + quote(from) + " -> " + quote(to), 0}};
}

// ---------------------------------------------------------------------------
// Inserting members.

// Inserts `member` (`"name": value`) before `before`: on a line of its own with
// the same indentation when `before` starts its line, else inline.
Edit insert_before(std::string_view text, const Member &before, const std::string &member) {
  std::size_t pos = before.name_span.begin;
  std::size_t start = line_start(text, pos);
  Edit edit{pos, pos, member + ", ", "", 0};
  if (start > 0 && all_blank(text.substr(start, pos - start))) {
    std::string line_break = start >= 2 && text[start - 2] == '\r' ? "\r\n" : "\n";
    edit.text = member + "," + line_break + std::string(text.substr(start, pos - start));
  }
  return edit;
}

// Inserts `member` after `after`, handling its comma: on a new line with the
// same indentation when `after` ends its line (after any comment there), else
// inline. When `after` had a comma (another member follows, or the file uses
// trailing commas) the new member gets one too.
std::vector<Edit> insert_after(std::string_view text, const Member &after,
                               const std::string &member) {
  bool has_comma = after.comma != kNone;
  std::size_t anchor = has_comma ? after.comma + 1 : after.value.span.end;
  std::string suffix = has_comma ? "," : "";
  std::size_t line_end = end_of_line_after(text, anchor);
  if (line_end == kNone) {
    std::string inserted = (has_comma ? " " : ", ") + member + suffix;
    return {Edit{anchor, anchor, inserted, "", has_comma ? std::size_t{1} : std::size_t{2}}};
  }
  std::vector<Edit> edits;
  if (!has_comma) edits.push_back(Edit{anchor, anchor, ",", "", 0});
  std::string line_break = line_break_at(text, line_end);
  std::string indentation = indentation_of(text, after.name_span.begin);
  edits.push_back(
      Edit{line_end, line_end, line_break + indentation + member + suffix, "", line_break.size()});
  return edits;
}

// Inserts `member` into `object`: before `before` when given, else after the
// last member, else (an empty object) right after the brace.
std::vector<Edit> insert_member(std::string_view text, const Node &object, const Member *before,
                                const std::string &member, const std::string &note) {
  std::vector<Edit> edits;
  if (before != nullptr) {
    edits.push_back(insert_before(text, *before, member));
  } else if (!object.members.empty()) {
    edits = insert_after(text, object.members.back(), member);
  } else {
    edits.push_back(Edit{object.span.begin + 1, object.span.begin + 1, " " + member + " ", "", 1});
  }
  edits.back().note = note;
  return edits;
}

// ---------------------------------------------------------------------------
// Planning one change against the scanned text.

const Node &routes_object(const Node &root) {
  const Member *routes = find_member(root, "routes", "the top level");
  if (routes == nullptr)
    throw Refused{kNone, "no \"routes\" object at the top level", "Add a \"routes\" object"};
  if (routes->value.kind != Node::Kind::object)
    throw Refused{routes->value.span.begin, "\"routes\" is not an object", ""};
  return routes->value;
}

// The top-level `keys` object, or null.
const Node *keys_object(const Node &root) {
  const Member *keys = find_member(root, "keys", "the top level");
  if (keys == nullptr) return nullptr;
  if (keys->value.kind != Node::Kind::object)
    throw Refused{keys->value.span.begin, "\"keys\" is not an object", ""};
  return &keys->value;
}

[[noreturn]] void refuse_unused(const Chain &chain, const RouteChange &change) {
  throw Refused{chain.at,
                chain.path + " does not name provider " + quote(change.from) + " (it names " +
                    describe(chain) + ")",
                "If " + change.name + " should now be served by " + quote(change.to) + ", make " +
                    chain.path + " name " + quote(change.to)};
}

// A category without a route of its own is served by routes."*". A plain
// route for it would silently drop the `on`, `allow` and `deny` settings of an
// object-form "*" route, so that case is left to a person.
void check_default_route(const Member *star, const RouteChange &change) {
  if (star == nullptr || star->value.kind != Node::Kind::object) return;
  for (const Member &setting : star->value.members) {
    if (setting.name == "providers") continue;
    throw Refused{setting.name_span.begin,
                  "routes has no member " + quote(change.name) +
                      ", and a new route would drop the " + quote(setting.name) +
                      " setting of routes.\"*\"",
                  "Add " + quote(change.name) + ": { \"providers\": " + quote(change.to) +
                      ", ... } to routes with the settings of routes.\"*\" it should keep"};
  }
}

std::vector<Edit> plan_category(std::string_view text, const Node &root,
                                const RouteChange &change) {
  const Node &routes = routes_object(root);
  std::vector<Edit> edits;
  if (const Member *route = find_member(routes, change.name, "routes")) {
    Chain chain = read_chain(route->value, "routes." + change.name);
    if (!names(chain, change.from) && !names(chain, change.to)) refuse_unused(chain, change);
    edits = reroute(text, chain, change.from, change.to);
  } else {
    const Member *star = change.name == "*" ? nullptr : find_member(routes, "*", "routes");
    check_default_route(star, change);
    std::string note = "routes." + change.name + ": added " + quote(change.to) +
                       (star ? " (was served by routes.\"*\")" : "");
    edits = insert_member(text, routes, star, quote(change.name) + ": " + quote(change.to), note);
  }
  // A keys entry of the category overrides its route; left alone, it would
  // keep the key on `from`.
  if (const Node *keys = keys_object(root)) {
    for (const Member &entry : keys->members) {
      if (!entry.name.starts_with(change.name + ".")) continue;
      Chain chain = read_chain(entry.value, "keys." + entry.name);
      std::vector<Edit> more = reroute(text, chain, change.from, change.to);
      edits.insert(edits.end(), more.begin(), more.end());
    }
  }
  return edits;
}

std::vector<Edit> plan_key(std::string_view text, const Node &root, const RouteChange &change) {
  std::string entry = quote(change.name) + ": " + quote(change.to);
  const Node *keys = keys_object(root);
  if (keys == nullptr) {
    // A new `keys` object goes right after `routes`, where a reader looks.
    const Member *routes = find_member(root, "routes", "the top level");
    if (routes == nullptr)
      throw Refused{kNone, "no \"routes\" or \"keys\" object at the top level",
                    "Add \"keys\": { " + entry + " }"};
    std::vector<Edit> edits = insert_after(text, *routes, "\"keys\": { " + entry + " }");
    edits.back().note = "keys: added with " + entry;
    return edits;
  }
  const Member *existing = find_member(*keys, change.name, "keys");
  if (existing == nullptr)
    return insert_member(text, *keys, nullptr, entry,
                         "keys." + change.name + ": added " + quote(change.to));
  Chain chain = read_chain(existing->value, "keys." + change.name);
  if (!names(chain, change.from) && !names(chain, change.to)) refuse_unused(chain, change);
  return reroute(text, chain, change.from, change.to);
}

// Changes that make no sense are the caller's mistake, refused all the same.
void check_change(const RouteChange &change) {
  bool key = change.target == RouteChange::Target::key;
  std::size_t dot = change.name.find('.');
  bool name_ok = key ? dot != kNone && dot > 0 && dot + 1 < change.name.size()
                     : !change.name.empty() && dot == kNone;
  if (!name_ok)
    throw Refused{
        kNone, quote(change.name) + " is not a " + (key ? "key (Category.Name)" : "category"), ""};
  if (change.from.empty() || change.to.empty() || change.from == change.to)
    throw Refused{kNone,
                  "re-routing " + change.name + " from " + quote(change.from) + " to " +
                      quote(change.to) + " is not a change of provider",
                  ""};
}

// What to change by hand for `change`.
std::string by_hand(const RouteChange &change) {
  std::string from = quote(change.from);
  std::string to = quote(change.to);
  if (change.target == RouteChange::Target::key)
    return "keys." + change.name + ": name " + to + " in place of " + from + " (or add " +
           quote(change.name) + ": " + to + " to \"keys\" when it has no such member)";
  return "routes." + change.name + ": name " + to + " in place of " + from + " (or add " +
         quote(change.name) + ": " + to + " to \"routes\" when it has no such member), and " +
         "likewise in every \"keys\" entry " + change.name + ".* that names " + from;
}

// ---------------------------------------------------------------------------
// One run of edit_routes: the text as it is edited, change by change.

class Editor {
 public:
  Editor(std::string_view source, std::string_view text)
      : source_(source), text_(text), bom_(text.starts_with(kBom) ? kBom.size() : 0) {}

  // Throws Refused, with offsets into the input text.
  void run(const std::vector<RouteChange> &changes) {
    for (const RouteChange &change : changes) check_change(change);
    Node root = parse(false);
    for (const RouteChange &change : changes) {
      try {
        std::vector<Edit> edits = change.target == RouteChange::Target::key
                                      ? plan_key(text_, root, change)
                                      : plan_category(text_, root, change);
        if (edits.empty()) continue;
        apply(std::move(edits));
        root = parse(true);
      } catch (Refused &refused) {
        refused.offset = offset_in_input(refused.offset);
        throw;
      }
    }
  }

  [[nodiscard]] const std::string &text() const { return text_; }

  [[nodiscard]] std::vector<std::string> done() const {
    std::vector<std::string> lines;
    for (const Done &d : done_)
      lines.push_back(source_ + ":" + std::to_string(line_number(text_, d.offset)) + ": " + d.note);
    return lines;
  }

 private:
  // Scans the text, and checks it the way the policy loader reads it. A
  // failure after an edit is this code's fault, and refused all the same.
  Node parse(bool edited) {
    std::string_view body = std::string_view(text_).substr(bom_);
    std::string prefix = edited ? "internal error: the edited policy would not parse: " : "";
    try {
      Node root = Scanner(text_, bom_).document();
      if (root.kind != Node::Kind::object)
        throw Refused{root.span.begin, prefix + "the top level is not an object", ""};
      boost::json::parse_options options;
      options.allow_comments = true;
      options.allow_trailing_commas = true;
      options.max_depth = kMaxDepth;
      boost::json::parser parser(boost::json::storage_ptr(), options);
      boost::system::error_code ec;
      // Boost.JSON 1.81 can report a position past the text (a document
      // ending inside a comment): such an error is at the end.
      std::size_t used = std::min(parser.write(body.data(), body.size(), ec), body.size());
      if (ec) throw SyntaxError{bom_ + used, ec.message()};
      return root;
    } catch (const SyntaxError &error) {
      throw Refused{error.offset, prefix + "invalid JSON: " + error.message,
                    edited ? "" : "Correct the syntax error first"};
    }
  }

  void apply(std::vector<Edit> edits) {
    std::stable_sort(edits.begin(), edits.end(),
                     [](const Edit &a, const Edit &b) { return a.begin < b.begin; });
    for (std::size_t i = 1; i < edits.size(); ++i)
      if (edits[i].begin < edits[i - 1].end)
        throw Refused{kNone, "internal error: overlapping edits", ""};
    std::string out;
    std::size_t copied = 0;
    for (Done &d : done_) d.offset = offset_after(d.offset, edits);
    for (const Edit &e : edits) {
      out.append(text_, copied, e.begin - copied);
      if (!e.note.empty()) done_.push_back(Done{out.size() + e.note_at, e.note});
      out += e.text;
      copied = e.end;
    }
    out.append(text_, copied);
    text_ = std::move(out);
    history_.push_back(std::move(edits));
  }

  // A refusal points into the text as it is now; the user has the input.
  [[nodiscard]] std::size_t offset_in_input(std::size_t offset) const {
    if (offset == kNone) return kNone;
    for (auto step = history_.rbegin(); step != history_.rend(); ++step)
      offset = offset_before(offset, *step);
    return offset;
  }

  std::string source_;
  std::string text_;
  std::size_t bom_;
  std::vector<Done> done_;
  std::vector<std::vector<Edit>> history_;  // the edits made, in order
};

// "coffer.json:3:7: " (the column in bytes, not counting a byte order mark).
std::string location(std::string_view source, std::string_view text, std::size_t offset) {
  if (offset == kNone) return std::string(source) + ": ";
  std::size_t start = line_start(text, offset);
  std::size_t skipped = start == 0 && text.starts_with(kBom) ? kBom.size() : 0;
  std::size_t column = offset - start - std::min(skipped, offset - start) + 1;
  return std::string(source) + ":" + std::to_string(line_number(text, offset)) + ":" +
         std::to_string(column) + ": ";
}

}  // namespace

PolicyEdit edit_routes(std::string_view source_name, std::string_view text,
                       const std::vector<RouteChange> &changes) {
  PolicyEdit result;
  Editor editor(source_name, text);
  try {
    editor.run(changes);
  } catch (const Refused &refused) {
    result.text = std::string(text);
    result.refusal = location(source_name, text, refused.offset) + refused.reason;
    if (!refused.hint.empty()) result.instructions = refused.hint + ".\n";
    result.instructions += "The changes to make in " + std::string(source_name) + " by hand:\n";
    for (const RouteChange &change : changes) result.instructions += "  " + by_hand(change) + "\n";
    return result;
  }
  result.possible = true;
  result.text = editor.text();
  result.done = editor.done();
  return result;
}

}  // namespace coffer::cli
