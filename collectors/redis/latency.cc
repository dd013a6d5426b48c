#include "collectors/redis/latency.h"

#include <algorithm>
#include <tuple>

namespace tacho::collectors::redis {
namespace {

std::uint64_t BoundNanos(int k) {
  const std::uint64_t base = std::uint64_t{1024} << k;
  return base + (std::uint64_t{8} << k) - 1;
}

}  // namespace

double LatencyBucketBound(int k) { return static_cast<double>(BoundNanos(k)) / 1e9; }

int LatencyBucketIndex(std::uint64_t usec) {
  for (int k = 0; k < kLatencyBuckets; ++k) {
    if (BoundNanos(k) / 1000 >= usec) return k;
  }
  return kLatencyBuckets;
}

LatencyHistogram ToLadder(const CommandHistogram& histogram) {
  LatencyHistogram out;
  std::size_t next = 0;
  std::uint64_t running = 0;
  for (int k = 0; k < kLatencyBuckets; ++k) {
    while (next < histogram.buckets.size() &&
           LatencyBucketIndex(histogram.buckets[next].first) <= k) {
      running = std::max(running, histogram.buckets[next].second);
      ++next;
    }
    out.cumulative[k] = running;
  }
  for (; next < histogram.buckets.size(); ++next) {
    running = std::max(running, histogram.buckets[next].second);
  }
  // "calls" and the last bucket agree; take the larger should a reply ever disagree.
  out.count = std::max(histogram.calls, running);
  return out;
}

void LatencyAccumulator::BeginCycle(const std::string& run_id) {
  if (!run_id_.empty() && run_id != run_id_) {
    for (auto& [name, state] : states_) state.reset_pending = true;
  }
  run_id_ = run_id;
}

const LatencyHistogram& LatencyAccumulator::Update(const CommandHistogram& reply,
                                                   double usec_total) {
  LatencyHistogram now = ToLadder(reply);
  auto [it, inserted] = states_.try_emplace(reply.command);
  State& s = it->second;
  bool reset = inserted || s.reset_pending || now.count < s.last.count;
  for (int k = 0; !reset && k < kLatencyBuckets; ++k) {
    if (now.cumulative[k] < s.last.cumulative[k]) reset = true;
  }
  for (int k = 0; k < kLatencyBuckets; ++k) {
    s.total.cumulative[k] += reset ? now.cumulative[k] : now.cumulative[k] - s.last.cumulative[k];
  }
  s.total.count += reset ? now.count : now.count - s.last.count;
  const double usec_delta =
      (reset || usec_total < s.last_usec) ? usec_total : usec_total - s.last_usec;
  s.total.sum_seconds += usec_delta * 1e-6;
  s.last = now;
  s.last_usec = usec_total;
  s.reset_pending = false;
  return s.total;
}

std::vector<std::string> SelectBusiest(
    const std::vector<const CommandStat*>& commands,
    const std::unordered_map<std::string, double>& previous_calls, std::size_t k) {
  std::vector<std::tuple<double, double, const std::string*>> ranked;
  ranked.reserve(commands.size());
  for (const CommandStat* c : commands) {
    double delta = c->calls;
    if (auto it = previous_calls.find(c->name);
        it != previous_calls.end() && c->calls >= it->second) {
      delta = c->calls - it->second;
    }
    ranked.emplace_back(delta, c->calls, &c->name);
  }
  const std::size_t n = std::min(k, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end(),
                    [](const auto& a, const auto& b) {
                      if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) > std::get<0>(b);
                      if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) > std::get<1>(b);
                      return *std::get<2>(a) < *std::get<2>(b);
                    });
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(*std::get<2>(ranked[i]));
  return out;
}

}  // namespace tacho::collectors::redis
