// Sample history for the rule evaluator: only the metric names rules read, only for the longest
// window they read them over.
#pragma once

#include <prometheus/metric_family.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/alerts/promql.h"

namespace tacho::alerts {

// Thread-compatible: the agent uses it from the event-loop thread only.
class SeriesStore : public promql::Storage {
 public:
  // metric name -> how far back samples are kept (ms); 0 keeps only the latest sample.
  // Names not listed are not stored at all. Series of names no longer wanted are dropped.
  void SetRetention(std::map<std::string, std::int64_t> retention);

  // Appends one collection of `source` (a collector instance, or "__self__") taken at `t`.
  // Series of that source absent from `families` become stale at `t`, as a Prometheus scrape
  // writes staleness markers. Histograms and summaries are flattened to _bucket/_sum/_count
  // and quantile series, as in the exposition.
  void Ingest(const std::string& source, const std::vector<prometheus::MetricFamily>& families,
              promql::Timestamp t);
  // A source that went away (an instance removed by a reload): all its series become stale.
  void MarkSourceStale(const std::string& source, promql::Timestamp t);
  // Appends one sample directly (tests, recorded sample files).
  void Append(const promql::LabelSet& labels, promql::Point point);
  // Drops samples older than each name's retention relative to `now`.
  void Prune(promql::Timestamp now);

  std::size_t series_count() const { return series_.size(); }
  // The metric names kept (histogram and summary series by their _bucket/_sum/_count names).
  std::set<std::string> wanted_names() const;
  std::size_t sample_count() const;
  // The sources ingested so far (for MarkSourceStale on reloads).
  std::vector<std::string> sources() const;

  void Select(const std::vector<promql::Matcher>& matchers,
              const std::function<void(const promql::LabelSet&, const std::vector<promql::Point>&,
                                       std::optional<promql::Timestamp>)>& fn) const override;

 private:
  struct Series {
    std::vector<promql::Point> points;
    std::optional<promql::Timestamp> stale_at;
    std::string source;
  };
  bool Wanted(const std::string& name) const { return retention_.count(name) > 0; }
  void Add(const std::string& source, promql::LabelSet labels, double v, promql::Timestamp t,
           std::set<const Series*>& seen);

  std::map<std::string, std::int64_t> retention_;
  // metric name -> labels -> series
  std::map<std::string, std::map<promql::LabelSet, Series>> series_by_name_;
  std::map<promql::LabelSet, Series*> series_;
  std::map<std::string, promql::Timestamp> last_ingest_;
};

}  // namespace tacho::alerts
