#include <cctype>
#include <cstdint>
#include <string>

#include "config/config.h"

namespace tacho::config {

// "1m30s" -> 90000ms. Units: ms, s, m, h, d. A bare number is rejected: a unit-less "15" is
// ambiguous and a classic cause of 15ms intervals. At most kMaxDuration, so that any duration
// still fits the clocks' 64-bit nanoseconds after it is added to a time point.
Expected<Duration, std::string> ParseDuration(std::string_view text) {
  if (text.empty()) return std::string("empty duration");
  const auto too_large = [] {
    return "duration is too large (at most " + FormatDuration(kMaxDuration) + ")";
  };
  std::int64_t total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    std::int64_t number = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      number = number * 10 + (text[i] - '0');
      if (number > kMaxDuration.count()) return too_large();
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
    // Checked before multiplying: the product of two in-range values may not fit 64 bits.
    if (number > kMaxDuration.count() / scale) return too_large();
    total_ms += number * scale;
    if (total_ms > kMaxDuration.count()) return too_large();
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
