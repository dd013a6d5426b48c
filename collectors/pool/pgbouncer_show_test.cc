#include "collectors/pool/pgbouncer_show.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "collectors/pool/test_util.h"

namespace tacho::collectors::pool {
namespace {

using testutil::LoadShow;
using testutil::ParseCsv;

const char* const kVersions[] = {"1.16", "1.17", "1.18", "1.19", "1.20",
                                 "1.21", "1.22", "1.23", "1.24"};

bool HasColumn(const ShowTable& t, const std::string& name) {
  return std::find(t.columns.begin(), t.columns.end(), name) != t.columns.end();
}

const PoolRow* FindPool(const std::vector<PoolRow>& pools, const std::string& database) {
  for (const auto& p : pools)
    if (p.database == database) return &p;
  return nullptr;
}

template <typename Row>
const Row* FindByName(const std::vector<Row>& rows, const std::string& name) {
  for (const auto& r : rows) {
    if constexpr (std::is_same_v<Row, DatabaseRow>) {
      if (r.name == name) return &r;
    } else {
      if (r.database == name) return &r;
    }
  }
  return nullptr;
}

TEST(PgbouncerParseNumberTest, accepts_console_numbers_and_rejects_garbage) {
  EXPECT_EQ(ParseNumber("42"), 42);
  EXPECT_EQ(ParseNumber("-1"), -1);
  EXPECT_EQ(ParseNumber("0.5"), 0.5);
  EXPECT_EQ(ParseNumber("        5"), 5);  // SHOW USERS pads with %9d
  EXPECT_EQ(ParseNumber("18446744073709551615"), 18446744073709551615.0);
  EXPECT_FALSE(ParseCell(std::nullopt));
  EXPECT_EQ(ParseCell(std::string("7")), 7);
  EXPECT_FALSE(ParseNumber(""));
  EXPECT_FALSE(ParseNumber("abc"));
  EXPECT_FALSE(ParseNumber("12x"));
  EXPECT_FALSE(ParseNumber("1 2"));
  EXPECT_FALSE(ParseNumber("inf"));
  EXPECT_FALSE(ParseNumber("nan"));
  EXPECT_FALSE(ParseNumber("1e999"));
}

TEST(PgbouncerCsvTest, unquoted_empty_is_null_and_quoted_fields_keep_commas) {
  const ShowTable t = ParseCsv("a,b,c\n,\"\",\"x, \"\"y\"\"\"\n1,2,3\n");
  ASSERT_EQ(t.columns, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_FALSE(t.rows[0][0].has_value());
  EXPECT_EQ(t.rows[0][1], "");
  EXPECT_EQ(t.rows[0][2], "x, \"y\"");
  EXPECT_EQ(t.rows[1][2], "3");
}

TEST(PgbouncerFixturesTest, every_row_has_one_cell_per_column) {
  for (const char* version : kVersions) {
    for (const char* name : {"version", "pools", "stats", "databases", "config", "lists"}) {
      auto t = LoadShow(version, name);
      ASSERT_TRUE(t) << version << "/" << name;
      EXPECT_FALSE(t->rows.empty()) << version << "/" << name;
      for (const auto& row : t->rows)
        EXPECT_EQ(row.size(), t->columns.size()) << version << "/" << name;
    }
  }
}

// The column sets the fixtures hold, per version, as found in PgBouncer's sources.
TEST(PgbouncerFixturesTest, column_sets_follow_the_versions) {
  for (const char* v : kVersions) {
    const std::string version = v;
    const int minor = std::stoi(version.substr(2));
    auto pools = LoadShow(version, "pools").value();
    auto stats = LoadShow(version, "stats").value();
    auto dbs = LoadShow(version, "databases").value();
    auto lists = ParseLists(LoadShow(version, "lists").value());
    SCOPED_TRACE(version);
    EXPECT_EQ(HasColumn(pools, "cl_cancel_req"), minor < 18);
    EXPECT_EQ(HasColumn(pools, "cl_active_cancel_req"), minor >= 18);
    EXPECT_EQ(HasColumn(pools, "sv_being_canceled"), minor >= 18);
    EXPECT_EQ(HasColumn(pools, "load_balance_hosts"), minor >= 24);
    EXPECT_TRUE(HasColumn(pools, "maxwait_us"));
    EXPECT_EQ(HasColumn(stats, "total_server_assignment_count"), minor >= 23);
    EXPECT_EQ(HasColumn(stats, "total_bind_count"), minor >= 24);
    EXPECT_FALSE(HasColumn(stats, "total_requests"));
    EXPECT_EQ(HasColumn(dbs, "reserve_pool"), minor < 24);
    EXPECT_EQ(HasColumn(dbs, "reserve_pool_size"), minor >= 24);
    EXPECT_EQ(HasColumn(dbs, "server_lifetime"), minor >= 23);
    EXPECT_EQ(HasColumn(dbs, "current_client_connections"), minor >= 24);
    EXPECT_TRUE(HasColumn(dbs, "max_connections"));
    EXPECT_TRUE(HasColumn(dbs, "min_pool_size"));
    EXPECT_EQ(lists.count("peers"), minor >= 19 ? 1u : 0u);
  }
}

TEST(PgbouncerVersionTest, reads_the_version_row) {
  auto t = LoadShow("1.18", "version").value();
  EXPECT_EQ(ParseVersionString(t), "PgBouncer 1.18.0");
  auto v = ParseVersionNumber("PgBouncer 1.18.0");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 1);
  EXPECT_EQ(v->minor, 18);
  EXPECT_EQ(v->patch, 0);
  auto w = ParseVersionNumber("PgBouncer 1.24.1/bouncer");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->minor, 24);
  EXPECT_EQ(w->patch, 1);
  EXPECT_FALSE(ParseVersionNumber("PgBouncer"));
  EXPECT_FALSE(ParseVersionString(ShowTable{{"other"}, {{"x"}}}));
}

TEST(PgbouncerPoolsTest, captured_1_18_combines_maxwait_and_maxwait_us) {
  auto pools = ParsePools(LoadShow("1.18", "pools").value());
  ASSERT_EQ(pools.size(), 2u);
  const PoolRow* p = FindPool(pools, "tacho_test");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->user, "tacho");
  EXPECT_EQ(p->cl_active, 2);
  EXPECT_EQ(p->cl_waiting, 4);
  EXPECT_EQ(p->sv_active, 2);
  EXPECT_EQ(p->sv_active_cancel, 0);
  EXPECT_EQ(p->cl_waiting_cancel_req, 0);
  EXPECT_DOUBLE_EQ(p->maxwait_seconds.value(), 1.486318);
  EXPECT_EQ(p->pool_mode, "transaction");
  EXPECT_FALSE(p->load_balance_hosts);
}

TEST(PgbouncerPoolsTest, cl_cancel_req_before_1_18_reads_as_waiting_cancel_requests) {
  auto pools = ParsePools(LoadShow("1.16", "pools").value());
  const PoolRow* p = FindPool(pools, "app");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->cl_waiting_cancel_req, 1);
  EXPECT_FALSE(p->cl_active_cancel_req);
  EXPECT_FALSE(p->sv_active_cancel);
  EXPECT_FALSE(p->sv_being_canceled);
  // maxwait 0, maxwait_us 250000: a quarter second, not 0.
  EXPECT_DOUBLE_EQ(p->maxwait_seconds.value(), 0.25);
}

TEST(PgbouncerPoolsTest, load_balance_hosts_1_24_is_null_for_single_hosts) {
  auto pools = ParsePools(LoadShow("1.24", "pools").value());
  EXPECT_EQ(FindPool(pools, "app")->load_balance_hosts, "round-robin");
  EXPECT_FALSE(FindPool(pools, "reports")->load_balance_hosts);
  EXPECT_DOUBLE_EQ(FindPool(pools, "reports")->maxwait_seconds.value(), 0.045);
}

TEST(PgbouncerPoolsTest, nulls_garbage_short_rows_and_unknown_columns_leave_fields_empty) {
  ShowTable t;
  t.columns = {"future_column", "user", "database", "cl_waiting", "sv_active", "maxwait_us"};
  t.rows = {{"zz", "u1", "db1", std::nullopt, "abc", "7"},
            {"zz", "u2", "db2", "3"},  // short row
            {"zz", std::nullopt, "db3", "1", "2", std::nullopt}};
  auto pools = ParsePools(t);
  ASSERT_EQ(pools.size(), 3u);
  EXPECT_EQ(pools[0].database, "db1");
  EXPECT_FALSE(pools[0].cl_waiting);
  EXPECT_FALSE(pools[0].sv_active);
  EXPECT_FALSE(pools[0].cl_active);  // column missing
  EXPECT_DOUBLE_EQ(pools[0].maxwait_seconds.value(), 0.000007);
  EXPECT_EQ(pools[1].cl_waiting, 3);
  EXPECT_FALSE(pools[1].sv_active);
  EXPECT_FALSE(pools[1].maxwait_seconds);
  EXPECT_EQ(pools[2].user, "");
  EXPECT_EQ(pools[2].sv_active, 2);
}

TEST(PgbouncerStatsTest, before_1_8_total_requests_avg_req_and_avg_query) {
  // PgBouncer 1.7's SHOW STATS (src/stats.c before 1.8).
  const ShowTable t = ParseCsv(
      "database,total_requests,total_received,total_sent,total_query_time,avg_req,avg_recv,"
      "avg_sent,avg_query\n"
      "app,1000,2000,3000,4000000,5,6,7,800\n");
  auto stats = ParseStats(t);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].total_requests, 1000);
  EXPECT_FALSE(stats[0].total_query_count);
  EXPECT_FALSE(stats[0].total_xact_count);
  EXPECT_EQ(stats[0].total_query_time_us, 4000000);
  EXPECT_EQ(stats[0].avg_query_count, 5);
  EXPECT_EQ(stats[0].avg_query_time_us, 800);
}

TEST(PgbouncerStatsTest, captured_1_18_counters) {
  auto stats = ParseStats(LoadShow("1.18", "stats").value());
  const StatsRow* s = FindByName(stats, "tacho_test");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->total_xact_count, 9);
  EXPECT_EQ(s->total_query_count, 9);
  EXPECT_EQ(s->total_received, 90);
  EXPECT_EQ(s->total_sent, 282);
  EXPECT_EQ(s->total_wait_time_us, 14628);
  EXPECT_EQ(s->avg_wait_time_us, 4991);
  EXPECT_FALSE(s->total_server_assignment_count);
  EXPECT_FALSE(s->total_requests);
}

TEST(PgbouncerStatsTest, server_assignments_1_23_and_prepared_statements_1_24) {
  auto s123 = ParseStats(LoadShow("1.23", "stats").value());
  EXPECT_EQ(FindByName(s123, "app")->total_server_assignment_count, 61000);
  EXPECT_EQ(FindByName(s123, "app")->avg_server_assignment_count, 101);
  EXPECT_FALSE(FindByName(s123, "app")->total_bind_count);
  auto s124 = ParseStats(LoadShow("1.24", "stats").value());
  const StatsRow* app = FindByName(s124, "app");
  EXPECT_EQ(app->total_client_parse_count, 5100);
  EXPECT_EQ(app->total_server_parse_count, 2600);
  EXPECT_EQ(app->total_bind_count, 84000);
  EXPECT_EQ(app->total_query_count, 170000);
}

TEST(PgbouncerStatsTest, unknown_columns_and_order_do_not_matter) {
  // A 1.25-style row with total_client_connect_count, columns shuffled.
  const ShowTable t = ParseCsv(
      "total_client_connect_count,total_query_count,database,avg_client_connect_count\n"
      "77,12,app,3\n");
  auto stats = ParseStats(t);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].database, "app");
  EXPECT_EQ(stats[0].total_query_count, 12);
}

TEST(PgbouncerDatabasesTest, captured_1_18_nulls_and_defaults) {
  auto dbs = ParseDatabases(LoadShow("1.18", "databases").value());
  ASSERT_EQ(dbs.size(), 3u);
  const DatabaseRow* admin = FindByName(dbs, "pgbouncer");
  EXPECT_FALSE(admin->host);  // NULL for the console
  EXPECT_EQ(admin->force_user, "pgbouncer");
  EXPECT_EQ(admin->pool_mode, "statement");
  const DatabaseRow* t = FindByName(dbs, "tacho_test");
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_FALSE(t->force_user);
  EXPECT_FALSE(t->pool_mode);
  EXPECT_EQ(t->pool_size, 2);
  EXPECT_EQ(t->reserve_pool, 0);
  EXPECT_EQ(t->current_connections, 2);
  EXPECT_FALSE(t->server_lifetime_seconds);
  EXPECT_FALSE(t->max_client_connections);
}

TEST(PgbouncerDatabasesTest, reserve_pool_size_1_24_and_server_lifetime_1_23) {
  auto d123 = ParseDatabases(LoadShow("1.23", "databases").value());
  EXPECT_EQ(FindByName(d123, "reports")->server_lifetime_seconds, 1800);
  EXPECT_EQ(FindByName(d123, "app")->reserve_pool, 5);
  auto d124 = ParseDatabases(LoadShow("1.24", "databases").value());
  const DatabaseRow* app = FindByName(d124, "app");
  EXPECT_EQ(app->reserve_pool, 5);  // read from reserve_pool_size
  EXPECT_EQ(app->host, "10.0.0.5,10.0.0.15");
  EXPECT_EQ(app->load_balance_hosts, "round-robin");
  EXPECT_EQ(app->max_client_connections, 300);
  EXPECT_EQ(app->current_client_connections, 7);
  EXPECT_EQ(app->server_lifetime_seconds, 3600);
}

TEST(PgbouncerConfigTest, reads_key_value_with_and_without_default_column) {
  auto config = ParseConfig(LoadShow("1.18", "config").value());
  EXPECT_EQ(config.Number("max_client_conn"), 200);
  EXPECT_EQ(config.Number("default_pool_size"), 2);
  EXPECT_EQ(config.values.at("admin_users"), "tacho_admin, postgres");
  EXPECT_FALSE(config.Number("pool_mode"));  // not a number
  EXPECT_FALSE(config.Number("no_such_key"));
  // Before 1.15: key, value, changeable.
  auto old = ParseConfig(ParseCsv("key,value,changeable\nmax_client_conn,50,yes\n"));
  EXPECT_EQ(old.Number("max_client_conn"), 50);
}

TEST(PgbouncerListsTest, reads_items_and_skips_garbage) {
  auto lists = ParseLists(LoadShow("1.18", "lists").value());
  EXPECT_EQ(lists.at("used_clients"), 7);
  EXPECT_EQ(lists.at("pools"), 2);
  EXPECT_EQ(lists.count("peers"), 0u);
  auto bad = ParseLists(ParseCsv("list,items\nused_clients,x\nfree_clients,\npools,3\n"));
  EXPECT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad.at("pools"), 3);
  EXPECT_TRUE(ParseLists(ShowTable{}).empty());
}

}  // namespace
}  // namespace tacho::collectors::pool
