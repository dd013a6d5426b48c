// Helpers shared by the Redis collector's tests: fixtures, RESP decoding and sample lookups.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agent/metric_sink.h"
#include "collectors/redis/replies.h"
#include "collectors/redis/resp.h"

namespace tacho::collectors::redis::testutil {

// Tests run with the source tree as working directory (tacho_add_test).
inline std::string Fixture(const std::string& name) {
  std::ifstream in("collectors/redis/testdata/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The single reply a captured RESP fixture holds.
inline Reply FixtureReply(const std::string& name) {
  auto replies = DecodeResp(Fixture(name));
  EXPECT_TRUE(replies.ok()) << (replies.ok() ? "" : replies.error());
  if (!replies.ok() || replies->empty()) return Reply{};
  return replies->front();
}

// The samples of a sink, keyed by "name{k=v,...}" with labels in the order written; histogram
// samples as name_count / name_sum / name_bucket{...,le=...}.
class Samples {
 public:
  explicit Samples(agent::MetricSink& sink) : families_(sink.Take()) {
    for (const auto& family : families_) {
      types_[family.name] = family.type;
      for (const auto& metric : family.metric) {
        std::string labels;
        for (const auto& l : metric.label)
          labels += (labels.empty() ? "" : ",") + l.name + "=" + l.value;
        auto key = [&](const std::string& name, const std::string& extra = "") {
          std::string all = labels;
          if (!extra.empty()) all += (all.empty() ? "" : ",") + extra;
          return all.empty() ? name : name + "{" + all + "}";
        };
        switch (family.type) {
          case prometheus::MetricType::Counter:
            values_[key(family.name)] = metric.counter.value;
            break;
          case prometheus::MetricType::Histogram:
            values_[key(family.name + "_count")] =
                static_cast<double>(metric.histogram.sample_count);
            values_[key(family.name + "_sum")] = metric.histogram.sample_sum;
            for (const auto& b : metric.histogram.bucket) {
              std::ostringstream le;
              le << b.upper_bound;
              values_[key(family.name + "_bucket", "le=" + le.str())] =
                  static_cast<double>(b.cumulative_count);
            }
            break;
          default:
            values_[key(family.name)] = metric.gauge.value;
            break;
        }
      }
    }
  }
  std::optional<double> Get(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  double At(const std::string& key) const {
    auto v = Get(key);
    EXPECT_TRUE(v.has_value()) << "no sample " << key;
    return v.value_or(-1);
  }
  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  std::optional<prometheus::MetricType> Type(const std::string& family) const {
    auto it = types_.find(family);
    if (it == types_.end()) return std::nullopt;
    return it->second;
  }
  const std::vector<prometheus::MetricFamily>& families() const { return families_; }
  const std::map<std::string, double>& values() const { return values_; }

 private:
  std::vector<prometheus::MetricFamily> families_;
  std::map<std::string, prometheus::MetricType> types_;
  std::map<std::string, double> values_;
};

}  // namespace tacho::collectors::redis::testutil
