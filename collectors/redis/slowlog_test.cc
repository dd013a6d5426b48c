#include "collectors/redis/slowlog.h"

#include <gtest/gtest.h>

namespace tacho::collectors::redis {
namespace {

SlowlogEntry Entry(std::int64_t id, std::string cmd, std::int64_t us) {
  return {id, 1700000000 + id, us, std::move(cmd)};
}

TEST(RedisSlowlogTrackerTest, entries_present_at_first_sight_are_a_baseline) {
  SlowlogTracker t;
  EXPECT_EQ(t.Pending("run", 41), 0u);
  t.Record({Entry(41, "get", 20000)});
  EXPECT_TRUE(t.totals().empty());
  EXPECT_EQ(t.longest_new_seconds(), 0);

  EXPECT_EQ(t.Pending("run", 44), 3u);
  t.Record({Entry(44, "get", 12000), Entry(43, "config|get", 30000), Entry(42, "get", 11000),
            Entry(41, "get", 20000)});
  ASSERT_EQ(t.totals().size(), 2u);
  EXPECT_EQ(t.totals().at("get").entries, 2u);
  EXPECT_DOUBLE_EQ(t.totals().at("get").duration_seconds, 0.023);
  EXPECT_EQ(t.totals().at("config|get").entries, 1u);
  EXPECT_DOUBLE_EQ(t.longest_new_seconds(), 0.03);
  EXPECT_EQ(t.missed(), 0u);

  EXPECT_EQ(t.Pending("run", 44), 0u) << "nothing new";
  t.Record({Entry(44, "get", 12000)});
  EXPECT_EQ(t.totals().at("get").entries, 2u);
  EXPECT_EQ(t.longest_new_seconds(), 0) << "only this cycle's entries";
}

TEST(RedisSlowlogTrackerTest, empty_log_at_first_then_every_entry_is_new) {
  SlowlogTracker t;
  EXPECT_EQ(t.Pending("run", std::nullopt), 0u);
  t.Record({});
  EXPECT_EQ(t.Pending("run", 0), 1u) << "ids start at 0";
  t.Record({Entry(0, "keys", 50000)});
  EXPECT_EQ(t.totals().at("keys").entries, 1u);
}

TEST(RedisSlowlogTrackerTest, more_new_entries_than_fetched_are_counted_as_missed) {
  SlowlogTracker t;
  t.Pending("run", 10);
  t.Record({});
  EXPECT_EQ(t.Pending("run", 210), 200u);
  std::vector<SlowlogEntry> fetched;
  for (std::int64_t id = 210; id > 210 - 128; --id) fetched.push_back(Entry(id, "get", 10000));
  t.Record(fetched);
  EXPECT_EQ(t.totals().at("get").entries, 128u);
  EXPECT_EQ(t.missed(), 72u);
}

TEST(RedisSlowlogTrackerTest, restart_counts_the_new_servers_entries) {
  SlowlogTracker t;
  t.Pending("run1", 500);
  t.Record({});
  EXPECT_EQ(t.Pending("run2", 1), 2u) << "ids 0 and 1 since the restart";
  t.Record({Entry(1, "set", 10000), Entry(0, "get", 10000)});
  EXPECT_EQ(t.totals().at("set").entries, 1u);
  EXPECT_EQ(t.totals().at("get").entries, 1u);
  // Same run_id but the newest id went down (proxy hiding the run_id): a reset as well.
  EXPECT_EQ(t.Pending("run2", 1), 0u);
  t.Record({});
  EXPECT_EQ(t.Pending("run2", 0), 1u);
}

}  // namespace
}  // namespace tacho::collectors::redis
