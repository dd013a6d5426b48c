// Snapshots: the immutable result of one collection, and the store scrapes read from.
#pragma once

#include <prometheus/metric_family.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace tacho::agent {

// One family rendered in the text exposition format, split so that a scrape can merge the same
// family from several snapshots under one HELP/TYPE header.
struct RenderedFamily {
  std::string name;
  prometheus::MetricType type = prometheus::MetricType::Untyped;
  std::string header;  // "# HELP ...\n# TYPE ...\n"
  std::string body;    // the sample lines
};

// The metric names whose families a snapshot keeps besides its rendered text (what the rule
// evaluator reads; histogram and summary series by their _bucket/_sum/_count names). Null:
// keep every family.
using KeptNames = std::shared_ptr<const std::set<std::string>>;

// Immutable once published; shared by the store, scrapes, the rule evaluator and
// /api/v1/pools.
struct Snapshot {
  // Sorted by name. Only the families someone reads back: those named by KeptNames and the
  // pool model's tacho_pool_*; every family is in `rendered`.
  std::vector<prometheus::MetricFamily> families;
  std::vector<RenderedFamily> rendered;  // same order
  std::chrono::system_clock::time_point taken_at;
  std::size_t series = 0;
};

// Builds a snapshot, rendering the exposition text once (on the collecting thread, so a scrape
// only concatenates strings).
std::shared_ptr<const Snapshot> MakeSnapshot(std::vector<prometheus::MetricFamily> families,
                                             std::chrono::system_clock::time_point taken_at,
                                             const KeptNames& kept = nullptr);

// Renders families (sorted by name) to RenderedFamily entries with prometheus-cpp's
// TextSerializer.
std::vector<RenderedFamily> RenderFamilies(const std::vector<prometheus::MetricFamily>& families);

// Latest snapshot per collector instance. Thread-safe.
class SnapshotStore {
 public:
  void Publish(const std::string& instance, std::shared_ptr<const Snapshot> snapshot);
  void Remove(const std::string& instance);
  // Instance name -> snapshot, a consistent copy of the pointers.
  std::map<std::string, std::shared_ptr<const Snapshot>> All() const;

  // Which families new snapshots keep (set by the agent from its rules); null keeps all.
  void SetKeptNames(KeptNames names);
  KeptNames kept_names() const;

 private:
  mutable std::mutex mutex_;
  KeptNames kept_names_;
  std::map<std::string, std::shared_ptr<const Snapshot>> snapshots_;
};

}  // namespace tacho::agent
