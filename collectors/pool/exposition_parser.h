// A parser for the Prometheus text exposition format 0.0.4, as an application's /metrics
// serves it, tolerant of what OpenMetrics 1.0 adds (`# EOF`, `# UNIT`, `_created` samples,
// exemplars after ` # `, float timestamps).
//
// Pure: no I/O. Bounded: the body size and the sample count are checked before anything large
// is allocated, so a runaway endpoint cannot exhaust the agent's memory.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace tacho::collectors::pool {

struct ExpositionSample {
  std::string name;  // the sample's name, e.g. "hikaricp_connections_acquire_seconds_count"
  // In the order written, values unescaped (\\, \" and \n).
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;                 // NaN, +Inf and -Inf included
  std::optional<double> timestamp;  // as written: milliseconds (0.0.4) or seconds (OpenMetrics)

  // The value of label `name`, or nullptr.
  const std::string* Label(std::string_view name) const;
};

struct ExpositionLimits {
  std::size_t max_bytes = std::size_t{16} << 20;  // 16 MiB: far above any real endpoint
  std::size_t max_samples = 1'000'000;
  // Which samples to keep, by name; every sample is still checked and counted. Unset: all.
  // Keeping only the interesting ones keeps memory proportional to them, not to the body.
  std::function<bool(std::string_view name)> keep;
};

struct Exposition {
  std::vector<ExpositionSample> samples;  // the kept ones, in the order written
  std::size_t total_samples = 0;          // every sample line read
};

// Parses a whole exposition. A syntax error fails the whole body, with its 1-based line number:
//   "line 3: expected '=' after label name \"pool\"".
// Example input line:
//   hikaricp_connections_active{pool="orders",} 3.0 1717000000000
Expected<Exposition> ParseExposition(std::string_view text, const ExpositionLimits& limits = {});

}  // namespace tacho::collectors::pool
