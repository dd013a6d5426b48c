// Test helper for anything that writes a MetricSink: the written samples by name and labels.
// Header-only and gtest-dependent; include it from tests only.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agent/metric_sink.h"

namespace tacho::agent::testutil {

// The samples of a sink (or of taken families), keyed by "name{k=v,...}" with labels in the
// order written; histogram samples as name_count, name_sum and name_bucket{...,le=...}.
class Samples {
 public:
  Samples() = default;
  // Takes the sink's families and keeps its conflicts.
  explicit Samples(MetricSink& sink) : Samples(sink.Take()) { conflicts_ = sink.conflicts(); }
  explicit Samples(std::vector<prometheus::MetricFamily> families)
      : families_(std::move(families)) {
    for (const auto& family : families_) {
      types_[family.name] = family.type;
      helps_[family.name] = family.help;
      for (const auto& metric : family.metric) Index(family, metric);
    }
  }

  std::optional<double> Get(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  // The value of `key`; a missing sample fails the test and reads as -1.
  double At(const std::string& key) const {
    auto v = Get(key);
    EXPECT_TRUE(v.has_value()) << "no sample " << key;
    return v.value_or(-1);
  }
  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  bool HasFamily(const std::string& family) const { return types_.count(family) > 0; }
  // Samples of the family whose key starts with "family{" (or equals the family name).
  std::size_t FamilySize(const std::string& family) const {
    std::size_t n = 0;
    for (const auto& [key, value] : values_) {
      if (key == family || key.rfind(family + "{", 0) == 0) ++n;
    }
    return n;
  }
  std::optional<prometheus::MetricType> Type(const std::string& family) const {
    auto it = types_.find(family);
    if (it == types_.end()) return std::nullopt;
    return it->second;
  }
  // Keys written more than once (a duplicate series).
  std::vector<std::string> Duplicates() const {
    std::vector<std::string> out;
    for (const auto& [key, n] : counts_)
      if (n > 1) out.push_back(key);
    return out;
  }
  // The sink's conflicts when built from a sink; empty otherwise.
  const std::vector<std::string>& conflicts() const { return conflicts_; }
  const std::vector<prometheus::MetricFamily>& families() const { return families_; }
  const std::map<std::string, std::string>& helps() const { return helps_; }
  const std::map<std::string, double>& values() const { return values_; }

 private:
  void Index(const prometheus::MetricFamily& family, const prometheus::ClientMetric& metric) {
    std::string labels;
    for (const auto& l : metric.label)
      labels += (labels.empty() ? "" : ",") + l.name + "=" + l.value;
    auto put = [&](const std::string& name, double value, const std::string& extra = "") {
      std::string all = labels;
      if (!extra.empty()) all += (all.empty() ? "" : ",") + extra;
      const std::string key = all.empty() ? name : name + "{" + all + "}";
      ++counts_[key];
      values_[key] = value;
    };
    switch (family.type) {
      case prometheus::MetricType::Counter:
        put(family.name, metric.counter.value);
        break;
      case prometheus::MetricType::Histogram:
        put(family.name + "_count", static_cast<double>(metric.histogram.sample_count));
        put(family.name + "_sum", metric.histogram.sample_sum);
        for (const auto& b : metric.histogram.bucket) {
          std::ostringstream le;
          le << b.upper_bound;
          put(family.name + "_bucket", static_cast<double>(b.cumulative_count), "le=" + le.str());
        }
        break;
      default:
        put(family.name, metric.gauge.value);
        break;
    }
  }

  std::vector<std::string> conflicts_;
  std::vector<prometheus::MetricFamily> families_;
  std::map<std::string, prometheus::MetricType> types_;
  std::map<std::string, std::string> helps_;
  std::map<std::string, double> values_;
  std::map<std::string, int> counts_;
};

}  // namespace tacho::agent::testutil
