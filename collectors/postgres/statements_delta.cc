#include "collectors/postgres/statements_delta.h"

#include <algorithm>
#include <tuple>

namespace tacho::collectors::postgres {
namespace {

void Add(StatementCounters& into, const StatementCounters& delta) {
  for (std::size_t i = 0; i < kStatementCounterCount; ++i) into[i] += delta[i];
}

// True when any counter went backwards: the row restarted since the previous cycle.
bool Decreased(const StatementCounters& now, const StatementCounters& before) {
  for (std::size_t i = 0; i < kStatementCounterCount; ++i) {
    if (now[i] < before[i]) return true;
  }
  return false;
}

}  // namespace

StatementsDelta::StatementsDelta(StatementsDeltaOptions options) : options_(options) {
  options_.score_windows = std::clamp(options_.score_windows, 1, kMaxWindows);
  options_.sticky_windows = std::max(options_.sticky_windows, 0);
  if (options_.max_exported == 0) options_.max_exported = 2 * options_.top_k;
  options_.max_exported = std::max(options_.max_exported, options_.top_k);
  if (options_.max_retired == 0)
    options_.max_retired = std::max<std::size_t>(8 * options_.top_k, 1024);
}

double StatementsDelta::Score(const StatementState& s) const {
  double score = 0;
  const std::uint64_t windows = static_cast<std::uint64_t>(options_.score_windows);
  for (int i = 0; i < options_.score_windows; ++i) {
    if (s.window_cycle[i] != 0 && s.window_cycle[i] + windows > cycle_) score += s.window[i];
  }
  return score;
}

void StatementsDelta::AddToWindow(StatementState& s, double delta) {
  const auto slot =
      static_cast<std::size_t>(cycle_ % static_cast<std::uint64_t>(options_.score_windows));
  if (s.window_cycle[slot] != cycle_) {
    s.window_cycle[slot] = cycle_;
    s.window[slot] = 0;
  }
  s.window[slot] += delta;
}

void StatementsDelta::Update(const std::vector<StatementRow>& rows,
                             std::optional<double> reset_marker) {
  ++cycle_;
  const bool global_reset = reset_marker && reset_marker_ && *reset_marker != *reset_marker_;
  if (reset_marker) reset_marker_ = reset_marker;

  // Rows with the same key are summed first (a server never sends two, but a duplicate must
  // not look like a reset).
  std::unordered_map<RawKey, const StatementRow*, RawKeyHash> seen;
  std::unordered_map<RawKey, StatementRow, RawKeyHash> merged;
  seen.reserve(rows.size());
  for (const StatementRow& row : rows) {
    RawKey rk{row.key, row.toplevel};
    auto [it, inserted] = seen.try_emplace(rk, &row);
    if (!inserted) {
      auto [m, fresh] = merged.try_emplace(rk, *it->second);
      (void)fresh;
      Add(m->second.counters, row.counters);
    }
  }

  present_ = 0;
  for (const auto& [rk, first_row] : seen) {
    auto m = merged.find(rk);
    const StatementRow& row = m != merged.end() ? m->second : *first_row;

    StatementCounters delta{};
    auto [raw_it, is_new] = raw_.try_emplace(rk);
    RawState& raw = raw_it->second;
    if (is_new) {
      // Not there in the previous cycle: everything it holds happened since it was created.
      delta = row.counters;
    } else {
      const bool recreated =
          row.stats_since && raw.stats_since && *row.stats_since != *raw.stats_since;
      if (global_reset || recreated || Decreased(row.counters, raw.last)) {
        delta = row.counters;  // counts since the restart: no negative, no spike
        ++rebaselines_;
      } else {
        for (std::size_t i = 0; i < kStatementCounterCount; ++i) {
          delta[i] = row.counters[i] - raw.last[i];
        }
      }
    }
    raw.last = row.counters;
    raw.stats_since = row.stats_since;
    raw.seen_cycle = cycle_;

    auto [st_it, st_new] = statements_.try_emplace(row.key);
    StatementState& st = st_it->second;
    if (st_new) {
      // An exported statement that was forgotten continues where its series left off.
      if (auto r = retired_.find(row.key); r != retired_.end()) {
        st.totals = r->second;
        retired_.erase(r);
      }
    }
    if (st.seen_cycle != cycle_) {
      st.seen_cycle = cycle_;
      ++present_;
    }
    Add(st.totals, delta);
    AddToWindow(st, delta[kRankCounter]);
    Add(db_totals_[row.key.dbid], delta);
  }

  // A row missing from this cycle was evicted or reset: if it comes back it starts afresh.
  std::erase_if(raw_, [this](const auto& kv) { return kv.second.seen_cycle != cycle_; });
  // Evicted statements are kept while they may still be exported (sticky), then forgotten.
  const std::uint64_t keep = static_cast<std::uint64_t>(options_.sticky_windows) + 1;
  for (auto it = statements_.begin(); it != statements_.end();) {
    if (it->second.seen_cycle + keep >= cycle_) {
      ++it;
      continue;
    }
    if (it->second.topk_cycle != 0) {
      retired_[it->first] = it->second.totals;
      retired_order_.push_back(it->first);
    }
    it = statements_.erase(it);
  }
  while (retired_.size() > options_.max_retired && !retired_order_.empty()) {
    retired_.erase(retired_order_.front());  // a no-op if it came back meanwhile
    retired_order_.pop_front();
  }
  if (retired_order_.size() > 4 * options_.max_retired) {
    // Drop the queue entries of keys that came back (keeps the queue bounded).
    std::erase_if(retired_order_, [this](const StatementKey& k) { return retired_.count(k) == 0; });
  }

  Rank();
}

void StatementsDelta::Rank() {
  // Candidates for the top K: statements present this cycle, by recent total time, then by
  // accumulated total time (so an idle server keeps exporting its heaviest statements), then
  // by key for a stable order.
  struct Candidate {
    double score;
    double total;
    const StatementKey* key;
    StatementState* state;
  };
  std::vector<Candidate> candidates;
  candidates.reserve(present_);
  for (auto& [key, st] : statements_) {
    if (st.seen_cycle != cycle_) continue;
    candidates.push_back({Score(st), st.totals[kRankCounter], &key, &st});
  }
  auto better = [](const Candidate& a, const Candidate& b) {
    return std::tie(b.score, b.total, a.key->queryid, a.key->userid, a.key->dbid) <
           std::tie(a.score, a.total, b.key->queryid, b.key->userid, b.key->dbid);
  };
  const std::size_t k = std::min(options_.top_k, candidates.size());
  if (k < candidates.size()) {
    std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(k),
                     candidates.end(), better);
  }
  std::sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(k), better);
  for (std::size_t i = 0; i < k; ++i) candidates[i].state->topk_cycle = cycle_;

  exported_.clear();
  for (std::size_t i = 0; i < k; ++i) {
    exported_.push_back({*candidates[i].key, candidates[i].state->totals, true});
  }
  // Sticky: ranked in the top K within the last sticky_windows cycles, most recent first.
  struct Sticky {
    std::uint64_t topk_cycle;
    double score;
    const StatementKey* key;
    const StatementState* state;
  };
  std::vector<Sticky> sticky;
  const auto window = static_cast<std::uint64_t>(options_.sticky_windows);
  for (const auto& [key, st] : statements_) {
    if (st.topk_cycle == 0 || st.topk_cycle == cycle_) continue;
    if (st.topk_cycle + window < cycle_) continue;
    sticky.push_back({st.topk_cycle, Score(st), &key, &st});
  }
  std::sort(sticky.begin(), sticky.end(), [](const Sticky& a, const Sticky& b) {
    return std::tie(b.topk_cycle, b.score, a.key->queryid, a.key->userid, a.key->dbid) <
           std::tie(a.topk_cycle, a.score, b.key->queryid, b.key->userid, b.key->dbid);
  });
  std::size_t exported_present = k;
  for (const Sticky& s : sticky) {
    if (exported_.size() >= options_.max_exported) break;
    const bool present = s.state->seen_cycle == cycle_;
    exported_.push_back({*s.key, s.state->totals, present});
    if (present) ++exported_present;
  }
  dropped_ = present_ - exported_present;
}

}  // namespace tacho::collectors::postgres
