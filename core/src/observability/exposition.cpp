#include "observability/exposition.hpp"

#include <charconv>

namespace coffer::detail {
namespace {

void append_escaped(std::string &out, std::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// Nine significant digits, independent of the process's locale.
void append_number(std::string &out, double value) {
  char text[32];
  auto [end, error] = std::to_chars(text, text + sizeof text, value, std::chars_format::general, 9);
  out.append(text, error == std::errc() ? end : text);
}

}  // namespace

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void Exposition::series(std::string_view name, Labels labels, std::string_view extra_label,
                        std::string_view extra_value) {
  out_ += name;
  if (labels.size() == 0 && extra_label.empty()) return;
  char separator = '{';
  auto write = [&](std::string_view label, std::string_view value) {
    out_ += separator;
    out_ += label;
    out_ += "=\"";
    append_escaped(out_, value);
    out_ += '"';
    separator = ',';
  };
  for (const Label &label : labels) write(label.name, label.value);
  if (!extra_label.empty()) write(extra_label, extra_value);
  out_ += '}';
}

void Exposition::sample(std::string_view name, Labels labels, std::uint64_t value) {
  series(name, labels);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void Exposition::histogram(std::string_view name, Labels labels, std::span<const double> bounds,
                           std::span<const std::uint64_t> counts, std::uint64_t count, double sum) {
  std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    std::string bound;
    append_number(bound, bounds[i]);
    series(bucket, labels, "le", bound);
    out_ += ' ' + std::to_string(cumulative) + '\n';
  }
  series(bucket, labels, "le", "+Inf");
  out_ += ' ' + std::to_string(count) + '\n';
  series(std::string(name) + "_sum", labels);
  out_ += ' ';
  append_number(out_, sum);
  out_ += '\n';
  series(std::string(name) + "_count", labels);
  out_ += ' ' + std::to_string(count) + '\n';
}

}  // namespace coffer::detail
