#include "base/backoff.h"

#include <algorithm>
#include <memory>
#include <random>

namespace tacho::base {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                 std::function<double()> jitter01)
    : initial_(initial), max_(std::max(max, initial)), jitter01_(std::move(jitter01)) {
  if (!jitter01_) {
    auto engine = std::make_shared<std::minstd_rand>(std::random_device{}());
    jitter01_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
}

void Backoff::Failure(Clock::time_point now) {
  ++failures_;
  double delay = static_cast<double>(initial_.count());
  for (int i = 1; i < failures_ && delay < static_cast<double>(max_.count()); ++i) delay *= 2;
  delay = std::min(delay, static_cast<double>(max_.count()));
  delay *= 0.8 + 0.4 * std::clamp(jitter01_(), 0.0, 0.999999);
  last_delay_ = std::chrono::milliseconds(static_cast<long long>(delay));
  next_attempt_ = now + last_delay_;
}

void Backoff::Success() {
  failures_ = 0;
  last_delay_ = std::chrono::milliseconds(0);
  next_attempt_ = Clock::time_point{};
}

}  // namespace tacho::base
