// MetricSink: where a collector writes the samples of one collection.
#pragma once

#include <prometheus/metric_family.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tacho::agent {

using Label = prometheus::ClientMetric::Label;
using Labels = std::vector<Label>;

// One cumulative histogram bucket: observations <= upper_bound. The +Inf bucket is implied by
// the histogram's count and need not be passed.
struct HistogramBucket {
  double upper_bound = 0;
  std::uint64_t cumulative_count = 0;
};

// Collects samples into metric families. Not thread-safe: one sink belongs to one collection.
//
// Contracts:
//  - A family name is used with one type and one HELP text; a sample whose type disagrees with
//    the family's first use is dropped and recorded in conflicts() (a collector bug, surfaced by
//    tests and counted by the runtime).
//  - const_labels (the runtime passes {target="<instance name>"}) are appended to every sample.
//  - Names must already follow Prometheus conventions (counters end in _total); the sink does
//    not rename.
//  - Label values are made valid UTF-8 here, for every collector: whatever a server or an
//    application names (tables, clients, pools, processes) is escaped reversibly
//    (base::EscapeInvalidUtf8), never dropped, so one odd byte cannot make Prometheus reject
//    the whole exposition. Const labels come from the configuration and are taken as they are.
class MetricSink {
 public:
  explicit MetricSink(Labels const_labels = {});

  void Gauge(std::string_view name, std::string_view help, Labels labels, double value);
  void Counter(std::string_view name, std::string_view help, Labels labels, double value);
  // buckets must be sorted by upper_bound with non-decreasing cumulative counts.
  void Histogram(std::string_view name, std::string_view help, Labels labels,
                 std::span<const HistogramBucket> buckets, std::uint64_t count, double sum);

  // Number of samples written so far.
  std::size_t size() const { return samples_; }
  const std::vector<std::string>& conflicts() const { return conflicts_; }

  // Moves the families out, sorted by name, and leaves the sink empty.
  std::vector<prometheus::MetricFamily> Take();

 private:
  prometheus::ClientMetric* Add(std::string_view name, std::string_view help,
                                prometheus::MetricType type, Labels&& labels);

  // Looks names up without building a std::string for every sample.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const {
      return std::hash<std::string_view>{}(name);
    }
  };

  Labels const_labels_;
  std::vector<prometheus::MetricFamily> families_;
  std::unordered_map<std::string, std::size_t, NameHash, std::equal_to<>> index_;
  std::vector<std::string> conflicts_;
  std::size_t samples_ = 0;
};

}  // namespace tacho::agent
