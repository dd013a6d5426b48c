#include "collectors/redis/backoff.h"

#include <algorithm>

namespace tacho::collectors::redis {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                 std::uint64_t seed)
    : initial_(initial), max_(std::max(initial, max)), random_(seed) {}

std::chrono::milliseconds Backoff::Next() {
  std::int64_t base = initial_.count();
  for (int i = 0; i < attempt_ && base < max_.count(); ++i) base *= 2;
  base = std::min<std::int64_t>(base, max_.count());
  if (attempt_ < 62) ++attempt_;
  std::uniform_int_distribution<std::int64_t> jitter(base / 2, base);
  return std::chrono::milliseconds(jitter(random_));
}

}  // namespace tacho::collectors::redis
