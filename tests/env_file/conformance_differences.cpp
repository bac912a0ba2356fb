#include "conformance_differences.hpp"

namespace coffer::env_file::conformance {

// One line per case: project, case id, coffer's own result, why it differs.
const std::vector<Difference> &differences() {
  const std::string kBacktick =
      "backticks are ordinary characters, as in compose-go; only dotenv (node) quotes with them";
  const std::string kHash =
      "'#' starts a comment only after a blank, so a#number stays in the value (compose-go)";
  const std::string kMultiline =
      "the backtick value on line 34 leaves bare lines such as 'IS': the file is rejected "
      "(compose-go rejects it too)";
  const std::string kDqBackslash =
      "\\\\ inside double quotes is one backslash, as in compose-go; dotenv (node) keeps both";
  const std::string kQuotedKey = "quoted keys are not accepted (compose-go: unexpected character)";
  const std::string kBareKey =
      "a key without '=' is an error: coffer never takes a value from the process environment";
  const std::string kColon =
      "KEY: value is accepted, as in compose-go; python-dotenv rejects the line";
  const std::string kUnterminated =
      "an unterminated quote is an error, never a skipped line (compose-go)";
  const std::string kKeyChars =
      "'%' and '$' are not key characters: the file is rejected (compose-go)";
  const std::string kEnvLookup =
      "expansion looks at earlier lines of the same file only, never at the process environment";
  const std::string kSingleExpand =
      "single-quoted values are never expanded (compose-go); python-dotenv expands them";
  const std::string kNoEnv =
      "coffer serves the file's own values; it never reads or writes the process environment";
  const std::string kEmptyKey = "a line with an empty key is an error";
  const std::string kBareDollar =
      "expand: true expands only ${NAME} forms; a bare $NAME stays, so that passwords with '$' "
      "survive";
  const std::string kDigitKey =
      "keys that start with a digit are served like any other; compose-go's Read drops them "
      "silently";
  const std::string kMultiFile =
      "one file per provider; in a fallback chain the first file that defines a key wins "
      "(compose-go: the last)";
  const std::string kErrorText =
      "messages never quote the line, which may hold a secret: coffer gives line and column";
  const std::string kRequiredText =
      "messages never quote text from a value: the variable's name and message are left out";
  const std::string kEscapes =
      "unknown escapes such as '\\ ' stay as written and \\a is BEL (compose-go); godotenv drops "
      "the backslash";
  const std::string kSqEscape =
      "\\' inside single quotes is a quote (compose-go); godotenv and the Ruby gem keep the "
      "backslash";
  const std::string kUnquotedEscape =
      "unquoted values are taken literally, backslashes included (compose-go)";
  const std::string kExportBare =
      "'export KEY' without '=' is an error: coffer never takes a value from the process "
      "environment";
  const std::string kDqNewline =
      "\\n and \\r inside double quotes are LF and CR as in compose-go, node, python and godotenv; "
      "the Ruby gem 3.x keeps them";
  const std::string kInvalidLine =
      "an invalid line is an error (compose-go), never skipped silently";
  const std::string kCommand = "command substitution is never executed: $(...) stays as written";

  static const std::vector<Difference> table = {
      {"motdotla-dotenv", "env/EMPTY_BACKTICKS", includes({{"EMPTY_BACKTICKS", "``"}}), kBacktick},
      {"motdotla-dotenv", "env/BACKTICKS", includes({{"BACKTICKS", "`backticks`"}}), kBacktick},
      {"motdotla-dotenv", "env/BACKTICKS_SPACED",
       includes({{"BACKTICKS_SPACED", "`    backticks    `"}}), kBacktick},
      {"motdotla-dotenv", "env/DOUBLE_QUOTES_INSIDE_BACKTICKS",
       includes({{"DOUBLE_QUOTES_INSIDE_BACKTICKS", "`double \"quotes\" work inside backticks`"}}),
       kBacktick},
      {"motdotla-dotenv", "env/SINGLE_QUOTES_INSIDE_BACKTICKS",
       includes({{"SINGLE_QUOTES_INSIDE_BACKTICKS", "`single 'quotes' work inside backticks`"}}),
       kBacktick},
      {"motdotla-dotenv", "env/DOUBLE_AND_SINGLE_QUOTES_INSIDE_BACKTICKS",
       includes({{"DOUBLE_AND_SINGLE_QUOTES_INSIDE_BACKTICKS",
                  "`double \"quotes\" and single 'quotes' work inside backticks`"}}),
       kBacktick},
      {"motdotla-dotenv", "env/INLINE_COMMENTS_BACKTICKS",
       includes({{"INLINE_COMMENTS_BACKTICKS", "`inline comments outside of"}}), kBacktick},
      {"motdotla-dotenv", "env/INLINE_COMMENTS_SPACE",
       includes({{"INLINE_COMMENTS_SPACE",
                  "inline comments start with a#number sign. no space required."}}),
       kHash},
      {"motdotla-dotenv", "env/RETAIN_INNER_QUOTES_AS_BACKTICKS",
       includes({{"RETAIN_INNER_QUOTES_AS_BACKTICKS", "`{\"foo\": \"bar's\"}`"}}), kBacktick},
      {"motdotla-dotenv", "multiline/BASIC", fails("line 35: missing '=' after the key"),
       kMultiline},
      {"motdotla-dotenv", "multiline/AFTER_LINE", fails("line 35: missing '=' after the key"),
       kMultiline},
      {"motdotla-dotenv", "multiline/EMPTY", fails("line 35: missing '=' after the key"),
       kMultiline},
      {"motdotla-dotenv", "multiline/SINGLE_QUOTES", fails("line 35: missing '=' after the key"),
       kMultiline},
      {"motdotla-dotenv", "multiline/SINGLE_QUOTES_SPACED",
       fails("line 35: missing '=' after the key"), kMultiline},
      {"motdotla-dotenv", "multiline/DOUBLE_QUOTES", fails("line 35: missing '=' after the key"),
       kMultiline},
      {"motdotla-dotenv", "multiline/DOUBLE_QUOTES_SPACED",
       fails("line 35: missing '=' after the key"), kMultiline},
      {"motdotla-dotenv", "multiline/EXPAND_NEWLINES", fails("line 35: missing '=' after the key"),
       kMultiline},
      {"motdotla-dotenv", "multiline/DONT_EXPAND_UNQUOTED",
       fails("line 35: missing '=' after the key"), kMultiline},
      {"motdotla-dotenv", "multiline/DONT_EXPAND_SQUOTED",
       fails("line 35: missing '=' after the key"), kMultiline},
      {"motdotla-dotenv", "multiline/EQUAL_SIGNS", fails("line 35: missing '=' after the key"),
       kMultiline},
      {"motdotla-dotenv", "multiline/RETAIN_INNER_QUOTES",
       fails("line 35: missing '=' after the key"), kMultiline},
      {"motdotla-dotenv", "multiline/RETAIN_INNER_QUOTES_AS_STRING",
       fails("line 35: missing '=' after the key"), kMultiline},
      {"motdotla-dotenv", "multiline/TRIM_SPACE_FROM_UNQUOTED",
       fails("line 35: missing '=' after the key"), kMultiline},
      {"motdotla-dotenv", "multiline/USERNAME", fails("line 35: missing '=' after the key"),
       kMultiline},
      {"motdotla-dotenv", "multiline/SPACED_KEY", fails("line 35: missing '=' after the key"),
       kMultiline},
      {"motdotla-dotenv", "multiline/MULTI_DOUBLE_QUOTED",
       fails("line 35: missing '=' after the key"), kMultiline},
      {"motdotla-dotenv", "multiline/MULTI_SINGLE_QUOTED",
       fails("line 35: missing '=' after the key"), kMultiline},
      {"motdotla-dotenv", "multiline/MULTI_BACKTICKED", fails("line 35: missing '=' after the key"),
       kMultiline},
      {"motdotla-dotenv", "multiline/MULTI_PEM_DOUBLE_QUOTED",
       fails("line 35: missing '=' after the key"), kMultiline},
      {"motdotla-dotenv", "multiline/COMMENTS_absent", fails("line 35: missing '=' after the key"),
       kMultiline},
      {"motdotla-dotenv", "fast/escaped_backslash_before_closing_quote",
       gives({{"A", "\\"}, {"B", "plain"}, {"C", "quoted"}, {"D", "last"}}), kDqBackslash},
      {"python-dotenv", "parse_stream/03", fails("line 1, column 1: unexpected character in a key"),
       kQuotedKey},
      {"python-dotenv", "parse_stream/07", fails("line 1, column 9: unexpected character in a key"),
       kQuotedKey},
      {"python-dotenv", "parse_stream/30", fails("line 1: missing '=' after the key"), kBareKey},
      {"python-dotenv", "parse_stream/31", gives({{"a", "b"}}), kColon},
      {"python-dotenv", "parse_stream/39", fails("line 1: unterminated quoted value"),
       kUnterminated},
      {"python-dotenv", "parse_stream/43", fails("line 1, column 9: unexpected character in a key"),
       kKeyChars},
      {"python-dotenv", "dotenv_values/04", gives({{"a", ""}}), kEnvLookup},
      {"python-dotenv", "dotenv_values/06", gives({{"a", "d"}}), kEnvLookup},
      {"python-dotenv", "dotenv_values/10", gives({{"a", ""}}), kEnvLookup},
      {"python-dotenv", "dotenv_values/11", gives({{"a", "${b}"}}), kSingleExpand},
      {"python-dotenv", "dotenv_values/12", gives({{"a", "xy"}}), kEnvLookup},
      {"python-dotenv", "dotenv_values/13", gives({{"a", ""}}), kEnvLookup},
      {"python-dotenv", "dotenv_values/15", gives({{"a", "c"}}), kEnvLookup},
      {"python-dotenv", "dotenv_values/17", gives({{"a", ""}}), kEnvLookup},
      {"python-dotenv", "load_dotenv/redefine_no_override", gives({{"a", "b"}, {"d", "b"}}),
       kNoEnv},
      {"compose-go", "TestParsing/44", fails("line 1: missing key before '='"), kEmptyKey},
      {"compose-go", "TestExpanding/1", gives({{"BAR", "$FOO"}, {"FOO", "test"}}), kBareDollar},
      {"compose-go", "TestExpanding/3", gives({{"BAR", "$FOO"}}), kBareDollar},
      {"compose-go", "TestExpanding/4", gives({{"BAR", "quote $FOO"}, {"FOO", "test"}}),
       kBareDollar},
      {"compose-go", "fixture/plain.env",
       gives({{"456", "ABC"},
              {"OPTION_A", "1"},
              {"OPTION_B", "2"},
              {"OPTION_C", "3"},
              {"OPTION_D", "4"},
              {"OPTION_E", "5"},
              {"OPTION_F", ""},
              {"OPTION_G", ""},
              {"OPTION_H", "my string"}}),
       kDigitKey},
      {"compose-go", "fixture/substitutions.env",
       gives({{"OPTION_A", "1"},
              {"OPTION_B", "1"},
              {"OPTION_C", "$OPTION_B"},
              {"OPTION_D", "1_1"},
              {"OPTION_E", ""}}),
       kBareDollar},
      {"compose-go", "fixture/substitutions.env+osenv",
       gives({{"OPTION_A", "1"},
              {"OPTION_B", "1"},
              {"OPTION_C", "$OPTION_B"},
              {"OPTION_D", "1_1"},
              {"OPTION_E", ""}}),
       kEnvLookup},
      {"compose-go", "fixture/substitutions-default.env+osenv",
       gives({{"OPTION_A", "1"},
              {"OPTION_B", "1"},
              {"OPTION_C", "$OPTION_B"},
              {"OPTION_D", "1_1"},
              {"OPTION_E", ""}}),
       kEnvLookup},
      {"compose-go", "fixture/substitutions-default.env",
       gives({{"OPTION_A", "1"},
              {"OPTION_B", "1"},
              {"OPTION_C", "$OPTION_B"},
              {"OPTION_D", "1_1"},
              {"OPTION_E", ""}}),
       kBareDollar},
      {"compose-go", "fixture/inherited-multi-var.env", fails("line 2: missing '=' after the key"),
       kBareKey},
      {"compose-go", "fixture/inherited-single-var.env", fails("line 1: missing '=' after the key"),
       kBareKey},
      {"compose-go", "fixture/inherited-not-found.env", fails("line 1: missing '=' after the key"),
       kBareKey},
      {"compose-go", "inline/multiple_files_no_osenv",
       gives({{"ENV_HOSTNAME", "localhost"}, {"ENV_MY_URL", "http://localhost"}}), kMultiFile},
      {"compose-go", "inline/multiple_files_with_osenv",
       gives({{"ENV_HOSTNAME", "localhost"}, {"ENV_MY_URL", "http://localhost"}}), kMultiFile},
      {"compose-go", "parser/TestParseVariable",
       fails("line 1, column 1: unexpected character in a key"), kErrorText},
      {"compose-go", "expansion/ErrorIfEmptyOrUnset/UNSET",
       fails("line 3: required variable of a ${NAME:?...} reference is undefined or empty"),
       kRequiredText},
      {"compose-go", "expansion/ErrorIfEmptyOrUnset/EMPTY",
       fails("line 3: required variable of a ${NAME:?...} reference is undefined or empty"),
       kRequiredText},
      {"compose-go", "expansion/ErrorIfUnset/UNSET",
       fails("line 3: required variable of a ${NAME?...} reference is undefined"), kRequiredText},
      {"godotenv", "TestParsing/32",
       gives({{"FOO",
               "bar\n\\ b\x07"
               "z"}}),
       kEscapes},
      {"godotenv", "TestParsing/33",
       gives({{"FOO",
               "bar\\\n\\ b\x07"
               "z"}}),
       kEscapes},
      {"godotenv", "TestParsing/34",
       gives({{"FOO",
               "bar\\r\\ b\x07"
               "z"}}),
       kEscapes},
      {"godotenv", "TestParsing/35", fails("line 1: missing key before '='"), kEmptyKey},
      {"godotenv", "TestExpanding/1", gives({{"BAR", "$FOO"}, {"FOO", "test"}}), kBareDollar},
      {"godotenv", "TestExpanding/3", gives({{"BAR", "$FOO"}}), kBareDollar},
      {"godotenv", "TestExpanding/4", gives({{"BAR", "quote $FOO"}, {"FOO", "test"}}), kBareDollar},
      {"godotenv", "fixture/plain.env+presets_no_override",
       gives({{"OPTION_A", "1"},
              {"OPTION_B", "2"},
              {"OPTION_C", "3"},
              {"OPTION_D", "4"},
              {"OPTION_E", "5"},
              {"OPTION_F", ""},
              {"OPTION_G", ""},
              {"OPTION_H", "1 2"}}),
       kNoEnv},
      {"godotenv", "fixture/quoted.env",
       includes({{"OPTION_K", "line one\nthis is 'quoted'\none more line"}}), kSqEscape},
      {"godotenv", "fixture/substitutions.env",
       gives({{"OPTION_A", "1"},
              {"OPTION_B", "1"},
              {"OPTION_C", "$OPTION_B"},
              {"OPTION_D", "11"},
              {"OPTION_E", ""},
              {"OPTION_F", ""}}),
       kBareDollar},
      {"bkeepers-dotenv", "unquoted_escape", gives({{"FOO", "bar\\ bar"}}), kUnquotedEscape},
      {"bkeepers-dotenv", "expand_var", gives({{"BAR", "$FOO"}, {"FOO", "test"}}), kBareDollar},
      {"bkeepers-dotenv", "expand_from_env", gives({{"BAR", "$FOO"}}), kBareDollar},
      {"bkeepers-dotenv", "existing_env_wins_for_expansion",
       gives({{"BAR", "development"}, {"FOO", "development"}}), kEnvLookup},
      {"bkeepers-dotenv", "expand_undefined_empty", gives({{"BAR", "$FOO"}}), kBareDollar},
      {"bkeepers-dotenv", "expand_in_double_quotes",
       gives({{"BAR", "quote $FOO"}, {"FOO", "test"}}), kBareDollar},
      {"bkeepers-dotenv", "export_line_after_definition",
       fails("line 2: missing '=' after the key"), kExportBare},
      {"bkeepers-dotenv", "export_unset_variable", fails("line 2: missing '=' after the key"),
       kExportBare},
      {"bkeepers-dotenv", "dq_backslash_n_kept", gives({{"FOO", "bar\nbaz"}}), kDqNewline},
      {"bkeepers-dotenv", "dq_backslash_n_kept_2", gives({{"FOO", "bar\nbaz"}}), kDqNewline},
      {"bkeepers-dotenv", "ignore_non_assignment",
       fails("line 1, column 4: unexpected character in a key"), kInvalidLine},
      {"bkeepers-dotenv", "multiline_single_quotes",
       gives({{"OPTION_A", "first line"},
              {"OPTION_B", "line 1\nline 2\nline 3"},
              {"OPTION_C", "last line"},
              {"OPTION_ESCAPED", "line one\nthis is 'quoted'\none more line"}}),
       kSqEscape},
      {"bkeepers-dotenv", "cmd_subst", gives({{"echo", "$(echo hello)"}}), kCommand},
      {"bkeepers-dotenv", "cmd_subst_nested",
       gives({{"echo", "$(echo \"$(echo \"$(echo \"$(echo hello)\")\")\")"}}), kCommand},
      {"bkeepers-dotenv", "cmd_subst_escaped", gives({{"echo", "escaped-\\$(echo hello)"}}),
       kCommand},
      {"bkeepers-dotenv", "cmd_subst_quotes",
       gives({{"interp", "$(echo \"Quotes won't be a problem\")"}}), kCommand},
      {"bkeepers-dotenv", "cmd_subst_parens_in_var",
       gives({{"BAR", "$(echo '$FOO')"}, {"FOO", "passwo(rd"}}), kCommand},
      {"bkeepers-dotenv", "cmd_subst_chain",
       gives({{"BAR", "$(echo $FOO)"}, {"FOO", "$(echo bar)"}}), kCommand},
      {"bkeepers-dotenv", "dq_backslash_r_kept", gives({{"FOO", "bar\rbaz"}}), kDqNewline},
      {"bkeepers-dotenv", "cmd_subst_with_var",
       gives({{"VAR1", "var1"}, {"interp", "$(echo \"VAR1 is $VAR1\")"}}), kCommand},
      {"bkeepers-dotenv", "existing_env_wins", gives({{"FOO", "bar"}}), kNoEnv},
  };
  return table;
}

}  // namespace coffer::env_file::conformance
