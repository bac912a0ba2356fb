// Runs every case of tests/fixtures/dotenv (393 cases from five dotenv
// implementations) through coffer's parser. Each case either gives what the
// upstream project's test expects, or is listed in kDifferences below with
// coffer's own result and why coffer deliberately differs; the test checks
// that result, and fails on a listed case that no longer differs.
#define BOOST_TEST_MODULE env_file_conformance
#include <boost/test/unit_test.hpp>

#include "conformance_differences.hpp"
#include "dotenv_parser.hpp"

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using coffer::env_file::conformance::Difference;
using coffer::env_file::conformance::Expected;

fs::path fixtures() {
  const char *source = std::getenv("COFFER_SOURCE_DIR");
  return fs::path(source != nullptr ? source : ".") / "tests" / "fixtures" / "dotenv";
}

std::string read_bytes(const fs::path &file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What coffer makes of a case: an error message, or the variables it serves.
struct Outcome {
  bool error = false;
  std::string message;
  std::map<std::string, std::string> values;
};

std::string show(const Outcome &outcome) {
  if (outcome.error) return "error: " + outcome.message;
  std::ostringstream out;
  out << "{";
  for (const auto &[key, value] : outcome.values)
    out << json::serialize(json::string(key)) << ": " << json::serialize(json::string(value))
        << ", ";
  out << "}";
  return out.str();
}

// Whether the upstream test ran with variable expansion: coffer then runs
// the case with `expand: true`, which is what an operator would configure to
// read such a file.
bool upstream_expands(const std::string &project, const json::object &test) {
  if (project == "motdotla-dotenv") return false;  // dotenv does not expand
  if (project == "python-dotenv") {
    std::string api(test.at("api").as_string());
    if (api == "parse_stream") return false;
    if (api == "dotenv_values") return test.at("interpolate").as_bool();
    return true;  // load_dotenv interpolates by default
  }
  return true;  // compose-go, godotenv and the Ruby gem always expand
}

// The files of a case. A list of files is what several upstream loads read;
// `[name]` header lines in an inline input separate such files.
std::vector<std::string> inputs(const fs::path &folder, const json::object &test) {
  std::vector<std::string> files;
  if (const json::value *file = test.if_contains("input_file")) {
    if (file->is_string()) {
      files.push_back(read_bytes(folder / std::string(file->as_string())));
    } else {
      for (const json::value &name : file->as_array())
        files.push_back(read_bytes(folder / std::string(name.as_string())));
    }
    return files;
  }
  std::string input(test.at("input").as_string());
  std::string api(test.at("api").as_string());
  if (api.rfind("GetEnvFromFile", 0) != 0) return {input};
  std::istringstream lines(input);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.front() == '[' && line.back() == ']')
      files.emplace_back();
    else
      files.back() += line + "\n";
  }
  return files;
}

// Several files are several env_file providers in one fallback chain: the
// first that defines a key answers for it.
Outcome run(const std::vector<std::string> &files, bool expand) {
  Outcome outcome;
  for (const std::string &text : files) {
    try {
      coffer::env_file::Document document = coffer::env_file::parse(text, {expand});
      for (const auto *statement : document.effective())
        outcome.values.emplace(statement->name, std::string(statement->value.view()));
    } catch (const coffer::env_file::SyntaxError &error) {
      return Outcome{true, error.what(), {}};
    }
  }
  return outcome;
}

// Whether `outcome` is what the upstream test expects; `why` says how not.
bool meets_fixture(const json::object &test, const Outcome &outcome, std::string &why) {
  if (const json::value *error = test.if_contains("expect_error")) {
    if (!outcome.error) {
      why = "expected an error";
      return false;
    }
    if (error->is_string() &&
        outcome.message.find(std::string(error->as_string())) == std::string::npos) {
      why = "expected an error containing " + json::serialize(*error);
      return false;
    }
    return true;
  }
  if (outcome.error) {
    why = "unexpected error";
    return false;
  }
  if (const json::value *invalid = test.if_contains("expect_invalid_lines");
      invalid != nullptr && !invalid->as_array().empty()) {
    why = "expected invalid lines to be skipped";
    return false;
  }
  auto has = [&](const json::object &expected) {
    for (const auto &[key, value] : expected) {
      auto it = outcome.values.find(std::string(key));
      if (value.is_null()) {
        why = "expected " + std::string(key) + " without a value";
        return false;
      }
      if (it == outcome.values.end() || it->second != std::string(value.as_string())) {
        why = "expected " + std::string(key) + "=" + json::serialize(value);
        return false;
      }
    }
    return true;
  };
  if (const json::value *expect = test.if_contains("expect")) {
    if (!has(expect->as_object())) return false;
    if (const json::value *exact = test.if_contains("expect_exact");
        exact != nullptr && exact->as_bool() &&
        outcome.values.size() != expect->as_object().size()) {
      why = "expected exactly " + json::serialize(*expect);
      return false;
    }
  }
  // Coffer never touches the process environment: what upstream leaves in
  // the environment is compared with what coffer serves.
  if (const json::value *environ = test.if_contains("expect_environ"))
    if (!has(environ->as_object())) return false;
  if (const json::value *absent = test.if_contains("expect_absent"))
    for (const json::value &key : absent->as_array())
      if (outcome.values.count(std::string(key.as_string())) != 0) {
        why = "expected no " + std::string(key.as_string());
        return false;
      }
  return true;
}

bool matches(const Expected &expected, const Outcome &outcome) {
  if (expected.error)
    return outcome.error && outcome.message.find(expected.message) != std::string::npos;
  if (outcome.error) return false;
  if (expected.exact) return outcome.values == expected.values;
  for (const auto &[key, value] : expected.values) {
    auto it = outcome.values.find(key);
    if (it == outcome.values.end() || it->second != value) return false;
  }
  return true;
}

const std::vector<std::string> kProjects = {"motdotla-dotenv", "python-dotenv", "compose-go",
                                            "godotenv", "bkeepers-dotenv"};

}  // namespace

BOOST_AUTO_TEST_CASE(every_fixture_case_is_met_or_a_listed_difference) {
  const auto &differences = coffer::env_file::conformance::differences();
  std::map<std::pair<std::string, std::string>, const Difference *> listed;
  for (const Difference &difference : differences) {
    bool fresh =
        listed.emplace(std::make_pair(difference.project, difference.id), &difference).second;
    BOOST_TEST(fresh, "listed twice: " << difference.project << " " << difference.id);
    BOOST_TEST(!difference.reason.empty(), "no reason given for " << difference.id);
  }
  std::set<std::pair<std::string, std::string>> seen;
  std::size_t cases = 0, met = 0;
  for (const std::string &project : kProjects) {
    json::value root = json::parse(read_bytes(fixtures() / project / "expected.json"));
    for (const json::value &item : root.at("cases").as_array()) {
      const json::object &test = item.as_object();
      const std::string id(test.at("id").as_string());
      ++cases;
      seen.emplace(project, id);
      Outcome outcome = run(inputs(fixtures() / project, test), upstream_expands(project, test));
      std::string why;
      bool meets = meets_fixture(test, outcome, why);
      auto it = listed.find({project, id});
      bool command =
          test.contains("feature") && test.at("feature").as_string() == "command_substitution";
      if (it == listed.end()) {
        BOOST_TEST(!command,
                   project << " " << id << ": command substitution must be a listed difference");
        BOOST_TEST(meets,
                   project << " " << id << ": " << why << "; coffer gives " << show(outcome));
        if (meets) ++met;
        continue;
      }
      BOOST_TEST(!meets, project << " " << id
                                 << " is listed as a difference but coffer now meets the fixture");
      BOOST_TEST(matches(it->second->coffer, outcome),
                 project << " " << id << ": coffer gives " << show(outcome)
                         << ", the difference table says otherwise");
    }
  }
  BOOST_TEST(cases == 393u);
  for (const Difference &difference : differences)
    BOOST_TEST(seen.count({difference.project, difference.id}) == 1u,
               "the difference table lists an unknown case " << difference.project << " "
                                                             << difference.id);
  BOOST_TEST_MESSAGE(met << " cases as upstream expects, " << differences.size()
                         << " deliberate differences");
}
