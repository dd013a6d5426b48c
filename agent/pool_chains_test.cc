#include "agent/pool_chains.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/metric_sink.h"

namespace tacho::agent {
namespace {

namespace json = boost::json;

// A published snapshot of one instance holding the given pools.
std::shared_ptr<const Snapshot> SnapshotOf(const std::string& target,
                                           const std::vector<PoolSample>& pools) {
  MetricSink sink(Labels{{"target", target}});
  for (const PoolSample& p : pools) WritePool(sink, p);
  sink.Gauge("unrelated_gauge", "Not a pool.", {{"pool", "x"}}, 7);
  return MakeSnapshot(sink.Take(), std::chrono::system_clock::now());
}

PoolSample Pool(std::string kind, std::string name, std::optional<double> size, double in_use,
                double idle, std::optional<double> waiting = std::nullopt) {
  PoolSample p(std::move(kind), std::move(name));
  p.size = size;
  p.in_use = in_use;
  p.idle = idle;
  p.waiting = waiting;
  return p;
}

TEST(PoolModelTest, writes_ratio_only_for_a_positive_limit) {
  MetricSink sink(Labels{{"target", "t"}});
  WritePool(sink, Pool("pgbouncer", "app/u", 4, 3, 1, 0));
  PoolSample unlimited = Pool("app", "go", 0, 5, 2);
  unlimited.no_limit = NoLimit::kUnlimited;
  WritePool(sink, unlimited);
  PoolSample unknown = Pool("postgres", "app/x", std::nullopt, 1, 1);
  unknown.no_limit = NoLimit::kUnknown;
  WritePool(sink, unknown);
  std::map<std::string, double> values;
  for (const auto& f : sink.Take()) {
    for (const auto& m : f.metric) {
      std::string key = f.name;
      for (const auto& l : m.label) key += "," + l.name + "=" + l.value;
      values[key] = f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  EXPECT_EQ(values["tacho_pool_utilization_ratio,kind=pgbouncer,pool=app/u,target=t"], 0.75);
  EXPECT_EQ(values.count("tacho_pool_size,kind=app,pool=go,target=t"), 0u)
      << "a limit of 0 is not a size";
  EXPECT_EQ(values.count("tacho_pool_utilization_ratio,kind=app,pool=go,target=t"), 0u);
  EXPECT_EQ(values["tacho_pool_utilization_unavailable,kind=app,pool=go,reason=unlimited,target=t"],
            1);
  EXPECT_EQ(
      values["tacho_pool_utilization_unavailable,kind=postgres,pool=app/x,reason=unknown_limit,"
             "target=t"],
      1);
  EXPECT_EQ(values.count("tacho_pool_utilization_unavailable,kind=pgbouncer,pool=app/u,"
                         "reason=unknown_limit,target=t"),
            0u);
}

TEST(PoolModelTest, saturation) {
  EXPECT_TRUE(PoolSaturated(Pool("pgbouncer", "a/b", 2, 2, 0, 0)));
  EXPECT_TRUE(PoolSaturated(Pool("pgbouncer", "a/b", 2, 1, 0, 3))) << "someone waits";
  EXPECT_FALSE(PoolSaturated(Pool("pgbouncer", "a/b", 2, 1, 5, 0))) << "idle servers are free";
  PoolSample slots = Pool("postgres", "connections", 10, 4, 6);
  slots.held = 10;
  EXPECT_TRUE(PoolSaturated(slots)) << "idle backends hold their slots";
  EXPECT_FALSE(PoolSaturated(Pool("postgres", "app/x", std::nullopt, 40, 6)));
  EXPECT_FALSE(PoolSaturated(Pool("app", "go", 0, 40, 6))) << "unlimited";
}

TEST(PoolChainsTest, reads_pools_back_from_snapshots) {
  PoolSample unlimited = Pool("app", "go", 0, 5, 2);
  unlimited.no_limit = NoLimit::kUnlimited;
  std::map<std::string, std::shared_ptr<const Snapshot>> snapshots{
      {"bouncer", SnapshotOf("bouncer", {Pool("pgbouncer", "db/u", 2, 2, 0, 8)})},
      {"svc", SnapshotOf("svc", {unlimited})},
  };
  auto pools = ReadPools(snapshots);
  ASSERT_EQ(pools.size(), 2u);
  EXPECT_EQ(pools[0].target, "bouncer");
  EXPECT_EQ(pools[0].sample.pool, "db/u");
  EXPECT_EQ(pools[0].sample.size, 2);
  EXPECT_EQ(pools[0].sample.waiting, 8);
  EXPECT_EQ(pools[1].sample.no_limit, NoLimit::kUnlimited);
  EXPECT_FALSE(pools[1].sample.size.has_value());
}

TEST(PoolChainsTest, chain_marks_the_deepest_saturated_layer) {
  std::map<std::string, std::shared_ptr<const Snapshot>> snapshots{
      {"svc", SnapshotOf("svc", {Pool("app", "orders", 10, 10, 0, 4)})},
      {"bouncer", SnapshotOf("bouncer", {Pool("pgbouncer", "db/u", 2, 2, 0, 8),
                                         Pool("pgbouncer", "clients", 100, 12, 0)})},
      {"db", SnapshotOf("db", {Pool("postgres", "connections", 97, 3, 2),
                               Pool("postgres", "app/pgbench", std::nullopt, 2, 0)})},
  };
  std::vector<PoolLink> links{{"db", "postgres", "", "connections"},
                              {"bouncer", "pgbouncer", "db", ""},
                              {"svc", "app_pool", "bouncer", ""}};
  json::value doc = json::parse(PoolsJson(ReadPools(snapshots), links));
  EXPECT_EQ(doc.at("pools").as_array().size(), 5u);
  const json::array& chains = doc.at("chains").as_array();
  ASSERT_EQ(chains.size(), 1u) << "bouncer is someone's upstream: not a chain of its own";
  const json::object& chain = chains[0].as_object();
  EXPECT_EQ(chain.at("root").as_string(), "svc");
  const json::array& layers = chain.at("layers").as_array();
  ASSERT_EQ(layers.size(), 3u);
  EXPECT_EQ(layers[0].at("target").as_string(), "svc");
  EXPECT_TRUE(layers[0].at("saturated").as_bool());
  EXPECT_TRUE(layers[1].at("saturated").as_bool());
  EXPECT_FALSE(layers[2].at("saturated").as_bool());
  EXPECT_EQ(layers[2].at("pools").as_array().size(), 1u)
      << "a server's layer is its connection slots, not its per-application views";
  const json::object& bottleneck = chain.at("bottleneck").as_object();
  EXPECT_EQ(bottleneck.at("layer").as_int64(), 1);
  EXPECT_EQ(bottleneck.at("target").as_string(), "bouncer");
  EXPECT_EQ(bottleneck.at("pool").as_string(), "db/u") << "the worst pool of the layer";
}

TEST(PoolChainsTest, unsaturated_chain_has_no_bottleneck_and_missing_snapshots_are_empty) {
  std::map<std::string, std::shared_ptr<const Snapshot>> snapshots{
      {"bouncer", SnapshotOf("bouncer", {Pool("pgbouncer", "db/u", 20, 2, 3, 0)})},
  };
  std::vector<PoolLink> links{{"bouncer", "pgbouncer", "db", ""},
                              {"db", "postgres", "", "connections"}};
  json::value doc = json::parse(PoolsJson(ReadPools(snapshots), links));
  const json::object& chain = doc.at("chains").as_array()[0].as_object();
  EXPECT_TRUE(chain.at("bottleneck").is_null());
  const json::array& layers = chain.at("layers").as_array();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].at("utilization").as_double(), 0.1);
  EXPECT_TRUE(layers[1].at("pools").as_array().empty()) << "db is down: no pools";
  EXPECT_TRUE(layers[1].at("utilization").is_null());
}

}  // namespace
}  // namespace tacho::agent
