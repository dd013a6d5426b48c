#include "collectors/redis/slowlog.h"

#include <algorithm>

namespace tacho::collectors::redis {

std::uint64_t SlowlogTracker::Pending(const std::string& run_id,
                                      std::optional<std::int64_t> newest_id) {
  const std::int64_t newest = newest_id.value_or(-1);
  if (!baseline_) {
    // First sight of this target: what is already in the log happened before tacho watched.
    baseline_ = true;
    run_id_ = run_id;
    last_id_ = newest;
    pending_newest_ = newest;
    pending_ = 0;
    return 0;
  }
  if (run_id != run_id_ || newest < last_id_) {
    // Restarted: every entry in the log is from the new server's life.
    run_id_ = run_id;
    last_id_ = -1;
  }
  pending_newest_ = newest;
  pending_ = newest > last_id_ ? static_cast<std::uint64_t>(newest - last_id_) : 0;
  return pending_;
}

void SlowlogTracker::Record(const std::vector<SlowlogEntry>& newest_first) {
  longest_new_seconds_ = 0;
  std::uint64_t counted = 0;
  for (const SlowlogEntry& e : newest_first) {
    if (e.id <= last_id_ || e.id > pending_newest_) continue;
    CommandTotals& t = totals_[e.command];
    const double seconds = static_cast<double>(e.duration_us) * 1e-6;
    ++t.entries;
    t.duration_seconds += seconds;
    longest_new_seconds_ = std::max(longest_new_seconds_, seconds);
    ++counted;
  }
  if (pending_ > counted) missed_ += pending_ - counted;
  last_id_ = std::max(last_id_, pending_newest_);
  pending_ = 0;
}

}  // namespace tacho::collectors::redis
