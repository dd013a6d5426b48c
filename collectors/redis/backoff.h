// Exponential backoff with jitter for reconnecting to a target that failed.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace tacho::collectors::redis {

// Delays double from `initial` up to `max`; each is drawn uniformly from [d/2, d] ("equal
// jitter"), so that many agents that lost the same server don't reconnect in lockstep.
// Not thread-safe.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
          std::uint64_t seed = std::random_device{}());

  // The delay before the next attempt; doubles the base for the one after.
  std::chrono::milliseconds Next();
  // After a success: the next failure waits `initial` again.
  void Reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  int attempt_ = 0;
  std::mt19937_64 random_;
};

}  // namespace tacho::collectors::redis
