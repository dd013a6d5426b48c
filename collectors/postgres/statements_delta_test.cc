#include "collectors/postgres/statements_delta.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace tacho::collectors::postgres {
namespace {

constexpr std::size_t kCalls = StatementCounterIndex("calls");
constexpr std::size_t kTotalTime = StatementCounterIndex("total_time");
constexpr std::size_t kRows = StatementCounterIndex("rows");

StatementRow Row(std::int64_t queryid, double calls, double time_ms, std::uint32_t dbid = 5,
                 std::uint32_t userid = 10, bool toplevel = true) {
  StatementRow r;
  r.key = {userid, dbid, queryid};
  r.toplevel = toplevel;
  r.counters[kCalls] = calls;
  r.counters[kTotalTime] = time_ms;
  r.counters[kRows] = calls * 2;
  return r;
}

const ExportedStatement* Find(const StatementsDelta& d, std::int64_t queryid) {
  for (const auto& e : d.exported()) {
    if (e.key.queryid == queryid) return &e;
  }
  return nullptr;
}

double Calls(const StatementsDelta& d, std::int64_t queryid) {
  const ExportedStatement* e = Find(d, queryid);
  return e == nullptr ? -1 : e->totals[kCalls];
}

TEST(PgStatementsDeltaTest, first_cycle_exports_the_raw_counters) {
  StatementsDelta d;
  d.Update({Row(1, 100, 5000), Row(2, 3, 10)}, std::nullopt);
  EXPECT_EQ(Calls(d, 1), 100);
  EXPECT_EQ(Calls(d, 2), 3);
  EXPECT_EQ(Find(d, 1)->totals[kTotalTime], 5000);
  EXPECT_EQ(Find(d, 1)->totals[kRows], 200);
}

TEST(PgStatementsDeltaTest, deltas_accumulate_between_cycles) {
  StatementsDelta d;
  d.Update({Row(1, 100, 5000)}, std::nullopt);
  d.Update({Row(1, 150, 5500)}, std::nullopt);
  d.Update({Row(1, 151, 5501)}, std::nullopt);
  EXPECT_EQ(Calls(d, 1), 151);
  EXPECT_DOUBLE_EQ(Find(d, 1)->totals[kTotalTime], 5501);
  EXPECT_EQ(d.rebaselines(), 0u);
}

TEST(PgStatementsDeltaTest, reset_between_cycles_yields_no_negative_delta) {
  StatementsDelta d;
  d.Update({Row(1, 1000, 9000)}, std::nullopt);
  // pg_stat_statements_reset(): the entry restarts; 4 calls happened since.
  d.Update({Row(1, 4, 20)}, std::nullopt);
  EXPECT_EQ(Calls(d, 1), 1004);
  EXPECT_DOUBLE_EQ(Find(d, 1)->totals[kTotalTime], 9020);
  EXPECT_EQ(d.rebaselines(), 1u);
  d.Update({Row(1, 10, 50)}, std::nullopt);
  EXPECT_EQ(Calls(d, 1), 1010);
}

TEST(PgStatementsDeltaTest, reset_marker_change_rebaselines_even_when_counters_grew) {
  // 14+: pg_stat_statements_info.stats_reset moved, so every row restarted, even one that
  // has already more calls than before the reset.
  StatementsDelta d;
  d.Update({Row(1, 10, 100)}, 1000.0);
  d.Update({Row(1, 25, 250)}, 2000.0);
  EXPECT_EQ(Calls(d, 1), 35);
  EXPECT_EQ(d.rebaselines(), 1u);
  d.Update({Row(1, 30, 300)}, 2000.0);
  EXPECT_EQ(Calls(d, 1), 40);
}

TEST(PgStatementsDeltaTest, evicted_and_recreated_entry_rebaselines_without_a_spike) {
  StatementsDelta d({.top_k = 10});
  d.Update({Row(1, 500, 5000), Row(2, 1, 1)}, std::nullopt);
  d.Update({Row(2, 2, 2)}, std::nullopt);  // 1 evicted
  ASSERT_NE(Find(d, 1), nullptr);          // still exported (sticky), frozen
  EXPECT_FALSE(Find(d, 1)->present);
  EXPECT_EQ(Calls(d, 1), 500);
  d.Update({Row(1, 7, 70), Row(2, 3, 3)}, std::nullopt);  // re-created with 7 calls
  EXPECT_EQ(Calls(d, 1), 507);
  EXPECT_TRUE(Find(d, 1)->present);
}

TEST(PgStatementsDeltaTest, recreated_entry_is_detected_by_stats_since) {
  // 17+: stats_since tells a re-created entry apart even when its counters grew past the old.
  StatementsDelta d;
  StatementRow a = Row(1, 10, 100);
  a.stats_since = 1000;
  d.Update({a}, std::nullopt);
  StatementRow b = Row(1, 40, 400);
  b.stats_since = 1500;
  d.Update({b}, std::nullopt);
  EXPECT_EQ(Calls(d, 1), 50);
}

TEST(PgStatementsDeltaTest, toplevel_duplicates_are_summed_and_tracked_apart) {
  StatementsDelta d;
  d.Update({Row(1, 10, 100, 5, 10, true), Row(1, 90, 900, 5, 10, false)}, std::nullopt);
  EXPECT_EQ(d.exported().size(), 1u);
  EXPECT_EQ(Calls(d, 1), 100);
  // The nested row is reset on its own: the top-level row keeps its delta.
  d.Update({Row(1, 15, 150, 5, 10, true), Row(1, 3, 30, 5, 10, false)}, std::nullopt);
  EXPECT_EQ(Calls(d, 1), 108);
  EXPECT_EQ(d.present(), 1u);
}

TEST(PgStatementsDeltaTest, duplicate_rows_in_one_cycle_are_summed) {
  StatementsDelta d;
  d.Update({Row(1, 10, 100), Row(1, 5, 50)}, std::nullopt);
  EXPECT_EQ(Calls(d, 1), 15);
  d.Update({Row(1, 11, 110), Row(1, 5, 50)}, std::nullopt);
  EXPECT_EQ(Calls(d, 1), 16);
  EXPECT_EQ(d.rebaselines(), 0u);
}

TEST(PgStatementsDeltaTest, same_queryid_in_two_databases_or_users_is_two_statements) {
  StatementsDelta d;
  d.Update({Row(1, 10, 100, 5, 10), Row(1, 20, 100, 6, 10), Row(1, 30, 100, 5, 11)}, std::nullopt);
  EXPECT_EQ(d.exported().size(), 3u);
  EXPECT_EQ(d.present(), 3u);
}

TEST(PgStatementsDeltaTest, database_totals_are_exact_over_all_statements) {
  StatementsDelta d({.top_k = 2});
  std::vector<StatementRow> rows;
  for (int q = 1; q <= 50; ++q) rows.push_back(Row(q, q, q * 10.0, q % 2 == 0 ? 5 : 6));
  d.Update(rows, std::nullopt);
  EXPECT_EQ(d.exported().size(), 2u);
  EXPECT_EQ(d.dropped(), 48u);
  double even = 0, odd = 0;
  for (int q = 1; q <= 50; ++q) (q % 2 == 0 ? even : odd) += q;
  EXPECT_EQ(d.database_totals().at(5)[kCalls], even);
  EXPECT_EQ(d.database_totals().at(6)[kCalls], odd);
  // Statement 7 is reset and one of the others evicted: totals stay monotonic and exact.
  rows.erase(rows.begin() + 49);  // q=50 (dbid 5) evicted
  for (auto& r : rows) r.counters[kCalls] += 1;
  rows[6].counters[kCalls] = 2;  // q=7 reset: 2 calls since
  d.Update(rows, std::nullopt);
  EXPECT_EQ(d.database_totals().at(5)[kCalls], even + 24);
  EXPECT_EQ(d.database_totals().at(6)[kCalls], odd + 24 + 2);
}

TEST(PgStatementsDeltaTest, top_k_ranks_by_recent_total_time) {
  StatementsDelta d({.top_k = 1, .score_windows = 2, .sticky_windows = 0});
  d.Update({Row(1, 1, 1'000'000), Row(2, 1, 10)}, std::nullopt);
  EXPECT_EQ(d.exported().at(0).key.queryid, 1);  // historically heaviest first
  // From now on only 2 is busy: once 1's first window has aged out, 2 leads.
  d.Update({Row(1, 1, 1'000'000), Row(2, 2, 1010)}, std::nullopt);
  d.Update({Row(1, 1, 1'000'000), Row(2, 3, 2010)}, std::nullopt);
  ASSERT_EQ(d.exported().size(), 1u);
  EXPECT_EQ(d.exported().at(0).key.queryid, 2);
}

TEST(PgStatementsDeltaTest, top_k_is_sticky_for_several_windows) {
  StatementsDelta d({.top_k = 1, .score_windows = 1, .sticky_windows = 3});
  d.Update({Row(1, 1, 100), Row(2, 1, 1)}, std::nullopt);
  ASSERT_NE(Find(d, 1), nullptr);
  double t2 = 1;
  std::vector<std::size_t> sizes;
  for (int cycle = 0; cycle < 5; ++cycle) {
    t2 += 1000;  // 2 is now the busiest
    d.Update({Row(1, 1, 100), Row(2, 1 + cycle, t2)}, std::nullopt);
    EXPECT_EQ(d.exported().at(0).key.queryid, 2);
    sizes.push_back(d.exported().size());
  }
  // 1 left the top K at cycle 2 and stays exported for 3 more cycles, then drops out.
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 2, 1, 1}));
}

TEST(PgStatementsDeltaTest, sticky_statements_are_bounded_by_max_exported) {
  StatementsDelta d({.top_k = 2, .score_windows = 1, .sticky_windows = 10, .max_exported = 5});
  std::map<std::int64_t, double> time;
  for (int cycle = 0; cycle < 10; ++cycle) {
    std::vector<StatementRow> rows;
    for (int q = 1; q <= 30; ++q) {
      // Each cycle a different pair of statements is the busiest.
      if (q / 2 == cycle) time[q] += 1000;
      rows.push_back(Row(q, 1, time[q] + 1));
    }
    d.Update(rows, std::nullopt);
    EXPECT_LE(d.exported().size(), 5u);
  }
  EXPECT_EQ(d.exported().size(), 5u);
  EXPECT_EQ(d.dropped(), 25u);
}

TEST(PgStatementsDeltaTest, evicted_statement_is_forgotten_after_it_stops_being_sticky) {
  StatementsDelta d({.top_k = 5, .sticky_windows = 2});
  d.Update({Row(1, 9, 1), Row(2, 1, 1)}, std::nullopt);
  for (int i = 0; i < 5; ++i) d.Update({Row(2, 1, 1)}, std::nullopt);
  EXPECT_EQ(Find(d, 1), nullptr);
  EXPECT_EQ(d.tracked(), 1u);
  EXPECT_EQ(d.retired(), 1u);
  // Coming back much later (re-created), its series continues where it left off.
  d.Update({Row(1, 3, 3), Row(2, 1, 1)}, std::nullopt);
  EXPECT_EQ(Calls(d, 1), 12);
  EXPECT_EQ(d.retired(), 0u);
}

TEST(PgStatementsDeltaTest, never_exported_statements_are_not_retired) {
  StatementsDelta d({.top_k = 1, .sticky_windows = 0});
  d.Update({Row(1, 100, 100), Row(2, 1, 1)}, std::nullopt);
  for (int i = 0; i < 3; ++i) d.Update({Row(1, 100, 100)}, std::nullopt);
  EXPECT_EQ(d.retired(), 0u);
  EXPECT_EQ(d.tracked(), 1u);
}

TEST(PgStatementsDeltaTest, retired_totals_are_bounded) {
  StatementsDelta d({.top_k = 1, .sticky_windows = 0, .max_retired = 3});
  for (int q = 1; q <= 10; ++q) d.Update({Row(q, 1, 1)}, std::nullopt);
  for (int i = 0; i < 3; ++i) d.Update({}, std::nullopt);
  EXPECT_EQ(d.retired(), 3u);
}

TEST(PgStatementsDeltaTest, exported_counters_never_decrease_through_random_resets) {
  std::mt19937 rng(42);
  StatementsDelta d({.top_k = 5, .sticky_windows = 3});
  std::map<std::int64_t, double> raw_calls;
  std::map<std::int64_t, std::pair<double, int>> last_exported;  // value, cycle
  for (int cycle = 0; cycle < 300; ++cycle) {
    std::vector<StatementRow> rows;
    for (std::int64_t q = 1; q <= 12; ++q) {
      const int dice = static_cast<int>(rng() % 20);
      if (dice == 0) {
        raw_calls.erase(q);
        continue;
      }                                 // evicted
      if (dice == 1) raw_calls[q] = 0;  // reset
      raw_calls[q] += static_cast<double>(rng() % 50);
      rows.push_back(Row(q, raw_calls[q], raw_calls[q] * (1 + q % 3)));
    }
    d.Update(rows, std::nullopt);
    for (const auto& e : d.exported()) {
      const double calls = e.totals[kCalls];
      auto it = last_exported.find(e.key.queryid);
      if (it != last_exported.end()) {
        EXPECT_GE(calls, it->second.first) << "queryid " << e.key.queryid << " cycle " << cycle;
        // No spike: a cycle never adds more than the 49 calls a cycle can bring.
        EXPECT_LE(calls - it->second.first, 49.0 * (cycle - it->second.second))
            << "queryid " << e.key.queryid << " cycle " << cycle;
      }
      last_exported[e.key.queryid] = {calls, cycle};
    }
  }
}

}  // namespace
}  // namespace tacho::collectors::postgres
