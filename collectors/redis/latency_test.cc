#include "collectors/redis/latency.h"

#include <gtest/gtest.h>

#include <cmath>

#include "collectors/redis/test_util.h"

namespace tacho::collectors::redis {
namespace {

CommandHistogram Reply(const std::string& cmd, std::uint64_t calls,
                       std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets) {
  return {cmd, calls, std::move(buckets)};
}

TEST(RedisLatencyBucketsTest, bounds_match_what_redis_prints) {
  // The bounds LATENCY HISTOGRAM prints, in whole microseconds.
  const std::uint64_t printed[] = {1,     2,     4,     8,      16,     33,    66,
                                   132,   264,   528,   1056,   2113,   4227,  8454,
                                   16908, 33816, 67633, 135266, 270532, 541065};
  for (int k = 0; k < kLatencyBuckets; ++k) {
    const double bound = LatencyBucketBound(k);
    EXPECT_EQ(static_cast<std::uint64_t>(std::floor(bound * 1e6 + 1e-9)), printed[k]) << k;
    EXPECT_EQ(LatencyBucketIndex(printed[k]), k);
  }
  EXPECT_DOUBLE_EQ(LatencyBucketBound(0), 1031e-9);
  EXPECT_EQ(LatencyBucketIndex(0), 0);
  EXPECT_EQ(LatencyBucketIndex(3), 2) << "not on the ladder: the next bound up";
  EXPECT_EQ(LatencyBucketIndex(1082130), kLatencyBuckets) << "Redis's 1 s bucket: +Inf only";
  EXPECT_EQ(LatencyBucketIndex(99999999), kLatencyBuckets);
}

TEST(RedisLatencyBucketsTest, ladder_carries_counts_over_buckets_redis_left_out) {
  auto h = ParseLatencyHistogram(testutil::FixtureReply("latency_histogram_redis-7.0.15.resp"));
  ASSERT_FALSE(h.empty());
  LatencyHistogram ladder = ToLadder(h[0]);  // set: 1:4897 2:4965 4:4992 8:5000 16:5001 66:5002
  EXPECT_EQ(ladder.cumulative[0], 4897u);
  EXPECT_EQ(ladder.cumulative[3], 5000u);
  EXPECT_EQ(ladder.cumulative[4], 5001u);
  EXPECT_EQ(ladder.cumulative[5], 5001u) << "33 µs: left out by Redis, carried forward";
  EXPECT_EQ(ladder.cumulative[6], 5002u);
  EXPECT_EQ(ladder.cumulative[kLatencyBuckets - 1], 5002u);
  EXPECT_EQ(ladder.count, 5002u);
  LatencyHistogram slow = ToLadder({"debug", 3, {{1, 1}, {541065, 2}, {1082130, 3}}});
  EXPECT_EQ(slow.cumulative[kLatencyBuckets - 1], 2u) << "541 ms";
  EXPECT_EQ(slow.count, 3u) << "the call Redis clamped to 1 s is only in +Inf";
}

TEST(RedisLatencyAccumulatorTest, first_reply_whole_then_differences) {
  LatencyAccumulator acc;
  acc.BeginCycle("run1");
  auto first = acc.Update(Reply("get", 10, {{1, 8}, {4, 10}}), 20);
  EXPECT_EQ(first.count, 10u);
  EXPECT_EQ(first.cumulative[0], 8u);
  EXPECT_DOUBLE_EQ(first.sum_seconds, 20e-6);

  acc.BeginCycle("run1");
  auto second = acc.Update(Reply("get", 15, {{1, 9}, {4, 12}, {8, 15}}), 50);
  EXPECT_EQ(second.count, 15u);
  EXPECT_EQ(second.cumulative[0], 9u);
  EXPECT_EQ(second.cumulative[2], 12u);
  EXPECT_EQ(second.cumulative[3], 15u);
  EXPECT_DOUBLE_EQ(second.sum_seconds, 50e-6);
}

TEST(RedisLatencyAccumulatorTest, resetstat_and_restart_never_decrease_counts) {
  LatencyAccumulator acc;
  acc.BeginCycle("run1");
  acc.Update(Reply("get", 100, {{1, 100}}), 100);
  // CONFIG RESETSTAT: fewer calls than before; the new reply is what happened since.
  acc.BeginCycle("run1");
  auto after_reset = acc.Update(Reply("get", 5, {{2, 5}}), 10);
  EXPECT_EQ(after_reset.count, 105u);
  EXPECT_EQ(after_reset.cumulative[0], 100u);
  EXPECT_EQ(after_reset.cumulative[1], 105u);
  EXPECT_DOUBLE_EQ(after_reset.sum_seconds, 110e-6);
  // A restart with more calls than before is still a reset: the run_id changed.
  acc.BeginCycle("run2");
  auto after_restart = acc.Update(Reply("get", 500, {{1, 500}}), 600);
  EXPECT_EQ(after_restart.count, 605u);
  EXPECT_EQ(after_restart.cumulative[0], 600u);
  // A bucket that shrank while the total grew (cannot happen within one run) is a reset too.
  acc.BeginCycle("run2");
  auto odd = acc.Update(Reply("get", 501, {{1, 400}, {2, 501}}), 601);
  EXPECT_EQ(odd.count, 605u + 501u);
}

TEST(RedisLatencyAccumulatorTest, command_away_from_top_k_catches_up_on_return) {
  LatencyAccumulator acc;
  acc.BeginCycle("r");
  acc.Update(Reply("set", 10, {{1, 10}}), 10);
  acc.BeginCycle("r");  // set not in the top-K this cycle
  acc.Update(Reply("get", 1, {{1, 1}}), 1);
  acc.BeginCycle("r");
  auto back = acc.Update(Reply("set", 30, {{1, 30}}), 30);
  EXPECT_EQ(back.count, 30u);
  EXPECT_EQ(acc.size(), 2u);
}

TEST(RedisLatencySelectTest, busiest_by_calls_since_previous_cycle) {
  std::vector<CommandStat> stats = {{"get", 1000, 0, {}, {}},
                                    {"set", 500, 0, {}, {}},
                                    {"info", 30, 0, {}, {}},
                                    {"ping", 30, 0, {}, {}}};
  std::vector<const CommandStat*> ptrs;
  for (const auto& s : stats) ptrs.push_back(&s);
  EXPECT_EQ(SelectBusiest(ptrs, {}, 2), (std::vector<std::string>{"get", "set"}))
      << "first cycle: lifetime calls";
  std::unordered_map<std::string, double> previous = {
      {"get", 999}, {"set", 400}, {"info", 10}, {"ping", 30}};
  EXPECT_EQ(SelectBusiest(ptrs, previous, 2), (std::vector<std::string>{"set", "info"}));
  EXPECT_EQ(SelectBusiest(ptrs, previous, 10).size(), 4u);
  // Idle: equal deltas (0) fall back to lifetime calls, then name.
  std::unordered_map<std::string, double> idle = {
      {"get", 1000}, {"set", 500}, {"info", 30}, {"ping", 30}};
  EXPECT_EQ(SelectBusiest(ptrs, idle, 4), (std::vector<std::string>{"get", "set", "info", "ping"}));
  // A counter reset counts the calls since.
  std::unordered_map<std::string, double> reset = {{"ping", 1e9}};
  EXPECT_EQ(SelectBusiest(ptrs, reset, 1), (std::vector<std::string>{"get"}));
}

}  // namespace
}  // namespace tacho::collectors::redis
