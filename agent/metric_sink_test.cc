#include "agent/metric_sink.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tacho::agent {
namespace {

TEST(MetricSinkTest, const_labels_are_appended_and_families_sorted) {
  MetricSink sink(Labels{{"target", "db"}});
  sink.Gauge("b_gauge", "B.", {{"x", "1"}}, 2.5);
  sink.Counter("a_total", "A.", {}, 7);
  sink.Gauge("b_gauge", "B.", {{"x", "2"}}, 3);
  EXPECT_EQ(sink.size(), 3u);
  auto families = sink.Take();
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0].name, "a_total");
  EXPECT_EQ(families[0].type, prometheus::MetricType::Counter);
  EXPECT_EQ(families[0].metric[0].counter.value, 7);
  ASSERT_EQ(families[1].metric.size(), 2u);
  const Labels expected = {{"x", "1"}, {"target", "db"}};
  EXPECT_EQ(families[1].metric[0].label, expected);
  EXPECT_EQ(sink.size(), 0u) << "Take() leaves the sink empty";
}

TEST(MetricSinkTest, label_values_are_made_valid_utf8_never_dropped) {
  // A LATIN1 table name read without conversion, and its neighbour differing in that byte.
  MetricSink sink(Labels{{"target", "db"}});
  sink.Gauge("pg_stat_user_tables_n_live_tup", "Rows.", {{"relname", "tabl\xE9"}}, 1);
  sink.Gauge("pg_stat_user_tables_n_live_tup", "Rows.", {{"relname", "tabl\xE8"}}, 2);
  sink.Gauge("pg_stat_user_tables_n_live_tup", "Rows.", {{"relname", "tablé"}}, 3);
  auto families = sink.Take();
  ASSERT_EQ(families.size(), 1u);
  ASSERT_EQ(families[0].metric.size(), 3u) << "no sample is dropped";
  EXPECT_EQ(families[0].metric[0].label, (Labels{{"relname", "tabl\\xE9"}, {"target", "db"}}));
  EXPECT_EQ(families[0].metric[1].label, (Labels{{"relname", "tabl\\xE8"}, {"target", "db"}}));
  EXPECT_EQ(families[0].metric[2].label, (Labels{{"relname", "tablé"}, {"target", "db"}}))
      << "valid UTF-8 is unchanged";
}

TEST(MetricSinkTest, type_conflict_drops_sample_and_records_it) {
  MetricSink sink;
  sink.Gauge("x", "X.", {}, 1);
  sink.Counter("x", "X.", {}, 2);
  ASSERT_EQ(sink.conflicts().size(), 1u);
  EXPECT_EQ(sink.conflicts()[0], "x");
  auto families = sink.Take();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].metric.size(), 1u);
}

TEST(MetricSinkTest, histogram_gets_inf_bucket_from_count) {
  MetricSink sink;
  HistogramBucket buckets[] = {{0.001, 3}, {0.01, 5}};
  sink.Histogram("lat_seconds", "L.", {}, buckets, 9, 0.5);
  auto families = sink.Take();
  const auto& h = families[0].metric[0].histogram;
  ASSERT_EQ(h.bucket.size(), 3u);
  EXPECT_EQ(h.bucket[2].cumulative_count, 9u);
  EXPECT_TRUE(std::isinf(h.bucket[2].upper_bound));
  EXPECT_EQ(h.sample_count, 9u);
}

}  // namespace
}  // namespace tacho::agent
