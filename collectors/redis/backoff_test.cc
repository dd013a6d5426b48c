#include "collectors/redis/backoff.h"

#include <gtest/gtest.h>

namespace tacho::collectors::redis {
namespace {

using std::chrono::milliseconds;

TEST(RedisBackoffTest, doubles_with_jitter_up_to_the_cap) {
  Backoff backoff(milliseconds(1000), milliseconds(60000), 42);
  std::int64_t base = 1000;
  for (int i = 0; i < 10; ++i) {
    const auto d = backoff.Next().count();
    EXPECT_GE(d, base / 2) << i;
    EXPECT_LE(d, base) << i;
    base = std::min<std::int64_t>(base * 2, 60000);
  }
  for (int i = 0; i < 100; ++i) EXPECT_LE(backoff.Next().count(), 60000);
}

TEST(RedisBackoffTest, reset_starts_over) {
  Backoff backoff(milliseconds(1000), milliseconds(60000), 7);
  for (int i = 0; i < 8; ++i) backoff.Next();
  EXPECT_GE(backoff.Next().count(), 30000);
  backoff.Reset();
  EXPECT_LE(backoff.Next().count(), 1000);
}

TEST(RedisBackoffTest, jitter_spreads_agents) {
  Backoff a(milliseconds(1000), milliseconds(60000), 1);
  Backoff b(milliseconds(1000), milliseconds(60000), 2);
  bool differ = false;
  for (int i = 0; i < 5; ++i) differ |= a.Next() != b.Next();
  EXPECT_TRUE(differ);
}

}  // namespace
}  // namespace tacho::collectors::redis
