#include "agent/metric_sink.h"

#include <algorithm>
#include <limits>

#include "base/text.h"

namespace tacho::agent {

MetricSink::MetricSink(Labels const_labels) : const_labels_(std::move(const_labels)) {}

prometheus::ClientMetric* MetricSink::Add(std::string_view name, std::string_view help,
                                          prometheus::MetricType type, Labels&& labels) {
  auto it = index_.find(name);
  if (it == index_.end()) {
    it = index_.emplace(std::string(name), families_.size()).first;
    prometheus::MetricFamily family;
    family.name = std::string(name);
    family.help = std::string(help);
    family.type = type;
    families_.push_back(std::move(family));
  } else if (families_[it->second].type != type) {
    conflicts_.push_back(std::string(name));
    return nullptr;
  }
  prometheus::ClientMetric& metric = families_[it->second].metric.emplace_back();
  metric.label = std::move(labels);
  for (Label& label : metric.label) {
    if (!base::IsValidUtf8(label.value)) label.value = base::EscapeInvalidUtf8(label.value);
  }
  metric.label.insert(metric.label.end(), const_labels_.begin(), const_labels_.end());
  ++samples_;
  return &metric;
}

void MetricSink::Gauge(std::string_view name, std::string_view help, Labels labels, double value) {
  if (auto* m = Add(name, help, prometheus::MetricType::Gauge, std::move(labels))) {
    m->gauge.value = value;
  }
}

void MetricSink::Counter(std::string_view name, std::string_view help, Labels labels,
                         double value) {
  if (auto* m = Add(name, help, prometheus::MetricType::Counter, std::move(labels))) {
    m->counter.value = value;
  }
}

void MetricSink::Histogram(std::string_view name, std::string_view help, Labels labels,
                           std::span<const HistogramBucket> buckets, std::uint64_t count,
                           double sum) {
  if (auto* m = Add(name, help, prometheus::MetricType::Histogram, std::move(labels))) {
    m->histogram.sample_count = count;
    m->histogram.sample_sum = sum;
    m->histogram.bucket.reserve(buckets.size() + 1);
    for (const HistogramBucket& b : buckets) {
      m->histogram.bucket.push_back(
          prometheus::ClientMetric::Bucket{b.cumulative_count, b.upper_bound});
    }
    m->histogram.bucket.push_back(
        prometheus::ClientMetric::Bucket{count, std::numeric_limits<double>::infinity()});
  }
}

std::vector<prometheus::MetricFamily> MetricSink::Take() {
  std::vector<prometheus::MetricFamily> out = std::move(families_);
  families_.clear();
  index_.clear();
  samples_ = 0;
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

}  // namespace tacho::agent
