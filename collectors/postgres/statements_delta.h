// The delta engine behind the pg_stat_statements metrics.
//
// pg_stat_statements holds cumulative counters per (user, database, queryid, toplevel). They
// restart when the statistics are reset (pg_stat_statements_reset(), a crash) and when an
// entry is evicted and later re-created. Exporting them as they are gives Prometheus negative
// jumps, and exporting all of them gives one series set per statement ever seen. This engine
// turns each cycle's raw rows into:
//   - per-statement counters that never decrease: tacho's own accumulation of the per-interval
//     deltas, starting from the raw value the first time a row is seen, so without resets they
//     equal what pg_stat_statements shows;
//   - exact per-database totals over all statements (the same accumulation, never capped);
//   - the set of statements worth exporting: the top K by total time over the recent windows,
//     each staying exported for a few windows after it leaves the top K so series do not flap.
//
// Pure and single-threaded: no I/O, no clock; one call to Update() per collection cycle.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "collectors/postgres/statement_counters.h"

namespace tacho::collectors::postgres {

using StatementCounters = std::array<double, kStatementCounterCount>;  // kStatementCounters order

// Statements are ranked by their total execution time (milliseconds).
inline constexpr std::size_t kRankCounter = StatementCounterIndex("total_time");

struct StatementKey {
  std::uint32_t userid = 0;
  std::uint32_t dbid = 0;
  std::int64_t queryid = 0;
  bool operator==(const StatementKey&) const = default;
};

struct StatementKeyHash {
  std::size_t operator()(const StatementKey& k) const {
    std::uint64_t h = static_cast<std::uint64_t>(k.queryid) * 0x9E3779B97F4A7C15ULL;
    h ^= (static_cast<std::uint64_t>(k.userid) << 32 | k.dbid) + 0x632BE59BD9B4E019ULL + (h << 6) +
         (h >> 2);
    return static_cast<std::size_t>(h);
  }
};

// One row of pg_stat_statements(false).
struct StatementRow {
  StatementKey key;
  bool toplevel = true;  // PostgreSQL 14+ keeps nested and top-level executions apart
  StatementCounters counters{};
  // stats_since (17+) as Unix seconds: a different value means the entry was re-created.
  std::optional<double> stats_since;
};

struct StatementsDeltaOptions {
  std::size_t top_k = 100;
  // "Recent" total time is the sum of the deltas over this many cycles.
  int score_windows = 3;
  // A statement stays exported for this many cycles after it last ranked in the top K.
  int sticky_windows = 5;
  // Hard bound on exported statements (top K plus sticky ones); 0 means 2 * top_k.
  std::size_t max_exported = 0;
  // Forgotten statements that had been exported keep their totals this long (a bounded FIFO;
  // 0 means max(8 * top_k, 1024)), so one that comes back continues its series instead of
  // restarting it lower.
  std::size_t max_retired = 0;
};

struct ExportedStatement {
  StatementKey key;
  StatementCounters totals{};  // monotonic, summed over toplevel
  bool present = true;         // false: evicted, exported only while it stays sticky
};

class StatementsDelta {
 public:
  explicit StatementsDelta(StatementsDeltaOptions options = {});

  // One collection cycle. `reset_marker` is pg_stat_statements_info.stats_reset (14+) as Unix
  // seconds: when it changes, every row restarted from zero.
  void Update(const std::vector<StatementRow>& rows, std::optional<double> reset_marker);

  // After Update(): the statements to export, the current top K first.
  const std::vector<ExportedStatement>& exported() const { return exported_; }
  // dbid -> accumulated totals over every statement ever seen in it (never capped).
  const std::unordered_map<std::uint32_t, StatementCounters>& database_totals() const {
    return db_totals_;
  }
  // Distinct (user, database, queryid) in the latest cycle, and how many of them the cap left
  // out.
  std::size_t present() const { return present_; }
  std::size_t dropped() const { return dropped_; }
  // Statements tracked, including recently evicted ones.
  std::size_t tracked() const { return statements_.size(); }
  // Forgotten exported statements whose totals are kept.
  std::size_t retired() const { return retired_.size(); }
  // Rows whose counters were found to have restarted (reset or re-created), since start.
  std::uint64_t rebaselines() const { return rebaselines_; }
  std::uint64_t cycles() const { return cycle_; }
  const StatementsDeltaOptions& options() const { return options_; }

 private:
  static constexpr int kMaxWindows = 8;  // score_windows is clamped to this

  struct RawKey {
    StatementKey key;
    bool toplevel;
    bool operator==(const RawKey&) const = default;
  };
  struct RawKeyHash {
    std::size_t operator()(const RawKey& k) const {
      return StatementKeyHash{}(k.key) ^ (k.toplevel ? 0x5bd1e995U : 0);
    }
  };
  struct RawState {
    StatementCounters last{};
    std::optional<double> stats_since;
    std::uint64_t seen_cycle = 0;
  };
  struct StatementState {
    StatementCounters totals{};
    std::array<double, kMaxWindows> window{};
    std::array<std::uint64_t, kMaxWindows> window_cycle{};
    std::uint64_t seen_cycle = 0;
    std::uint64_t topk_cycle = 0;  // last cycle it ranked in the top K; 0: never
  };

  double Score(const StatementState& s) const;
  void AddToWindow(StatementState& s, double delta);
  void Rank();

  StatementsDeltaOptions options_;
  std::uint64_t cycle_ = 0;
  std::optional<double> reset_marker_;
  std::unordered_map<RawKey, RawState, RawKeyHash> raw_;
  std::unordered_map<StatementKey, StatementState, StatementKeyHash> statements_;
  std::unordered_map<std::uint32_t, StatementCounters> db_totals_;
  std::unordered_map<StatementKey, StatementCounters, StatementKeyHash> retired_;
  std::deque<StatementKey> retired_order_;
  std::vector<ExportedStatement> exported_;
  std::size_t present_ = 0;
  std::size_t dropped_ = 0;
  std::uint64_t rebaselines_ = 0;
};

}  // namespace tacho::collectors::postgres
