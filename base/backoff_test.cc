#include "base/backoff.h"

#include <gtest/gtest.h>

namespace tacho::base {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, doubles_up_to_the_cap_and_resets_on_success) {
  double jitter = 0.5;  // factor 1.0
  Backoff b(milliseconds(1000), milliseconds(5000), [&jitter] { return jitter; });
  const auto t0 = Backoff::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(b.Ready(t0));
  std::vector<long long> delays;
  for (int i = 0; i < 5; ++i) {
    b.Failure(t0);
    delays.push_back(b.last_delay().count());
  }
  EXPECT_EQ(delays, (std::vector<long long>{1000, 2000, 4000, 5000, 5000}));
  EXPECT_FALSE(b.Ready(t0 + milliseconds(4999)));
  EXPECT_TRUE(b.Ready(t0 + milliseconds(5000)));
  b.Success();
  EXPECT_TRUE(b.Ready(t0));
  EXPECT_EQ(b.failures(), 0);
}

TEST(BackoffTest, jitter_stays_within_twenty_percent) {
  double jitter = 0;
  Backoff b(milliseconds(1000), milliseconds(60000), [&jitter] { return jitter; });
  const auto t0 = Backoff::Clock::time_point{};
  b.Failure(t0);
  EXPECT_EQ(b.last_delay().count(), 800);
  b.Success();
  jitter = 0.999999;
  b.Failure(t0);
  EXPECT_GE(b.last_delay().count(), 1199);
  EXPECT_LT(b.last_delay().count(), 1200);
}

TEST(BackoffTest, default_jitter_is_random_but_bounded) {
  Backoff b(milliseconds(1000), milliseconds(60000));
  for (int i = 0; i < 50; ++i) {
    b.Success();
    b.Failure(Backoff::Clock::time_point{});
    EXPECT_GE(b.last_delay().count(), 800);
    EXPECT_LT(b.last_delay().count(), 1200);
  }
}

}  // namespace
}  // namespace tacho::base
