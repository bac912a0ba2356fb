// The CLI's span scanner for JSON with comments. Input: the text. Properties:
// every span lies inside the text, nested in its parent's and in order;
// strings and names are quoted where their spans say and commas are commas;
// where Boost.JSON (the policy loader's parser) also reads the text, both see
// the same tree: kinds, member names (the last of duplicates) and strings.
// The line helpers stay inside the text.
#include <set>
#include <string>

#include "fuzz_support.hpp"
#include "json_spans.hpp"
#include "relaxed_json.hpp"

namespace {

using namespace coffer::cli::detail;
using coffer::fuzz::require;

void check_spans(std::string_view text, const Node &node, Span outer) {
  require(outer.begin <= node.span.begin && node.span.begin < node.span.end &&
              node.span.end <= outer.end,
          "a value's span lies inside its parent's");
  if (node.kind == Node::Kind::string)
    require(text[node.span.begin] == '"' && text[node.span.end - 1] == '"',
            "a string's span is quoted");
  if (node.kind == Node::Kind::object)
    require(text[node.span.begin] == '{' && text[node.span.end - 1] == '}',
            "an object's span is braced");
  if (node.kind == Node::Kind::array)
    require(text[node.span.begin] == '[' && text[node.span.end - 1] == ']',
            "an array's span is bracketed");
  std::size_t at = node.span.begin + 1;
  auto check_comma = [&](std::size_t comma) {
    if (comma == kNone) return;
    require(comma >= at && comma < node.span.end && text[comma] == ',', "a comma is a comma");
    at = comma + 1;
  };
  for (const Member &member : node.members) {
    require(member.name_span.begin >= at && text[member.name_span.begin] == '"' &&
                text[member.name_span.end - 1] == '"' &&
                member.name_span.end <= member.value.span.begin,
            "a member's name is quoted and comes before its value");
    check_spans(text, member.value, {member.name_span.end, node.span.end - 1});
    at = member.value.span.end;
    check_comma(member.comma);
  }
  for (const Element &element : node.elements) {
    check_spans(text, element.value, {at, node.span.end - 1});
    at = element.value.span.end;
    check_comma(element.comma);
  }
}

void check_same(const Node &node, const boost::json::value &value) {
  switch (node.kind) {
    case Node::Kind::string:
      require(value.is_string() && node.string == std::string_view(value.as_string()),
              "a string reads the same as Boost.JSON reads it");
      return;
    case Node::Kind::scalar:
      require(value.is_number() || value.is_bool() || value.is_null(),
              "a scalar is a scalar for Boost.JSON");
      return;
    case Node::Kind::array:
      require(value.is_array() && value.as_array().size() == node.elements.size(),
              "an array has the elements Boost.JSON sees");
      for (std::size_t i = 0; i < node.elements.size(); ++i)
        check_same(node.elements[i].value, value.as_array()[i]);
      return;
    case Node::Kind::object: {
      require(value.is_object(), "an object is an object for Boost.JSON");
      std::set<std::string> names;
      for (auto it = node.members.rbegin(); it != node.members.rend(); ++it) {
        if (!names.insert(it->name).second) continue;  // the last of duplicates counts
        const auto *member = value.as_object().if_contains(it->name);
        require(member != nullptr, "an object has the members Boost.JSON sees");
        check_same(it->value, *member);
      }
      require(names.size() == value.as_object().size(), "an object has no member Boost.JSON lacks");
      return;
    }
  }
}

void check_line_helpers(std::string_view text, std::size_t pos) {
  require(line_start(text, pos) <= pos, "a line starts at or before the position");
  std::size_t end = end_of_line_after(text, pos);
  require(end == kNone || (end >= pos && end < text.size()), "a line ends inside the text");
  require(line_number(text, pos) >= 1, "lines count from 1");
  require(indentation_of(text, pos).size() <= pos + 1, "an indentation lies inside its line");
  (void)line_break_at(text, pos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  const std::size_t start = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  Node root;
  try {
    root = Scanner(text, start).document();
  } catch (const SyntaxError &error) {
    require(error.offset <= text.size(), "a syntax error points inside the text");
    return 0;
  }
  check_spans(text, root, {start, text.size()});
  check_line_helpers(text, root.span.begin);
  check_line_helpers(text, root.span.end - 1);
  if (auto value = coffer::fuzz::parse_relaxed(text.substr(start))) check_same(root, *value);
  return 0;
}
