#include "collectors/postgres/columns.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace tacho::collectors::postgres {
namespace {

ColumnMap Fixture(const std::string& name) {
  std::ifstream in(std::string(TACHO_SOURCE_DIR) + "/collectors/postgres/testdata/" + name);
  std::stringstream text;
  text << in.rdbuf();
  ColumnMap columns = ParseColumnList(text.str());
  EXPECT_FALSE(columns.empty()) << name;
  return columns;
}

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
  EXPECT_EQ(c.total_time, "total_time");
  EXPECT_EQ(c.blk_read_time, "blk_read_time");
  EXPECT_EQ(c.blk_write_time, "blk_write_time");
  EXPECT_FALSE(c.toplevel);
  EXPECT_FALSE(c.stats_since);
  EXPECT_FALSE(c.info_view);
}

TEST(ColumnDiscoveryTest, pg13_statements_use_total_exec_time) {
  StatementsColumns c = DiscoverStatementsColumns(Fixture("columns-pg13.txt"));
  EXPECT_TRUE(c.usable);
  EXPECT_EQ(c.total_time, "total_exec_time");
  EXPECT_FALSE(c.toplevel);
  EXPECT_FALSE(c.info_view);
}

TEST(ColumnDiscoveryTest, pg14_statements_have_toplevel_and_info_view) {
  StatementsColumns c = DiscoverStatementsColumns(Fixture("columns-pg14.txt"));
  EXPECT_EQ(c.total_time, "total_exec_time");
  EXPECT_TRUE(c.toplevel);
  EXPECT_TRUE(c.info_view);
  EXPECT_FALSE(c.stats_since);
}

TEST(ColumnDiscoveryTest, pg15_capture_matches_pg14_shape) {
  StatementsColumns c = DiscoverStatementsColumns(Fixture("columns-pg15.txt"));
  EXPECT_EQ(c.total_time, "total_exec_time");
  EXPECT_EQ(c.blk_read_time, "blk_read_time");
  EXPECT_TRUE(c.toplevel);
  EXPECT_TRUE(c.info_view);
}

TEST(ColumnDiscoveryTest, pg17_statements_sum_shared_and_local_block_times) {
  StatementsColumns c = DiscoverStatementsColumns(Fixture("columns-pg17.txt"));
  EXPECT_TRUE(c.usable);
  EXPECT_EQ(c.blk_read_time, "shared_blk_read_time + local_blk_read_time");
  EXPECT_EQ(c.blk_write_time, "shared_blk_write_time + local_blk_write_time");
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
