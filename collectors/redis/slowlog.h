// Counting new slowlog entries between cycles. Slowlog ids grow by one per entry for the life
// of the server (SLOWLOG RESET empties the log but keeps counting), so "new" is "id above the
// newest seen before"; a new run_id (restart) starts again from nothing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collectors/redis/replies.h"

namespace tacho::collectors::redis {

class SlowlogTracker {
 public:
  struct CommandTotals {
    std::uint64_t entries = 0;
    double duration_seconds = 0;
  };

  // How many entries are new given the newest id now (nullopt: the log is empty). The first
  // call for a server is a baseline: nothing that was already there counts as new.
  std::uint64_t Pending(const std::string& run_id, std::optional<std::int64_t> newest_id);

  // Counts the entries (newest first, as SLOWLOG GET returns them) newer than the last seen,
  // after Pending() for the same cycle. Entries that were new but not fetched (more than the
  // fetch limit, or trimmed by slowlog-max-len) are counted in missed().
  void Record(const std::vector<SlowlogEntry>& newest_first);

  const std::map<std::string, CommandTotals>& totals() const { return totals_; }
  std::uint64_t missed() const { return missed_; }
  // The longest duration among the entries counted by the latest Record(), seconds; 0 if none.
  double longest_new_seconds() const { return longest_new_seconds_; }

 private:
  std::string run_id_;
  bool baseline_ = false;
  std::int64_t last_id_ = -1;  // newest id already counted; -1: none
  std::int64_t pending_newest_ = -1;
  std::uint64_t pending_ = 0;
  std::map<std::string, CommandTotals> totals_;
  std::uint64_t missed_ = 0;
  double longest_new_seconds_ = 0;
};

}  // namespace tacho::collectors::redis
