#include "agent/alerts/series_store.h"

#include <algorithm>
#include <cmath>

namespace tacho::alerts {

using promql::LabelSet;
using promql::Point;
using promql::Timestamp;

namespace {

// Bucket bounds and quantiles as label values: "0.5", "1", "+Inf".
std::string FormatLe(double v) { return promql::FormatGoFloat(v); }

}  // namespace

std::set<std::string> SeriesStore::wanted_names() const {
  std::set<std::string> names;
  for (const auto& [name, retention] : retention_) names.insert(name);
  return names;
}

void SeriesStore::SetRetention(std::map<std::string, std::int64_t> retention) {
  retention_ = std::move(retention);
  for (auto it = series_by_name_.begin(); it != series_by_name_.end();) {
    if (Wanted(it->first)) {
      ++it;
      continue;
    }
    for (auto& [labels, s] : it->second) series_.erase(labels);
    it = series_by_name_.erase(it);
  }
}

void SeriesStore::Add(const std::string& source, LabelSet labels, double v, Timestamp t,
                      std::set<const Series*>& seen) {
  const std::string& name = labels[promql::kMetricName];
  if (!Wanted(name)) return;
  auto& by_labels = series_by_name_[name];
  auto [it, inserted] = by_labels.try_emplace(std::move(labels));
  Series& s = it->second;
  if (inserted) {
    series_[it->first] = &s;
    s.source = source;
  }
  if (!s.points.empty() && s.points.back().t >= t) {
    s.points.back().v = v;  // same timestamp: the later value wins
  } else {
    s.points.push_back(Point{t, v});
  }
  s.stale_at.reset();
  seen.insert(&s);
}

void SeriesStore::Append(const LabelSet& labels, Point point) {
  std::set<const Series*> seen;
  Add("", labels, point.v, point.t, seen);
}

void SeriesStore::Ingest(const std::string& source,
                         const std::vector<prometheus::MetricFamily>& families, Timestamp t) {
  std::set<const Series*> seen;
  for (const prometheus::MetricFamily& family : families) {
    const bool wanted_any = Wanted(family.name) || Wanted(family.name + "_bucket") ||
                            Wanted(family.name + "_sum") || Wanted(family.name + "_count");
    if (!wanted_any) continue;
    for (const prometheus::ClientMetric& m : family.metric) {
      LabelSet labels;
      for (const auto& l : m.label) labels[l.name] = l.value;
      auto with_name = [&](const std::string& name) {
        LabelSet out = labels;
        out[promql::kMetricName] = name;
        return out;
      };
      switch (family.type) {
        case prometheus::MetricType::Counter:
          Add(source, with_name(family.name), m.counter.value, t, seen);
          break;
        case prometheus::MetricType::Gauge:
          Add(source, with_name(family.name), m.gauge.value, t, seen);
          break;
        case prometheus::MetricType::Untyped:
          Add(source, with_name(family.name), m.untyped.value, t, seen);
          break;
        case prometheus::MetricType::Histogram: {
          for (const auto& b : m.histogram.bucket) {
            LabelSet bl = with_name(family.name + "_bucket");
            bl["le"] = FormatLe(b.upper_bound);
            Add(source, std::move(bl), static_cast<double>(b.cumulative_count), t, seen);
          }
          Add(source, with_name(family.name + "_sum"), m.histogram.sample_sum, t, seen);
          Add(source, with_name(family.name + "_count"),
              static_cast<double>(m.histogram.sample_count), t, seen);
          break;
        }
        case prometheus::MetricType::Summary: {
          for (const auto& q : m.summary.quantile) {
            LabelSet ql = with_name(family.name);
            ql["quantile"] = FormatLe(q.quantile);
            Add(source, std::move(ql), q.value, t, seen);
          }
          Add(source, with_name(family.name + "_sum"), m.summary.sample_sum, t, seen);
          Add(source, with_name(family.name + "_count"),
              static_cast<double>(m.summary.sample_count), t, seen);
          break;
        }
        default:
          break;
      }
    }
  }
  for (auto& [labels, s] : series_) {
    if (s->source == source && !seen.count(s) && !s->stale_at) s->stale_at = t;
  }
  last_ingest_[source] = t;
}

void SeriesStore::MarkSourceStale(const std::string& source, Timestamp t) {
  for (auto& [labels, s] : series_) {
    if (s->source == source && !s->stale_at) s->stale_at = t;
  }
  last_ingest_.erase(source);
}

void SeriesStore::Prune(Timestamp now) {
  for (auto name_it = series_by_name_.begin(); name_it != series_by_name_.end();) {
    const std::int64_t keep = retention_.count(name_it->first) ? retention_[name_it->first] : 0;
    auto& by_labels = name_it->second;
    for (auto it = by_labels.begin(); it != by_labels.end();) {
      Series& s = it->second;
      // Keep everything inside the window, plus the latest sample (for instant lookups within
      // the lookback delta).
      const Timestamp cutoff = now - std::max(keep, promql::kLookbackMs);
      auto first_kept = std::lower_bound(s.points.begin(), s.points.end(), cutoff,
                                         [](const Point& p, Timestamp t) { return p.t < t; });
      if (keep == 0 && !s.points.empty()) {
        first_kept = std::max(first_kept, s.points.end() - 1);
      }
      s.points.erase(s.points.begin(), first_kept);
      const bool gone =
          s.points.empty() || (s.stale_at && *s.stale_at < now - keep - promql::kLookbackMs);
      if (gone) {
        series_.erase(it->first);
        it = by_labels.erase(it);
      } else {
        ++it;
      }
    }
    if (by_labels.empty()) {
      name_it = series_by_name_.erase(name_it);
    } else {
      ++name_it;
    }
  }
}

std::size_t SeriesStore::sample_count() const {
  std::size_t n = 0;
  for (const auto& [labels, s] : series_) n += s->points.size();
  return n;
}

std::vector<std::string> SeriesStore::sources() const {
  std::vector<std::string> out;
  for (const auto& [source, t] : last_ingest_) out.push_back(source);
  return out;
}

void SeriesStore::Select(const std::vector<promql::Matcher>& matchers,
                         const std::function<void(const LabelSet&, const std::vector<Point>&,
                                                  std::optional<Timestamp>)>& fn) const {
  auto matches = [&](const LabelSet& labels) {
    for (const promql::Matcher& m : matchers) {
      auto it = labels.find(m.name);
      static const std::string kEmpty;
      if (!m.Matches(it == labels.end() ? kEmpty : it->second)) return false;
    }
    return true;
  };
  // Fast path: a metric-name equality matcher selects one name's series.
  for (const promql::Matcher& m : matchers) {
    if (m.name == promql::kMetricName && m.op == promql::Matcher::Op::kEqual) {
      auto it = series_by_name_.find(m.value);
      if (it == series_by_name_.end()) return;
      for (const auto& [labels, s] : it->second) {
        if (matches(labels)) fn(labels, s.points, s.stale_at);
      }
      return;
    }
  }
  for (const auto& [labels, s] : series_) {
    if (matches(labels)) fn(labels, s->points, s->stale_at);
  }
}

}  // namespace tacho::alerts
