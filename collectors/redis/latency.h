// Windowed command latency: Redis 7's LATENCY HISTOGRAM (lifetime counts per command) turned
// into Prometheus histograms whose counts only grow, so that rate() over any window gives that
// window's distribution.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "collectors/redis/info_parser.h"
#include "collectors/redis/replies.h"

namespace tacho::collectors::redis {

// Redis records latencies in an HDR histogram (1 µs .. 1 s, 2 significant digits) and reports
// it on a log2 scale starting at 1024 ns: bucket k holds the calls that took at most
// 1024·2^k + 2^(k+3) − 1 ns (the HDR resolution adds 1/128). It prints that bound truncated to
// whole microseconds: 1, 2, 4, 8, 16, 33, 66, 132, 264, ... Redis counts anything slower than
// 1 s as 1 s, so its last bucket (k = 20, 1.08 s) always equals the total: tacho exports
// k = 0..19 (up to 541 ms) and leaves the rest to +Inf.
inline constexpr int kLatencyBuckets = 20;

// Upper bound of bucket k in seconds (1.031e-06, 2.063e-06, ...): the exported `le`.
double LatencyBucketBound(int k);
// The bucket whose bound Redis prints as `usec`; for a value that is not exactly one of them
// (another implementation's resolution), the first bucket whose bound is at least `usec`;
// kLatencyBuckets for a bound above the last bucket (only in the +Inf bucket).
int LatencyBucketIndex(std::uint64_t usec);

// Cumulative counts per bucket of the ladder above, plus total count (the +Inf bucket) and sum.
struct LatencyHistogram {
  std::array<std::uint64_t, kLatencyBuckets> cumulative{};
  std::uint64_t count = 0;
  double sum_seconds = 0;
};

// Redis's reply for one command mapped onto the fixed ladder (buckets Redis left out carry the
// previous cumulative count forward).
LatencyHistogram ToLadder(const CommandHistogram& histogram);

// Keeps one monotonic histogram per command. Each cycle the difference to the previous reply
// is added; a reply with fewer calls than before (CONFIG RESETSTAT, restart) or a new run_id
// counts as a reset: the reply is then the difference. The first reply of a command is taken
// whole, so counts start as "since the server started".
//
// A command that leaves the top-K keeps its state; when it returns, the difference covers the
// cycles it was away. Not thread-safe (one per collector instance).
class LatencyAccumulator {
 public:
  // Call once per cycle before Update(); a changed run_id resets every command.
  void BeginCycle(const std::string& run_id);
  // `usec_total` is the command's cmdstat usec (the histogram reply has no sum).
  const LatencyHistogram& Update(const CommandHistogram& reply, double usec_total);
  std::size_t size() const { return states_.size(); }

 private:
  struct State {
    LatencyHistogram last;  // the previous reply on the ladder
    double last_usec = 0;
    LatencyHistogram total;  // what is exported
    bool reset_pending = false;
  };
  std::string run_id_;
  std::unordered_map<std::string, State> states_;
};

// The `k` busiest commands of this cycle: by calls since the previous cycle (`previous_calls`,
// command -> calls then; a command with fewer calls than before counts its calls from 0), then
// by lifetime calls, then by name, so that idle periods keep a stable set.
std::vector<std::string> SelectBusiest(
    const std::vector<const CommandStat*>& commands,
    const std::unordered_map<std::string, double>& previous_calls, std::size_t k);

}  // namespace tacho::collectors::redis
