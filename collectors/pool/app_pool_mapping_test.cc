#include "collectors/pool/app_pool_mapping.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "base/test_files.h"

namespace tacho::collectors::pool {
namespace {

std::vector<ExpositionSample> Samples(std::string_view text) {
  ExpositionLimits limits;
  limits.keep = IsPoolSampleName;
  auto parsed = ParseExposition(text, limits);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message());
  return parsed.ok() ? parsed->samples : std::vector<ExpositionSample>{};
}

std::vector<ExpositionSample> FixtureSamples(const std::string& name) {
  return Samples(base::testing::ReadTestFile("collectors/pool/testdata/app/" + name));
}

const agent::PoolSample* Find(const MappingResult& r, const std::string& pool) {
  for (const auto& p : r.pools) {
    if (p.pool == pool) return &p;
  }
  return nullptr;
}

std::vector<std::string> Names(const MappingResult& r) {
  std::vector<std::string> names;
  for (const auto& p : r.pools) names.push_back(p.pool);
  return names;
}

TEST(AppPoolMappingTest, hikaricp_micrometer_maps_every_field_it_has) {
  const MappingResult r =
      MapPools(FixtureSamples("hikaricp_micrometer_spring-boot-3.2_crafted.txt"), {});
  ASSERT_EQ(Names(r), (std::vector<std::string>{"orders-hikari", "reporting"}));
  const agent::PoolSample& p = *Find(r, "orders-hikari");
  EXPECT_EQ(p.kind, "app");
  EXPECT_EQ(p.size, 20.0);
  EXPECT_EQ(p.no_limit, agent::NoLimit::kNone);
  EXPECT_EQ(p.in_use, 20.0);
  EXPECT_EQ(p.idle, 0.0);
  EXPECT_EQ(p.waiting, 7.0);
  EXPECT_EQ(p.max_wait_seconds, 2.871004312);
  EXPECT_EQ(p.wait_seconds_total, 4172.519284112);
  EXPECT_EQ(p.timeouts_total, 38.0);
  // The acquire count counts every borrow, not only the ones that waited.
  EXPECT_FALSE(p.waits_total.has_value());
  EXPECT_TRUE(agent::PoolSaturated(p));
  const agent::PoolSample& q = *Find(r, "reporting");
  EXPECT_EQ(q.size, 5.0);
  EXPECT_EQ(q.in_use, 1.0);
  EXPECT_EQ(q.idle, 4.0);
  EXPECT_EQ(q.waiting, 0.0);
  EXPECT_FALSE(agent::PoolSaturated(q));
  EXPECT_EQ(r.dropped, 0u);
}

TEST(AppPoolMappingTest, hikaricp_tracker_converts_nanoseconds_and_has_no_max_wait) {
  const MappingResult r =
      MapPools(FixtureSamples("hikaricp_prometheus-tracker_5.1_crafted.txt"), {});
  ASSERT_EQ(Names(r), (std::vector<std::string>{"inventory"}));
  const agent::PoolSample& p = r.pools[0];
  EXPECT_EQ(p.size, 10.0);
  EXPECT_EQ(p.in_use, 4.0);
  EXPECT_EQ(p.idle, 6.0);
  EXPECT_EQ(p.waiting, 0.0);
  EXPECT_EQ(p.timeouts_total, 2.0);
  EXPECT_DOUBLE_EQ(*p.wait_seconds_total, 63.411773912);
  EXPECT_FALSE(p.max_wait_seconds.has_value());
  EXPECT_FALSE(p.waits_total.has_value());
}

TEST(AppPoolMappingTest, go_dbstats_zero_max_open_means_unlimited) {
  const MappingResult r = MapPools(FixtureSamples("go_client_golang-1.19_dbstats_crafted.txt"), {});
  ASSERT_EQ(Names(r), (std::vector<std::string>{"orders", "sessions"}));
  const agent::PoolSample& orders = *Find(r, "orders");
  EXPECT_EQ(orders.size, 25.0);
  EXPECT_EQ(orders.in_use, 25.0);
  EXPECT_EQ(orders.idle, 0.0);
  EXPECT_FALSE(orders.waiting.has_value());  // database/sql has no current-waiters gauge
  EXPECT_FALSE(orders.max_wait_seconds.has_value());
  EXPECT_EQ(orders.waits_total, 18422.0);
  EXPECT_EQ(orders.wait_seconds_total, 937.213004871);
  EXPECT_FALSE(orders.timeouts_total.has_value());
  const agent::PoolSample& sessions = *Find(r, "sessions");
  EXPECT_FALSE(sessions.size.has_value());
  EXPECT_EQ(sessions.no_limit, agent::NoLimit::kUnlimited);
  EXPECT_EQ(sessions.in_use, 3.0);
}

TEST(AppPoolMappingTest, go_sqlstats_maps_like_dbstats) {
  const MappingResult r = MapPools(FixtureSamples("go_sqlstats-1.0.2_crafted.txt"), {});
  ASSERT_EQ(Names(r), (std::vector<std::string>{"billing", "ledger"}));
  const agent::PoolSample& billing = *Find(r, "billing");
  EXPECT_EQ(billing.size, 10.0);
  EXPECT_EQ(billing.in_use, 9.0);
  EXPECT_EQ(billing.idle, 1.0);
  EXPECT_EQ(billing.waits_total, 211.0);
  EXPECT_EQ(billing.wait_seconds_total, 12.5);
  EXPECT_EQ(Find(r, "ledger")->no_limit, agent::NoLimit::kUnlimited);
}

TEST(AppPoolMappingTest, sqlstats_before_1_0_2_wrote_blocked_time) {
  const MappingResult r =
      MapPools(Samples("go_sql_stats_connections_blocked_time{db_name=\"x\"} 4.5\n"), {});
  ASSERT_EQ(r.pools.size(), 1u);
  EXPECT_EQ(r.pools[0].wait_seconds_total, 4.5);
  EXPECT_EQ(r.pools[0].no_limit, agent::NoLimit::kUnknown);  // no max_open sample
}

TEST(AppPoolMappingTest, format_restricts_the_sources_read) {
  const std::string both =
      "hikaricp_connections_active{pool=\"h\"} 1\n"
      "go_sql_in_use_connections{db_name=\"g\"} 2\n";
  MappingOptions options;
  EXPECT_EQ(Names(MapPools(Samples(both), options)), (std::vector<std::string>{"g", "h"}));
  options.format = SourceFormat::kHikariCp;
  EXPECT_EQ(Names(MapPools(Samples(both), options)), (std::vector<std::string>{"h"}));
  options.format = SourceFormat::kGoSql;
  EXPECT_EQ(Names(MapPools(Samples(both), options)), (std::vector<std::string>{"g"}));
}

TEST(AppPoolMappingTest, pools_globs_select_by_pool_name) {
  MappingOptions options;
  options.pools = {"orders*", "sess?ons"};
  const MappingResult r =
      MapPools(Samples("go_sql_in_use_connections{db_name=\"orders\"} 1\n"
                       "go_sql_in_use_connections{db_name=\"orders-replica\"} 1\n"
                       "go_sql_in_use_connections{db_name=\"sessions\"} 1\n"
                       "go_sql_in_use_connections{db_name=\"audit\"} 1\n"),
               options);
  EXPECT_EQ(Names(r), (std::vector<std::string>{"orders", "orders-replica", "sessions"}));
  EXPECT_EQ(r.filtered, 1u);
  EXPECT_EQ(r.dropped, 0u);
}

TEST(AppPoolMappingTest, max_pools_keeps_the_first_names_and_counts_the_rest) {
  std::string text;
  for (const char* name : {"e", "b", "d", "a", "c"}) {
    text += "hikaricp_connections_active{pool=\"" + std::string(name) + "\"} 1\n";
  }
  MappingOptions options;
  options.max_pools = 3;
  const MappingResult r = MapPools(Samples(text), options);
  EXPECT_EQ(Names(r), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.dropped, 2u);
}

TEST(AppPoolMappingTest, same_pool_name_with_other_labels_stays_distinct) {
  const MappingResult r = MapPools(
      Samples("hikaricp_connections_active{application=\"billing\",pool=\"HikariPool-1\",} 3\n"
              "hikaricp_connections_active{application=\"orders\",pool=\"HikariPool-1\",} 5\n"
              "hikaricp_connections_max{application=\"billing\",pool=\"HikariPool-1\",} 10\n"
              "hikaricp_connections_max{application=\"orders\",pool=\"HikariPool-1\",} 20\n"
              "hikaricp_connections_max{application=\"orders\",pool=\"solo\",} 4\n"),
      {});
  ASSERT_EQ(Names(r), (std::vector<std::string>{"HikariPool-1[application=billing]",
                                                "HikariPool-1[application=orders]", "solo"}));
  EXPECT_EQ(r.pools[0].in_use, 3.0);
  EXPECT_EQ(r.pools[0].size, 10.0);
  EXPECT_EQ(r.pools[1].in_use, 5.0);
  EXPECT_EQ(r.pools[1].size, 20.0);
}

TEST(AppPoolMappingTest, many_groups_of_one_name_are_bounded_before_naming) {
  // 2000 groups of one pool name, each with a label of its own: every name used to list all
  // 2000 differing labels (a 400 KB response took 879 MiB and 2.7 s).
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += "hikaricp_connections_active{pool=\"p\",k" + std::to_string(10000 + i) + "=\"" +
            std::string(100, 'v') + "\"} 1\n";
  }
  MappingOptions options;
  options.max_pools = 50;
  const MappingResult r = MapPools(Samples(text), options);
  ASSERT_EQ(r.pools.size(), 50u);
  EXPECT_EQ(r.dropped, 1950u);
  std::set<std::string> names;
  for (const agent::PoolSample& p : r.pools) {
    EXPECT_LE(p.pool.size(), 300u) << "at most 3 labels of at most 64 bytes: " << p.pool;
    names.insert(p.pool);
  }
  EXPECT_EQ(names.size(), 50u) << "still one name per pool";
}

TEST(AppPoolMappingTest, pools_alike_in_their_first_labels_get_numbered) {
  const MappingResult r = MapPools(
      Samples("hikaricp_connections_active{pool=\"p\",a=\"1\",b=\"1\",c=\"1\",d=\"x\"} 1\n"
              "hikaricp_connections_active{pool=\"p\",a=\"1\",b=\"1\",c=\"2\",d=\"x\"} 2\n"
              "hikaricp_connections_active{pool=\"p\",a=\"2\",b=\"1\",c=\"1\",d=\"x\"} 3\n"
              "hikaricp_connections_active{pool=\"p\",a=\"2\",b=\"2\",c=\"1\",d=\"y\"} 4\n"
              "hikaricp_connections_active{pool=\"p\",a=\"2\",b=\"2\",c=\"1\",d=\"z\"} 5\n"),
      {});
  EXPECT_EQ(Names(r),
            (std::vector<std::string>{"p[a=1,b=1,c=1]", "p[a=1,b=1,c=2]", "p[a=2,b=1,c=1]",
                                      "p[a=2,b=2,c=1]", "p[a=2,b=2,c=1]#2"}))
      << "d also differs, but only three labels are named";
}

TEST(AppPoolMappingTest, same_name_in_both_libraries_is_told_apart_by_source) {
  const MappingResult r = MapPools(Samples("hikaricp_connections_active{pool=\"main\"} 1\n"
                                           "go_sql_in_use_connections{db_name=\"main\"} 2\n"),
                                   {});
  EXPECT_EQ(Names(r), (std::vector<std::string>{"main[go_sql]", "main[hikaricp]"}));
}

TEST(AppPoolMappingTest, summary_quantiles_do_not_split_a_pool) {
  const MappingResult r =
      MapPools(Samples("hikaricp_connection_acquired_nanos{pool=\"p\",quantile=\"0.5\"} 100\n"
                       "hikaricp_connection_acquired_nanos_sum{pool=\"p\"} 2e9\n"
                       "hikaricp_active_connections{pool=\"p\"} 1\n"),
               {});
  ASSERT_EQ(Names(r), (std::vector<std::string>{"p"}));
  EXPECT_EQ(r.pools[0].wait_seconds_total, 2.0);
}

TEST(AppPoolMappingTest, missing_pool_label_is_named_default_and_nan_is_no_value) {
  const MappingResult r = MapPools(Samples("go_sql_in_use_connections 2\n"
                                           "go_sql_idle_connections NaN\n"),
                                   {});
  ASSERT_EQ(Names(r), (std::vector<std::string>{"default"}));
  EXPECT_EQ(r.pools[0].in_use, 2.0);
  EXPECT_FALSE(r.pools[0].idle.has_value());
}

TEST(AppPoolMappingTest, unrelated_metrics_yield_no_pools) {
  const MappingResult r = MapPools(Samples("http_requests_total{code=\"200\"} 5\n"
                                           "hikaricp_connections_min{pool=\"p\"} 2\n"
                                           "go_sql_open_connections{db_name=\"d\"} 3\n"),
                                   {});
  EXPECT_TRUE(r.pools.empty());
  EXPECT_EQ(r.dropped, 0u);
}

TEST(AppPoolMappingTest, writes_the_pool_model_families) {
  const MappingResult r =
      MapPools(FixtureSamples("hikaricp_micrometer_spring-boot-3.2_crafted.txt"), {});
  agent::MetricSink sink;
  for (const auto& p : r.pools) agent::WritePool(sink, p);
  std::map<std::string, double> values;
  for (const auto& family : sink.Take()) {
    for (const auto& m : family.metric) {
      std::string key = family.name;
      for (const auto& l : m.label) key += "," + l.name + "=" + l.value;
      values[key] =
          family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  EXPECT_EQ(values["tacho_pool_utilization_ratio,kind=app,pool=orders-hikari"], 1.0);
  EXPECT_EQ(values["tacho_pool_waiting,kind=app,pool=orders-hikari"], 7.0);
  EXPECT_EQ(values["tacho_pool_timeouts_total,kind=app,pool=orders-hikari"], 38.0);
  EXPECT_EQ(values["tacho_pool_utilization_ratio,kind=app,pool=reporting"], 0.2);
  EXPECT_EQ(values.count("tacho_pool_waits_total,kind=app,pool=reporting"), 0u);
}

TEST(AppPoolMappingTest, glob_is_fnmatch_without_flags) {
  EXPECT_TRUE(GlobMatch("*", "anything/at all"));
  EXPECT_TRUE(GlobMatch("db-[ab]", "db-a"));
  EXPECT_FALSE(GlobMatch("db-[ab]", "db-c"));
  EXPECT_FALSE(GlobMatch("orders", "orders-2"));
}

}  // namespace
}  // namespace tacho::collectors::pool
