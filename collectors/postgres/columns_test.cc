#include "collectors/postgres/columns.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/test_files.h"

namespace tacho::collectors::postgres {
namespace {

ColumnMap Fixture(const std::string& name) {
  ColumnMap columns = ParseColumnList(base::testing::ReadTestFile(
      std::string(TACHO_SOURCE_DIR) + "/collectors/postgres/testdata/" + name));
  EXPECT_FALSE(columns.empty()) << name;
  return columns;
}

constexpr std::size_t kTotalTime = StatementCounterIndex("total_time");
constexpr std::size_t kBlkReadTime = StatementCounterIndex("blk_read_time");
constexpr std::size_t kBlkWriteTime = StatementCounterIndex("blk_write_time");

std::string SourceOf(const ColumnMap& columns, const std::vector<ColumnMetric>& specs,
                     const std::string& metric) {
  for (const ResolvedMetric& m : Resolve(columns, specs)) {
    if (m.spec->metric == metric) return m.relation + "." + m.column;
  }
  return "";
}

TEST(ColumnListTest, parses_lines_and_ignores_comments_and_schemas) {
  ColumnMap m = ParseColumnList(
      "# comment\n\npg_stat_wal wal_bytes\r\npublic.pg_stat_statements  calls \n"
      "garbage\npg_stat_wal wal_fpi\n");
  EXPECT_EQ(m.size(), 2u);
  EXPECT_TRUE(HasColumn(m, "pg_stat_wal", "wal_fpi"));
  EXPECT_TRUE(HasColumn(m, "pg_stat_statements", "calls"));
  EXPECT_FALSE(HasColumn(m, "pg_stat_io", "reads"));
}

TEST(ColumnDiscoveryTest, pg12_statements_use_total_time) {
  StatementsColumns c = DiscoverStatementsColumns(Fixture("columns-pg12.txt"));
  EXPECT_TRUE(c.usable);
  EXPECT_EQ(c.counters[kTotalTime], "total_time");
  EXPECT_EQ(c.counters[kBlkReadTime], "blk_read_time");
  EXPECT_EQ(c.counters[kBlkWriteTime], "blk_write_time");
  EXPECT_FALSE(c.toplevel);
  EXPECT_FALSE(c.stats_since);
  EXPECT_FALSE(c.info_view);
}

TEST(ColumnDiscoveryTest, pg13_statements_use_total_exec_time) {
  StatementsColumns c = DiscoverStatementsColumns(Fixture("columns-pg13.txt"));
  EXPECT_TRUE(c.usable);
  EXPECT_EQ(c.counters[kTotalTime], "total_exec_time");
  EXPECT_FALSE(c.toplevel);
  EXPECT_FALSE(c.info_view);
}

TEST(ColumnDiscoveryTest, pg14_statements_have_toplevel_and_info_view) {
  StatementsColumns c = DiscoverStatementsColumns(Fixture("columns-pg14.txt"));
  EXPECT_EQ(c.counters[kTotalTime], "total_exec_time");
  EXPECT_TRUE(c.toplevel);
  EXPECT_TRUE(c.info_view);
  EXPECT_FALSE(c.stats_since);
}

TEST(ColumnDiscoveryTest, pg15_capture_matches_pg14_shape) {
  StatementsColumns c = DiscoverStatementsColumns(Fixture("columns-pg15.txt"));
  EXPECT_EQ(c.counters[kTotalTime], "total_exec_time");
  EXPECT_EQ(c.counters[kBlkReadTime], "blk_read_time");
  EXPECT_TRUE(c.toplevel);
  EXPECT_TRUE(c.info_view);
}

TEST(ColumnDiscoveryTest, pg17_statements_sum_shared_and_local_block_times) {
  StatementsColumns c = DiscoverStatementsColumns(Fixture("columns-pg17.txt"));
  EXPECT_TRUE(c.usable);
  EXPECT_EQ(c.counters[kBlkReadTime], "shared_blk_read_time + local_blk_read_time");
  EXPECT_EQ(c.counters[kBlkWriteTime], "shared_blk_write_time + local_blk_write_time");
  EXPECT_TRUE(c.stats_since);
}

TEST(ColumnDiscoveryTest, missing_extension_is_not_usable) {
  ColumnMap m = Fixture("columns-pg15.txt");
  m.erase("pg_stat_statements");
  EXPECT_FALSE(DiscoverStatementsColumns(m).usable);
}

TEST(ColumnDiscoveryTest, checkpoints_come_from_pg_stat_checkpointer_on_17_under_old_names) {
  ColumnMap pg15 = Fixture("columns-pg15.txt");
  ColumnMap pg17 = Fixture("columns-pg17.txt");
  const auto& specs = CheckpointMetrics();
  EXPECT_EQ(SourceOf(pg15, specs, "pg_stat_bgwriter_checkpoints_timed_total"),
            "pg_stat_bgwriter.checkpoints_timed");
  EXPECT_EQ(SourceOf(pg17, specs, "pg_stat_bgwriter_checkpoints_timed_total"),
            "pg_stat_checkpointer.num_timed");
  EXPECT_EQ(SourceOf(pg17, specs, "pg_stat_bgwriter_buffers_checkpoint_total"),
            "pg_stat_checkpointer.buffers_written");
  EXPECT_EQ(SourceOf(pg17, specs, "pg_stat_bgwriter_buffers_clean_total"),
            "pg_stat_bgwriter.buffers_clean");
  // Removed in 17 (moved to pg_stat_io): left out rather than exported as 0.
  EXPECT_EQ(SourceOf(pg17, specs, "pg_stat_bgwriter_buffers_backend_total"), "");
  EXPECT_EQ(SourceOf(pg15, specs, "pg_stat_bgwriter_buffers_backend_total"),
            "pg_stat_bgwriter.buffers_backend");
}

TEST(ColumnDiscoveryTest, wal_io_and_session_statistics_follow_the_server) {
  EXPECT_TRUE(Resolve(Fixture("columns-pg13.txt"), WalMetrics()).empty());
  EXPECT_EQ(Resolve(Fixture("columns-pg14.txt"), WalMetrics()).size(), WalMetrics().size());
  EXPECT_TRUE(Resolve(Fixture("columns-pg15.txt"), IoMetrics()).empty());
  EXPECT_EQ(Resolve(Fixture("columns-pg17.txt"), IoMetrics()).size(), IoMetrics().size());
  const std::string session = "pg_stat_database_session_time_seconds_total";
  EXPECT_EQ(SourceOf(Fixture("columns-pg12.txt"), DatabaseMetrics(), session), "");
  EXPECT_EQ(SourceOf(Fixture("columns-pg14.txt"), DatabaseMetrics(), session),
            "pg_stat_database.session_time");
  EXPECT_EQ(
      SourceOf(Fixture("columns-pg12.txt"), DatabaseMetrics(), "pg_stat_database_xact_commit"),
      "pg_stat_database.xact_commit");
}

TEST(StatementsQueryTest, aliases_are_the_same_on_every_version) {
  for (const char* name : {"columns-pg12.txt", "columns-pg14.txt", "columns-pg17.txt"}) {
    const std::string sql =
        BuildStatementsQuery(DiscoverStatementsColumns(Fixture(name)), "public");
    SCOPED_TRACE(name);
    for (const char* alias : {"toplevel", "AS total_time", "AS blk_read_time", "AS blk_write_time",
                              "stats_since", "FROM public.pg_stat_statements(false)"}) {
      EXPECT_NE(sql.find(alias), std::string::npos) << alias << " in " << sql;
    }
  }
  EXPECT_NE(BuildStatementsQuery(DiscoverStatementsColumns(Fixture("columns-pg12.txt")), "public")
                .find("true AS toplevel"),
            std::string::npos);
}

TEST(StatementsQueryTest, select_list_follows_the_counter_table_on_each_version) {
  EXPECT_EQ(BuildStatementsQuery(DiscoverStatementsColumns(Fixture("columns-pg12.txt")), "public"),
            "SELECT userid, dbid, queryid, true AS toplevel, calls, total_time AS total_time, "
            "rows, blk_read_time AS blk_read_time, blk_write_time AS blk_write_time, "
            "shared_blks_hit, shared_blks_read, temp_blks_read, temp_blks_written, "
            "NULL::float8 AS stats_since FROM public.pg_stat_statements(false)");
  EXPECT_EQ(BuildStatementsQuery(DiscoverStatementsColumns(Fixture("columns-pg14.txt")), "\"s\""),
            "SELECT userid, dbid, queryid, toplevel, calls, total_exec_time AS total_time, rows, "
            "blk_read_time AS blk_read_time, blk_write_time AS blk_write_time, shared_blks_hit, "
            "shared_blks_read, temp_blks_read, temp_blks_written, NULL::float8 AS stats_since "
            "FROM \"s\".pg_stat_statements(false)");
  EXPECT_EQ(BuildStatementsQuery(DiscoverStatementsColumns(Fixture("columns-pg17.txt")), "public"),
            "SELECT userid, dbid, queryid, toplevel, calls, total_exec_time AS total_time, rows, "
            "shared_blk_read_time + local_blk_read_time AS blk_read_time, "
            "shared_blk_write_time + local_blk_write_time AS blk_write_time, shared_blks_hit, "
            "shared_blks_read, temp_blks_read, temp_blks_written, "
            "extract(epoch from stats_since)::float8 AS stats_since "
            "FROM public.pg_stat_statements(false)");
}

TEST(StatementsQueryTest, a_missing_optional_counter_reads_zero_and_a_required_one_is_unusable) {
  ColumnMap m = Fixture("columns-pg15.txt");
  m["pg_stat_statements"].erase("temp_blks_written");
  StatementsColumns c = DiscoverStatementsColumns(m);
  EXPECT_TRUE(c.usable);
  EXPECT_EQ(c.counters[StatementCounterIndex("temp_blks_written")], "0::float8");
  EXPECT_NE(BuildStatementsQuery(c, "public").find("0::float8 AS temp_blks_written"),
            std::string::npos);
  m["pg_stat_statements"].erase("rows");
  EXPECT_FALSE(DiscoverStatementsColumns(m).usable);
}

TEST(StatementsFamiliesTest, families_and_units_are_pinned) {
  std::vector<std::string> lines;
  for (const StatementCounterSpec& spec : kStatementCounters) {
    lines.push_back(StatementFamily(spec) + " " + DatabaseFamily(spec) + " x" +
                    std::to_string(spec.scale));
  }
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "pg_stat_statements_calls_total pg_stat_statements_database_calls_total "
                       "x1.000000",
                       "pg_stat_statements_seconds_total pg_stat_statements_database_seconds_total "
                       "x0.001000",
                       "pg_stat_statements_rows_total pg_stat_statements_database_rows_total "
                       "x1.000000",
                       "pg_stat_statements_block_read_seconds_total "
                       "pg_stat_statements_database_block_read_seconds_total x0.001000",
                       "pg_stat_statements_block_write_seconds_total "
                       "pg_stat_statements_database_block_write_seconds_total x0.001000",
                       "pg_stat_statements_shared_blocks_hit_total "
                       "pg_stat_statements_database_shared_blocks_hit_total x1.000000",
                       "pg_stat_statements_shared_blocks_read_total "
                       "pg_stat_statements_database_shared_blocks_read_total x1.000000",
                       "pg_stat_statements_temp_blocks_read_total "
                       "pg_stat_statements_database_temp_blocks_read_total x1.000000",
                       "pg_stat_statements_temp_blocks_written_total "
                       "pg_stat_statements_database_temp_blocks_written_total x1.000000",
                   }));
  EXPECT_EQ(DatabaseHelp(kStatementCounters[0]),
            "Number of times executed. Summed over every statement of the database (exact, not "
            "capped).");
}

TEST(OneRowQueryTest, cross_joins_the_views_involved) {
  const auto metrics = Resolve(Fixture("columns-pg17.txt"), CheckpointMetrics());
  const std::string sql = BuildOneRowQuery(metrics);
  EXPECT_NE(sql.find("pg_catalog.pg_stat_checkpointer r0"), std::string::npos) << sql;
  EXPECT_NE(sql.find("CROSS JOIN pg_catalog.pg_stat_bgwriter r1"), std::string::npos) << sql;
  EXPECT_NE(sql.find("r0.num_timed::float8 AS m0"), std::string::npos) << sql;
  EXPECT_EQ(BuildOneRowQuery({}), "");
}

}  // namespace
}  // namespace tacho::collectors::postgres
