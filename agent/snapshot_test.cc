#include "agent/snapshot.h"

#include <gtest/gtest.h>

#include "agent/metric_sink.h"

namespace tacho::agent {
namespace {

TEST(SnapshotTest, renders_each_family_with_header_and_body) {
  MetricSink sink(Labels{{"target", "t"}});
  sink.Gauge("g", "A gauge.", {{"k", "v\"\n"}}, 1.5);
  sink.Counter("c_total", "A counter.", {}, 3);
  auto snapshot = MakeSnapshot(sink.Take(), std::chrono::system_clock::now());
  ASSERT_EQ(snapshot->rendered.size(), 2u);
  EXPECT_EQ(snapshot->series, 2u);
  EXPECT_EQ(snapshot->rendered[0].name, "c_total");
  EXPECT_EQ(snapshot->rendered[0].header, "# HELP c_total A counter.\n# TYPE c_total counter\n");
  EXPECT_EQ(snapshot->rendered[0].body, "c_total{target=\"t\"} 3\n");
  EXPECT_EQ(snapshot->rendered[1].body, "g{k=\"v\\\"\\n\",target=\"t\"} 1.5\n")
      << "label values are escaped by TextSerializer";
}

TEST(SnapshotTest, family_without_help_still_splits) {
  std::vector<prometheus::MetricFamily> families(2);
  families[0].name = "a";
  families[0].type = prometheus::MetricType::Gauge;
  families[0].metric.resize(1);
  families[1].name = "b";
  families[1].help = "B.";
  families[1].type = prometheus::MetricType::Gauge;
  families[1].metric.resize(1);
  auto rendered = RenderFamilies(families);
  ASSERT_EQ(rendered.size(), 2u);
  EXPECT_EQ(rendered[0].header, "# TYPE a gauge\n");
  EXPECT_EQ(rendered[0].body, "a 0\n");
  EXPECT_EQ(rendered[1].name, "b");
}

TEST(SnapshotStoreTest, publish_replaces_and_remove_withdraws) {
  SnapshotStore store;
  store.Publish("a", MakeSnapshot({}, {}));
  auto second = MakeSnapshot({}, {});
  store.Publish("a", second);
  store.Publish("b", MakeSnapshot({}, {}));
  auto all = store.All();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all["a"], second);
  store.Remove("a");
  EXPECT_EQ(store.All().count("a"), 0u);
}

}  // namespace
}  // namespace tacho::agent

namespace tacho::agent {
namespace {

TEST(SnapshotTest, keeps_only_the_families_readers_need_but_renders_all) {
  MetricSink sink(Labels{{"target", "t"}});
  sink.Gauge("read_by_rules", "R.", {}, 1);
  sink.Gauge("only_served", "S.", {}, 2);
  const HistogramBucket buckets[] = {{0.1, 1}};
  sink.Histogram("latency_seconds", "H.", {}, buckets, 2, 0.3);
  sink.Gauge("tacho_pool_in_use", "P.", {{"kind", "app"}, {"pool", "p"}}, 3);
  auto kept = std::make_shared<const std::set<std::string>>(
      std::set<std::string>{"read_by_rules", "latency_seconds_bucket"});
  auto snapshot = MakeSnapshot(sink.Take(), std::chrono::system_clock::now(), kept);
  std::vector<std::string> names;
  for (const auto& f : snapshot->families) names.push_back(f.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"latency_seconds", "read_by_rules", "tacho_pool_in_use"}))
      << "a histogram is kept by its _bucket name; the pool model always";
  EXPECT_EQ(snapshot->rendered.size(), 4u) << "every family is still served";
  EXPECT_EQ(snapshot->series, 4u);
  auto all = MakeSnapshot(MetricSink().Take(), std::chrono::system_clock::now());
  EXPECT_TRUE(all->families.empty());
}

}  // namespace
}  // namespace tacho::agent
