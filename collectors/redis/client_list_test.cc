#include "collectors/redis/client_list.h"

#include <gtest/gtest.h>

#include "collectors/redis/test_util.h"

namespace tacho::collectors::redis {
namespace {

const ClientPool* Find(const ClientPools& pools, const std::string& name) {
  for (const ClientPool& p : pools.pools) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

TEST(RedisClientListTest, parses_redis7_capture) {
  auto clients = ParseClientList(testutil::Fixture("client_list_redis-7.0.15.txt"));
  ASSERT_EQ(clients.size(), 9u);
  EXPECT_EQ(clients[0].name, "billing-api");
  EXPECT_EQ(clients[0].age_seconds, 3);
  EXPECT_EQ(clients[0].idle_seconds, 1);
  EXPECT_EQ(clients[0].flags, "N");
  EXPECT_EQ(clients[5].name, "") << "name= (unset)";
  EXPECT_EQ(clients[6].flags, "b");
  EXPECT_EQ(clients[7].flags, "S") << "the replica's connection";
}

TEST(RedisClientListTest, groups_pools_by_client_name) {
  auto pools =
      GroupClientPools(ParseClientList(testutil::Fixture("client_list_redis-7.0.15.txt")), 50);
  ASSERT_EQ(pools.pools.size(), 3u);
  EXPECT_EQ(pools.dropped, 0u);
  EXPECT_EQ(pools.pools[0].name, "") << "sorted by name";
  const ClientPool* billing = Find(pools, "billing-api");
  ASSERT_NE(billing, nullptr);
  EXPECT_EQ(billing->connections, 3u);
  EXPECT_EQ(billing->active, 0u) << "idle 1, 3, 3";
  EXPECT_EQ(billing->max_idle_seconds, 3);
  EXPECT_EQ(billing->min_age_seconds, 3);
  const ClientPool* worker = Find(pools, "worker");
  ASSERT_NE(worker, nullptr);
  EXPECT_EQ(worker->connections, 3u);
  EXPECT_EQ(worker->blocked, 1u);
  EXPECT_EQ(worker->active, 1u) << "blocked in BLPOP counts as active";
  const ClientPool* unnamed = Find(pools, "");
  ASSERT_NE(unnamed, nullptr);
  EXPECT_EQ(unnamed->connections, 3u);
  EXPECT_EQ(unnamed->active, 1u) << "the CLIENT LIST connection itself, idle 0";
  EXPECT_EQ(unnamed->min_age_seconds, 0);
  EXPECT_EQ(unnamed->max_idle_seconds, 3);
}

TEST(RedisClientListTest, max_pools_keeps_the_largest) {
  std::vector<ClientInfo> clients;
  for (int i = 0; i < 5; ++i) clients.push_back({"big", 10, 0, "N"});
  for (int i = 0; i < 3; ++i) clients.push_back({"mid", 10, 0, "N"});
  clients.push_back({"small", 10, 0, "N"});
  clients.push_back({"tiny", 10, 0, "N"});
  auto pools = GroupClientPools(clients, 2);
  ASSERT_EQ(pools.pools.size(), 2u);
  EXPECT_EQ(pools.pools[0].name, "big");
  EXPECT_EQ(pools.pools[1].name, "mid");
  EXPECT_EQ(pools.dropped, 2u);
}

TEST(RedisClientListTest, tolerates_missing_fields_and_blank_lines) {
  auto clients = ParseClientList("id=1 name=a\n\nnot a client\nid=2 flags=N age=x\r\n");
  ASSERT_EQ(clients.size(), 2u);
  EXPECT_EQ(clients[0].name, "a");
  EXPECT_EQ(clients[1].age_seconds, 0);
  EXPECT_EQ(clients[1].flags, "N");
}

TEST(RedisClientListTest, a_client_name_is_a_pool_held_in_use_idle_and_blocked) {
  auto pools =
      GroupClientPools(ParseClientList(testutil::Fixture("client_list_redis-7.0.15.txt")), 50);
  const ClientPool* worker = Find(pools, "worker");
  ASSERT_NE(worker, nullptr);
  const agent::PoolSample pool = ClientPoolSample(*worker);
  EXPECT_EQ(pool.kind, "redis");
  EXPECT_EQ(pool.pool, "client/worker");
  EXPECT_EQ(pool.held, 3.0);
  EXPECT_EQ(pool.in_use, 1.0);
  EXPECT_EQ(pool.idle, 2.0);
  EXPECT_EQ(pool.blocked, 1.0);
  EXPECT_FALSE(pool.size.has_value()) << "a client-side pool's size is not visible here";
  EXPECT_EQ(pool.no_limit, agent::NoLimit::kUnknown);
}

}  // namespace
}  // namespace tacho::collectors::redis
