// Snapshots: the immutable result of one collection, and the store scrapes read from.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

namespace tacho::agent {

// One family rendered in the text exposition format, split so that a scrape can merge the same
// family from several snapshots under one HELP/TYPE header.
struct RenderedFamily {
  std::string name;
  prometheus::MetricType type = prometheus::MetricType::Untyped;
  std::string header;  // "# HELP ...\n# TYPE ...\n"
  std::string body;    // the sample lines
};

// Immutable once published; shared by the store, scrapes and (later) the rule evaluator.
struct Snapshot {
  std::vector<prometheus::MetricFamily> families;  // sorted by name
  std::vector<RenderedFamily> rendered;            // same order
  std::chrono::system_clock::time_point taken_at;
  std::size_t series = 0;
};

// Builds a snapshot, rendering the exposition text once (on the collecting thread, so a scrape
// only concatenates strings).
std::shared_ptr<const Snapshot> MakeSnapshot(std::vector<prometheus::MetricFamily> families,
                                             std::chrono::system_clock::time_point taken_at);

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

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const Snapshot>> snapshots_;
};

}  // namespace tacho::agent
