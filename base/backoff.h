// Reconnect pacing for every collector that keeps a connection: exponential backoff with
// jitter, so a fleet of agents does not hammer a server that just came back.
#pragma once

#include <chrono>
#include <functional>

namespace tacho::base {

// Not thread-safe; owned by the collection thread.
//
// After the n-th consecutive failure the next attempt waits initial * 2^(n-1), capped at max,
// multiplied by a jitter factor in [0.8, 1.2). Success resets it. A fresh Backoff is ready.
class Backoff {
 public:
  using Clock = std::chrono::steady_clock;
  // jitter01 returns a number in [0, 1); the default draws from a seeded PRNG.
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
          std::function<double()> jitter01 = {});

  bool Ready(Clock::time_point now) const { return now >= next_attempt_; }
  void Failure(Clock::time_point now);
  void Success();

  int failures() const { return failures_; }
  Clock::time_point next_attempt() const { return next_attempt_; }
  // The wait applied after the latest failure (0 when none).
  std::chrono::milliseconds last_delay() const { return last_delay_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::function<double()> jitter01_;
  int failures_ = 0;
  Clock::time_point next_attempt_{};
  std::chrono::milliseconds last_delay_{0};
};

}  // namespace tacho::base
