#include <cctype>
#include <cstdint>
#include <string>

#include "config/config.h"

namespace tacho::config {

// "1m30s" -> 90000ms. Units: ms, s, m, h, d. A bare number is rejected: a unit-less "15" is
// ambiguous and a classic cause of 15ms intervals.
Expected<Duration, std::string> ParseDuration(std::string_view text) {
  if (text.empty()) return std::string("empty duration");
  std::int64_t total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    std::int64_t number = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      number = number * 10 + (text[i] - '0');
      if (number > 1'000'000'000'000LL) return std::string("duration is too large");
      ++i;
    }
    if (i == start) {
      return "expected a number at '" + std::string(text.substr(start)) + "'";
    }
    std::size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    std::int64_t scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60 * 1000;
    } else if (unit == "h") {
      scale = 3600 * 1000;
    } else if (unit == "d") {
      scale = 86400 * 1000;
    } else if (unit.empty()) {
      return std::string("missing unit (use ms, s, m, h or d, as in \"15s\")");
    } else {
      return "unknown unit '" + std::string(unit) + "' (use ms, s, m, h or d)";
    }
    total_ms += number * scale;
  }
  return Duration(total_ms);
}

std::string FormatDuration(Duration d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  const std::pair<std::int64_t, const char*> units[] = {
      {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& [scale, name] : units) {
    if (ms >= scale) {
      out += std::to_string(ms / scale) + name;
      ms %= scale;
    }
  }
  return out;
}

}  // namespace tacho::config
