// `coffer completion` and `coffer __complete`. The scripts are one body of
// shell shared by bash and zsh (the command table as `case` statements, and
// the walk over the words typed so far), with a small front end for each.
#include "completion.hpp"

#include <coffer/catalog.hpp>

#include <algorithm>
#include <filesystem>
#include <set>

#include "commands.hpp"
#include "exit_status.hpp"
#include "output.hpp"

namespace coffer::cli {
namespace {

bool is_upper_word(std::string_view word) {
  return !word.empty() && std::all_of(word.begin(), word.end(),
                                      [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; });
}

bool is_lower_word(std::string_view word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// "KEY" -> keys; "[CLIENT=]FILE" -> file; other names -> nothing.
void add_kind(ArgumentKinds &out, std::string_view name) {
  if (auto eq = name.rfind(']'); eq != std::string_view::npos) name.remove_prefix(eq + 1);
  const char *kind = nullptr;
  if (name == "KEY")
    kind = "keys";
  else if (name == "CATEGORY")
    kind = "categories";
  else if (name == "PROVIDER")
    kind = "providers";
  else if (name == "COMMAND")
    kind = "commands";
  else if (name == "FILE" || name == "DIR" || name == "PATH" || name == "MAP")
    kind = "file";
  if (kind != nullptr && std::find(out.kinds.begin(), out.kinds.end(), kind) == out.kinds.end())
    out.kinds.emplace_back(kind);
}

// The words of a shell `case` pattern or a printf list: table names are
// plain words, so they need no quoting; the pattern of a subcommand
// ("db init") is quoted whole.
std::string pattern(const std::string &name) {
  return "\"" + name + "\"";
}

std::string printf_words(const std::vector<std::string> &words) {
  std::string line = "printf '%s\\n'";
  for (const auto &word : words) line += " " + word;
  return line;
}

std::vector<std::string> option_words(const std::vector<OptionSpec> &options) {
  std::vector<std::string> words;
  for (const auto &option : options) {
    words.push_back(option.name);
    if (!option.short_name.empty()) words.push_back(option.short_name);
  }
  return words;
}

// "keys categories", "words debug info ..."; empty when nothing is offered.
std::string kinds_text(const ArgumentKinds &kinds) {
  std::string text;
  for (const auto &k : kinds.kinds) text += (text.empty() ? "" : " ") + k;
  for (const auto &w : kinds.words) text += " " + w;
  return text;
}

// What an option's value is: "" for a flag, "value" for a value with
// nothing to offer.
std::string option_value_text(const OptionSpec &option) {
  if (option.value_name.empty()) return {};
  std::string text = kinds_text(option_argument(option));
  return text.empty() ? "value" : text;
}

// Every command that takes options or arguments, subcommands by their full
// name ("db init"), hidden ones left out.
std::vector<const CommandSpec *> leaf_commands(const std::vector<CommandSpec> &commands) {
  std::vector<const CommandSpec *> leaves;
  for (const auto &command : commands) {
    if (command.hidden) continue;
    if (command.subcommands.empty()) leaves.push_back(&command);
    for (const auto &sub : command.subcommands) leaves.push_back(&sub);
  }
  return leaves;
}

std::string shared_body(const std::vector<CommandSpec> &commands) {
  std::string s;
  std::vector<std::string> names;
  for (const auto &command : commands)
    if (!command.hidden) names.push_back(command.name);
  s += "__coffer_commands() {\n  " + printf_words(names) + "\n}\n\n";

  s += "__coffer_subcommands() {\n  case \"$1\" in\n";
  for (const auto &command : commands) {
    if (command.hidden || command.subcommands.empty()) continue;
    std::vector<std::string> subs;
    for (const auto &sub : command.subcommands)
      subs.push_back(sub.name.substr(command.name.size() + 1));
    s += "    " + pattern(command.name) + ") " + printf_words(subs) + " ;;\n";
  }
  s += "  esac\n}\n\n";

  s += "__coffer_options() {\n  " + printf_words(option_words(global_options())) +
       "\n  case \"$1\" in\n";
  for (const CommandSpec *command : leaf_commands(commands))
    if (!command->options.empty())
      s += "    " + pattern(command->name) + ") " + printf_words(option_words(command->options)) +
           " ;;\n";
  s += "  esac\n}\n\n";

  s += "# What option $2 of command $1 takes: nothing for a flag.\n"
       "__coffer_option_value() {\n  case \"$2\" in\n";
  for (const auto &option : global_options()) {
    std::string text = option_value_text(option);
    if (text.empty()) continue;
    s += "    " + option.name + ") echo " + text + "; return ;;\n";
  }
  s += "  esac\n  case \"$1 $2\" in\n";
  for (const CommandSpec *command : leaf_commands(commands))
    for (const auto &option : command->options) {
      std::string text = option_value_text(option);
      if (text.empty()) continue;
      s += "    " + pattern(command->name + " " + option.name) + ") echo " + text + " ;;\n";
      if (!option.short_name.empty())
        s += "    " + pattern(command->name + " " + option.short_name) + ") echo " + text + " ;;\n";
    }
  s += "  esac\n}\n\n";

  s += "# What the next argument of command $1 is, after $2 arguments.\n"
       "__coffer_positional() {\n  case \"$1\" in\n";
  for (const CommandSpec *command : leaf_commands(commands)) {
    std::string text = kinds_text(positional_argument(*command));
    if (text.empty()) continue;
    if (command->options_end_at_first_argument)
      s += "    " + pattern(command->name) + ") if [ \"$2\" -lt 1 ]; then echo " + text +
           "; else echo file; fi ;;\n";
    else
      s += "    " + pattern(command->name) + ") [ \"$2\" -lt " +
           std::to_string(std::min<std::size_t>(command->max_positionals, 99)) + " ] && echo " +
           text + " ;;\n";
  }
  s += "  esac\n}\n\n";

  s += "__coffer_options_end_at_first_argument() {\n  case \"$1\" in\n";
  for (const CommandSpec *command : leaf_commands(commands))
    if (command->options_end_at_first_argument)
      s += "    " + pattern(command->name) + ") return 0 ;;\n";
  s += "  esac\n  return 1\n}\n\n";

  s += R"SH(# Prints the names of the kinds given after the program and the policy.
__coffer_names() {
  local prog="$1" policy="$2" kind
  shift 2
  if [ "$1" = words ]; then
    shift
    printf '%s\n' "$@"
    return
  fi
  for kind in "$@"; do
    case "$kind" in
      keys|categories|providers)
        if [ -n "$policy" ]; then
          "$prog" --policy "$policy" __complete "$kind" 2>/dev/null
        else
          "$prog" __complete "$kind" 2>/dev/null
        fi ;;
      commands) __coffer_commands ;;
      file) echo @file ;;
      program) echo @program ;;
    esac
  done
}

# The candidates for the word being completed, one per line; "@file" and
# "@program" ask for the shell's own file and command completion. Arguments:
# the program, the word being completed (for "--option=value", the value is
# completed), then the words between them.
__coffer_candidates() {
  local prog="$1" cur="$2" command="" grouped="" policy="" pending="" ended="" count=0 word
  shift 2
  while [ $# -gt 0 ]; do
    word="$1"
    shift
    if [ -n "$pending" ]; then
      [ "$pending" = --policy ] && policy="$word"
      pending=""
      continue
    fi
    if [ -z "$ended" ]; then
      case "$word" in
        --) ended=1; continue ;;
        --policy=*) policy="${word#--policy=}"; continue ;;
        --*=*) continue ;;
        -?*)
          [ -n "$(__coffer_option_value "$command" "$word")" ] && pending="$word"
          continue ;;
      esac
    fi
    if [ -z "$command" ]; then
      command="$word"
    elif [ -z "$grouped" ] && [ -n "$(__coffer_subcommands "$command")" ]; then
      grouped=1
      command="$command $word"
    else
      count=$((count + 1))
      __coffer_options_end_at_first_argument "$command" && ended=1
    fi
  done
  if [ -n "$pending" ]; then
    __coffer_names "$prog" "$policy" $(__coffer_option_value "$command" "$pending")
    return
  fi
  if [ -z "$ended" ]; then
    case "$cur" in
      --*=*)
        __coffer_names "$prog" "$policy" $(__coffer_option_value "$command" "${cur%%=*}")
        return ;;
      -*)
        __coffer_options "$command"
        return ;;
    esac
  fi
  if [ -z "$command" ]; then
    __coffer_commands
  elif [ -z "$grouped" ] && [ -n "$(__coffer_subcommands "$command")" ]; then
    __coffer_subcommands "$command"
  else
    __coffer_names "$prog" "$policy" $(__coffer_positional "$command" "$count")
  fi
}
)SH";
  return s;
}

const char *kBashFrontEnd = R"SH(
_coffer() {
  local -a line=() candidates=()
  local i word cur value
  # Readline splits "--option=value" at "=": the words are joined again.
  for ((i = 0; i <= COMP_CWORD; i++)); do
    word="${COMP_WORDS[i]}"
    if ((${#line[@]} > 1)) && [[ ${line[-1]} == --* ]] &&
      [[ $word == "=" || ${line[-1]} == *= ]]; then
      line[-1]+="$word"
    else
      line+=("$word")
    fi
  done
  cur="${line[-1]}"
  value="$cur"
  [[ $cur == --*=* ]] && value="${cur#*=}"
  mapfile -t candidates < <(__coffer_candidates "${COMP_WORDS[0]}" "$cur" "${line[@]:1:${#line[@]}-2}")
  COMPREPLY=()
  for word in "${candidates[@]}"; do
    case "$word" in
      @file)
        compopt -o filenames 2>/dev/null
        mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$value") ;;
      @program) mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -c -- "$value") ;;
      *) [[ $word == "$value"* ]] && COMPREPLY+=("$word") ;;
    esac
  done
  return 0
}
complete -F _coffer coffer
)SH";

const char *kZshFrontEnd = R"SH(
_coffer() {
  local cur="${words[CURRENT]}" word
  local -a candidates plain
  candidates=("${(@f)$(__coffer_candidates "${words[1]}" "$cur" "${(@)words[2,CURRENT-1]}")}")
  [[ $cur == --*=* ]] && compset -P '*='
  for word in "${candidates[@]}"; do
    case "$word" in
      @file) _files ;;
      @program) _command_names -e ;;
      ?*) plain+=("$word") ;;
    esac
  done
  (( ${#plain} )) && compadd -a plain
}

_coffer "$@"
)SH";

}  // namespace

ArgumentKinds option_argument(const OptionSpec &option) {
  ArgumentKinds out;
  if (option.value_name.empty()) return out;
  if (option.name == "--log-level") {
    out.kinds.emplace_back("words");
    out.words = {"debug", "info", "warning", "error"};
    return out;
  }
  if (option.name == "--provider") {
    out.kinds.emplace_back("providers");
    return out;
  }
  add_kind(out, option.value_name);
  return out;
}

ArgumentKinds positional_argument(const CommandSpec &command) {
  ArgumentKinds out;
  if (command.options_end_at_first_argument) {
    out.kinds.emplace_back("program");
    return out;
  }
  // The first argument shown: "KEY|CATEGORY..." of "KEY|CATEGORY...",
  // "COMMAND" of "[COMMAND]".
  std::string first = command.arguments.substr(0, command.arguments.find(' '));
  std::string text;
  for (char c : first)
    if (c != '[' && c != ']' && c != '.') text += c;
  std::vector<std::string> literal;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t bar = text.find('|', start);
    std::string part =
        text.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    if (is_lower_word(part))
      literal.push_back(part);
    else if (is_upper_word(part))
      add_kind(out, part);
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  if (!literal.empty()) {
    out.kinds = {"words"};
    out.words = std::move(literal);
  }
  return out;
}

std::string completion_script(std::string_view shell, const std::vector<CommandSpec> &commands) {
  std::string head = "# Completion of coffer " + std::string(library_version()) + " for " +
                     std::string(shell) + ", generated by 'coffer completion " +
                     std::string(shell) +
                     "' from its command table.\n"
                     "# Keys, categories and provider names come from 'coffer __complete', "
                     "which reads\n# the catalog and the policy (the --policy of the line, "
                     "else as coffer finds it).\n\n";
  if (shell == "bash") return head + shared_body(commands) + kBashFrontEnd;
  if (shell == "zsh") return "#compdef coffer\n" + head + shared_body(commands) + kZshFrontEnd;
  throw UsageError("completion",
                   "completion knows bash and zsh" +
                       (shown_word(shell) ? ", not " + *shown_word(shell) : std::string()));
}

int run_completion(Invocation &, const Arguments &arguments) {
  write_stdout(completion_script(arguments.positionals.at(0), command_table()));
  return exit_success;
}

int run_complete(Invocation &invocation, const Arguments &arguments) {
  const std::string &what = arguments.positionals.at(0);
  if (what != "keys" && what != "categories" && what != "providers")
    throw UsageError("__complete", "__complete knows keys, categories and providers");
  // As `catalog` does: without any policy file, the built-in catalog.
  PolicyLocation where = invocation.policy_location();
  std::error_code ec;
  bool no_policy = !where.explicit_choice && !std::filesystem::exists(where.file, ec);
  std::string out;
  if (what == "providers") {
    if (no_policy) return exit_success;
    for (const auto &provider : invocation.open_store_to_read().providers()) out += provider + "\n";
  } else {
    std::shared_ptr<const Catalog> catalog =
        no_policy ? std::make_shared<const Catalog>(Catalog::builtin())
                  : invocation.open_store_to_read().catalog();
    std::set<std::string> categories;
    for (const auto &entry : catalog->entries()) {
      if (what == "keys")
        out += entry.key + "\n";
      else if (categories.insert(entry.category).second)
        out += entry.category + "\n";
    }
  }
  write_stdout(out);
  return exit_success;
}

}  // namespace coffer::cli
