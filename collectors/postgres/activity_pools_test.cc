#include <gtest/gtest.h>

#include "collectors/postgres/health.h"

namespace tacho::collectors::postgres {
namespace {

const agent::PoolSample* Find(const std::vector<agent::PoolSample>& pools,
                              const std::string& name) {
  for (const agent::PoolSample& p : pools) {
    if (p.pool == name) return &p;
  }
  return nullptr;
}

// Two applications as pg_stat_activity shows them: a web pool of 10 backends, 2 of them
// stuck idle in a transaction, and pgbench's 3 clients.
ActivityStates TwoApplications() {
  return {{"web", {{"active", 3}, {"idle", 5}, {"idle in transaction", 2}}},
          {"pgbench", {{"active", 1}, {"idle", 2}}}};
}

TEST(PgActivityPoolsTest, server_slots_count_every_application) {
  const auto pools = ActivityPools(TwoApplications(), TwoApplications(), 42.5, 97.0);
  const agent::PoolSample* slots = Find(pools, "connections");
  ASSERT_NE(slots, nullptr);
  EXPECT_EQ(slots->kind, "postgres");
  EXPECT_EQ(slots->size, 97.0) << "max_connections - reserved";
  EXPECT_EQ(slots->in_use, 6.0) << "active + idle in transaction";
  EXPECT_EQ(slots->idle, 7.0);
  EXPECT_EQ(slots->held, 13.0) << "an idle backend holds its slot too: it counts to saturation";
  EXPECT_EQ(slots->idle_in_transaction, 2.0);
  EXPECT_EQ(slots->idle_in_transaction_max_age_seconds, 42.5);
  EXPECT_DOUBLE_EQ(*agent::PoolUtilization(*slots), 6.0 / 97.0);
}

TEST(PgActivityPoolsTest, each_application_is_a_pool_held_in_use_and_idle) {
  const auto pools = ActivityPools(TwoApplications(), TwoApplications(), 0, 97.0);
  const agent::PoolSample* web = Find(pools, "app/web");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->held, 10.0);
  EXPECT_EQ(web->in_use, 5.0) << "idle in transaction holds its backend: in use";
  EXPECT_EQ(web->idle, 5.0);
  EXPECT_EQ(web->idle_in_transaction, 2.0);
  const agent::PoolSample* pgbench = Find(pools, "app/pgbench");
  ASSERT_NE(pgbench, nullptr);
  EXPECT_EQ(pgbench->held, 3.0);
  EXPECT_EQ(pgbench->in_use, 1.0);
}

TEST(PgActivityPoolsTest, application_pools_have_no_ratio_because_their_size_is_unknown) {
  const auto pools = ActivityPools(TwoApplications(), TwoApplications(), 0, 97.0);
  const agent::PoolSample* web = Find(pools, "app/web");
  ASSERT_NE(web, nullptr);
  EXPECT_FALSE(web->size.has_value());
  EXPECT_EQ(web->no_limit, agent::NoLimit::kUnknown);
  EXPECT_FALSE(agent::PoolUtilization(*web).has_value());
}

TEST(PgActivityPoolsTest, slots_without_a_known_limit_have_no_ratio) {
  const auto pools = ActivityPools(TwoApplications(), TwoApplications(), 0, std::nullopt);
  const agent::PoolSample* slots = Find(pools, "connections");
  ASSERT_NE(slots, nullptr);
  EXPECT_FALSE(agent::PoolUtilization(*slots).has_value());
}

TEST(PgActivityPoolsTest, only_exported_applications_get_pools_but_all_fill_the_slots) {
  const ActivityStates exported = {{"web", TwoApplications().at("web")},
                                   {"<other>", TwoApplications().at("pgbench")}};
  const auto pools = ActivityPools(TwoApplications(), exported, 0, 97.0);
  EXPECT_EQ(pools.size(), 3u);
  EXPECT_NE(Find(pools, "app/<other>"), nullptr);
  EXPECT_EQ(Find(pools, "app/pgbench"), nullptr);
  EXPECT_EQ(Find(pools, "connections")->in_use, 6.0);
}

TEST(PgActivityPoolsTest, backends_hidden_from_the_role_are_neither_in_use_nor_idle) {
  const ActivityStates apps = {{"batch", {{"unknown", 4}, {"active", 1}}}};
  const auto pools = ActivityPools(apps, apps, 0, 97.0);
  const agent::PoolSample* batch = Find(pools, "app/batch");
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->in_use, 1.0);
  EXPECT_EQ(batch->idle, 0.0);
  EXPECT_EQ(batch->held, 1.0);
}

}  // namespace
}  // namespace tacho::collectors::postgres
