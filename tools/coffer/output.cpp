#include "output.hpp"

#include <coffer/error.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace coffer::cli {

void Table::print(std::FILE *out) const {
  std::vector<std::size_t> width(header_.size(), 0);
  auto cell = [](const std::vector<std::string> &row, std::size_t i) -> std::string {
    return i < row.size() && !row[i].empty() ? row[i] : "-";
  };
  for (std::size_t i = 0; i < header_.size(); ++i) {
    width[i] = header_[i].size();
    for (const auto &row : rows_) width[i] = std::max(width[i], cell(row, i).size());
  }
  std::string text;
  auto line = [&](const std::vector<std::string> &row) {
    for (std::size_t i = 0; i < header_.size(); ++i) {
      std::string c = cell(row, i);
      text += c;
      if (i + 1 < header_.size()) text += std::string(width[i] - c.size() + 2, ' ');
    }
    text += '\n';
  };
  line(header_);
  for (const auto &row : rows_) line(row);
  if (out == stdout)
    write_stdout(text);
  else
    std::fwrite(text.data(), 1, text.size(), out);
}

namespace {

void pretty(std::string &out, const boost::json::value &value, int indent) {
  std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  std::string close(static_cast<std::size_t>(indent), ' ');
  if (const auto *object = value.if_object(); object != nullptr && !object->empty()) {
    out += "{\n";
    bool first = true;
    for (const auto &member : *object) {
      if (!first) out += ",\n";
      first = false;
      out += pad + boost::json::serialize(boost::json::string(member.key())) + ": ";
      pretty(out, member.value(), indent + 2);
    }
    out += "\n" + close + "}";
  } else if (const auto *array = value.if_array(); array != nullptr && !array->empty()) {
    out += "[\n";
    for (std::size_t i = 0; i < array->size(); ++i) {
      if (i > 0) out += ",\n";
      out += pad;
      pretty(out, (*array)[i], indent + 2);
    }
    out += "\n" + close + "]";
  } else {
    out += boost::json::serialize(value);
  }
}

}  // namespace

std::string pretty_json(const boost::json::value &value) {
  std::string out;
  pretty(out, value, 0);
  return out + "\n";
}

void print_json(const boost::json::value &value, bool compact) {
  write_stdout(compact ? boost::json::serialize(value) + "\n" : pretty_json(value));
}

void print_error(std::string_view message) {
  std::string line = "coffer: " + std::string(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void print_note(std::string_view message, bool quiet) {
  if (!quiet) print_error("note: " + std::string(message));
}

void write_stdout(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    throw Error(Code::internal,
                std::string("cannot write to standard output: ") + std::strerror(errno));
}

}  // namespace coffer::cli
