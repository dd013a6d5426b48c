#include "collectors/pool/pgbouncer_metrics.h"

#include <gtest/gtest.h>

#include "collectors/pool/test_util.h"

namespace tacho::collectors::pool {
namespace {

using testutil::LoadReadings;
using testutil::ParseCsv;
using testutil::Samples;

const char* const kVersions[] = {"1.16", "1.17", "1.18", "1.19", "1.20",
                                 "1.21", "1.22", "1.23", "1.24"};

Samples Write(const PgbouncerReadings& r, std::size_t max_pools = 500,
              PgbouncerWriteResult* result = nullptr) {
  agent::MetricSink sink;
  auto written = WritePgbouncerMetrics(r, PgbouncerWriteOptions{.max_pools = max_pools}, sink);
  if (result) *result = written;
  return Samples(sink);
}

std::string Pool(const std::string& metric, const std::string& pool) {
  return metric + "{kind=pgbouncer,pool=" + pool + "}";
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST(PgbouncerMetricsTest, captured_1_18_exporter_families) {
  Samples s = Write(LoadReadings("1.18"));
  EXPECT_EQ(s.At("pgbouncer_version_info{version=PgBouncer 1.18.0}"), 1);

  const std::string pool = "{database=tacho_test,user=tacho}";
  EXPECT_EQ(s.At("pgbouncer_pools_client_active_connections" + pool), 2);
  EXPECT_EQ(s.At("pgbouncer_pools_client_waiting_connections" + pool), 4);
  EXPECT_EQ(s.At("pgbouncer_pools_server_active_connections" + pool), 2);
  EXPECT_EQ(s.At("pgbouncer_pools_server_idle_connections" + pool), 0);
  EXPECT_EQ(s.At("pgbouncer_pools_server_used_connections" + pool), 0);
  EXPECT_EQ(s.At("pgbouncer_pools_client_active_cancel_connections" + pool), 0);
  EXPECT_EQ(s.At("pgbouncer_pools_server_being_canceled_connections" + pool), 0);
  EXPECT_DOUBLE_EQ(s.At("pgbouncer_pools_client_maxwait_seconds" + pool), 1.486318);
  // The admin console's pool is kept in the exporter's families.
  EXPECT_EQ(s.At("pgbouncer_pools_client_active_connections{database=pgbouncer,user=pgbouncer}"),
            1);

  EXPECT_EQ(s.Type("pgbouncer_stats_queries_pooled_total"), prometheus::MetricType::Counter);
  EXPECT_EQ(s.At("pgbouncer_stats_queries_pooled_total{database=tacho_test}"), 9);
  EXPECT_EQ(s.At("pgbouncer_stats_sql_transactions_pooled_total{database=tacho_test}"), 9);
  EXPECT_EQ(s.At("pgbouncer_stats_received_bytes_total{database=tacho_test}"), 90);
  EXPECT_EQ(s.At("pgbouncer_stats_sent_bytes_total{database=tacho_test}"), 282);
  // Microseconds to seconds.
  EXPECT_DOUBLE_EQ(s.At("pgbouncer_stats_queries_duration_seconds_total{database=tacho_test}"),
                   0.001175);
  EXPECT_DOUBLE_EQ(s.At("pgbouncer_stats_client_wait_seconds_total{database=tacho_test}"),
                   0.014628);
  EXPECT_DOUBLE_EQ(s.At("pgbouncer_stats_server_in_transaction_seconds_total{database=tacho_test}"),
                   0.001175);
  EXPECT_FALSE(s.HasFamily("pgbouncer_stats_queries_total"));  // total_requests is pre-1.8
  EXPECT_FALSE(s.HasFamily("pgbouncer_stats_server_assignments_total"));

  const std::string db =
      "{name=tacho_test,host=127.0.0.1,port=15524,database=tacho_test,force_user=,pool_mode=}";
  EXPECT_EQ(s.At("pgbouncer_databases_pool_size" + db), 2);
  EXPECT_EQ(s.At("pgbouncer_databases_reserve_pool" + db), 0);
  EXPECT_EQ(s.At("pgbouncer_databases_max_connections" + db), 0);
  EXPECT_EQ(s.At("pgbouncer_databases_current_connections" + db), 2);
  EXPECT_EQ(s.At("pgbouncer_databases_paused" + db), 0);
  EXPECT_EQ(s.At("pgbouncer_databases_disabled" + db), 0);
  EXPECT_EQ(s.At("pgbouncer_databases_pool_size{name=pgbouncer,host=,port=29317,"
                 "database=pgbouncer,force_user=pgbouncer,pool_mode=statement}"),
            2);
  EXPECT_FALSE(s.HasFamily("pgbouncer_databases_server_lifetime_seconds"));

  EXPECT_EQ(s.At("pgbouncer_config_max_client_connections"), 200);
  EXPECT_EQ(s.At("pgbouncer_config_max_user_connections"), 0);
  EXPECT_EQ(s.At("pgbouncer_config_default_pool_size"), 2);

  EXPECT_EQ(s.At("pgbouncer_used_clients"), 7);
  EXPECT_EQ(s.At("pgbouncer_free_clients"), 43);
  EXPECT_EQ(s.At("pgbouncer_pools"), 2);
  EXPECT_EQ(s.At("pgbouncer_databases"), 3);
  EXPECT_EQ(s.At("pgbouncer_cached_dns_names"), 0);
  EXPECT_EQ(s.At("pgbouncer_in_flight_dns_queries"), 0);
  EXPECT_FALSE(s.HasFamily("pgbouncer_up"));
}

TEST(PgbouncerMetricsTest, captured_1_18_pool_model) {
  Samples s = Write(LoadReadings("1.18"));
  const std::string p = "tacho_test/tacho";
  EXPECT_EQ(s.At(Pool("tacho_pool_size", p)), 2);
  EXPECT_EQ(s.At(Pool("tacho_pool_in_use", p)), 2);
  EXPECT_EQ(s.At(Pool("tacho_pool_idle", p)), 0);
  EXPECT_EQ(s.At(Pool("tacho_pool_waiting", p)), 4);
  EXPECT_DOUBLE_EQ(s.At(Pool("tacho_pool_max_wait_seconds", p)), 1.486318);
  EXPECT_DOUBLE_EQ(s.At(Pool("tacho_pool_utilization_ratio", p)), 1.0);
  // No pool model for the admin console.
  EXPECT_FALSE(s.Has(Pool("tacho_pool_in_use", "pgbouncer/pgbouncer")));

  EXPECT_EQ(s.At(Pool("tacho_pool_size", "clients")), 200);
  EXPECT_EQ(s.At(Pool("tacho_pool_in_use", "clients")), 7);  // SHOW LISTS used_clients
  EXPECT_EQ(s.At(Pool("tacho_pool_waiting", "clients")), 4);
  EXPECT_DOUBLE_EQ(s.At(Pool("tacho_pool_utilization_ratio", "clients")), 7.0 / 200);
}

TEST(PgbouncerMetricsTest, every_version_writes_clean_families) {
  for (const char* version : kVersions) {
    SCOPED_TRACE(version);
    agent::MetricSink sink(agent::Labels{{"target", "t"}});
    WritePgbouncerMetrics(LoadReadings(version), {}, sink);
    Samples s(sink);
    EXPECT_TRUE(s.conflicts().empty());
    EXPECT_TRUE(s.Duplicates().empty());
    for (const auto& family : s.families()) {
      SCOPED_TRACE(family.name);
      EXPECT_FALSE(family.help.empty());
      EXPECT_NE(family.name, "pgbouncer_up");
      if (family.type == prometheus::MetricType::Counter) {
        EXPECT_TRUE(EndsWith(family.name, "_total"));
      } else {
        EXPECT_FALSE(EndsWith(family.name, "_total"));
        EXPECT_FALSE(EndsWith(family.name, "_count"));
        EXPECT_FALSE(EndsWith(family.name, "_sum"));
        EXPECT_FALSE(EndsWith(family.name, "_bucket"));
      }
    }
    for (const char* family :
         {"pgbouncer_version_info", "pgbouncer_pools_client_active_connections",
          "pgbouncer_pools_client_waiting_connections", "pgbouncer_pools_server_active_connections",
          "pgbouncer_pools_server_idle_connections", "pgbouncer_pools_server_used_connections",
          "pgbouncer_pools_client_maxwait_seconds", "pgbouncer_stats_queries_pooled_total",
          "pgbouncer_stats_client_wait_seconds_total", "pgbouncer_databases_pool_size",
          "pgbouncer_databases_reserve_pool", "pgbouncer_databases_current_connections",
          "pgbouncer_config_max_client_connections", "pgbouncer_config_max_user_connections",
          "pgbouncer_used_clients", "tacho_pool_in_use", "tacho_pool_waiting"}) {
      EXPECT_TRUE(s.HasFamily(family)) << family;
    }
    // One series per SHOW POOLS row of the fixture.
    EXPECT_EQ(s.FamilySize("pgbouncer_pools_client_active_connections"),
              std::string(version) == "1.17" ? 4u : (std::string(version) == "1.18" ? 2u : 3u));
  }
}

TEST(PgbouncerMetricsTest, v1_16_cancel_requests_and_sub_second_wait) {
  Samples s = Write(LoadReadings("1.16"));
  const std::string pool = "{database=app,user=app_user}";
  EXPECT_EQ(s.At("pgbouncer_pools_client_waiting_cancel_connections" + pool), 1);
  EXPECT_FALSE(s.HasFamily("pgbouncer_pools_client_active_cancel_connections"));
  EXPECT_FALSE(s.HasFamily("pgbouncer_pools_server_active_cancel_connections"));
  EXPECT_DOUBLE_EQ(s.At("pgbouncer_pools_client_maxwait_seconds" + pool), 0.25);
  EXPECT_DOUBLE_EQ(s.At(Pool("tacho_pool_max_wait_seconds", "app/app_user")), 0.25);
  EXPECT_EQ(s.At(Pool("tacho_pool_size", "app/app_user")), 20);
  EXPECT_EQ(s.At(Pool("tacho_pool_in_use", "app/app_user")), 12);
  EXPECT_EQ(s.At(Pool("tacho_pool_idle", "app/app_user")), 3);  // sv_idle + sv_used
  EXPECT_EQ(s.At(Pool("tacho_pool_waiting", "app/app_user")), 3);
  EXPECT_DOUBLE_EQ(s.At(Pool("tacho_pool_utilization_ratio", "app/app_user")), 0.6);
  EXPECT_EQ(s.At("pgbouncer_databases_min_pool_size{name=app,host=10.0.0.5,port=5432,"
                 "database=app,force_user=,pool_mode=}"),
            2);
  EXPECT_EQ(s.At("pgbouncer_databases_reserve_pool{name=reports,host=10.0.0.6,port=5432,"
                 "database=reports_db,force_user=reporter,pool_mode=session}"),
            0);
}

TEST(PgbouncerMetricsTest, pool_size_zero_has_no_ratio_and_says_unlimited) {
  Samples s = Write(LoadReadings("1.17"));
  const std::string p = "scratch/scratch_user";
  EXPECT_FALSE(s.Has(Pool("tacho_pool_size", p)));
  EXPECT_FALSE(s.Has(Pool("tacho_pool_utilization_ratio", p)));
  EXPECT_EQ(
      s.At("tacho_pool_utilization_unavailable{kind=pgbouncer,pool=" + p + ",reason=unlimited}"),
      1);
  EXPECT_EQ(s.At(Pool("tacho_pool_in_use", p)), 2);
}

TEST(PgbouncerMetricsTest, client_side_against_max_client_conn) {
  Samples s = Write(LoadReadings("1.18"));
  EXPECT_EQ(s.At(Pool("tacho_pool_size", "clients")), 200);
  EXPECT_TRUE(s.Has(Pool("tacho_pool_utilization_ratio", "clients")));
}

TEST(PgbouncerMetricsTest, max_client_conn_zero_is_unlimited_not_a_division_by_zero) {
  PgbouncerReadings r = LoadReadings("1.18");
  bool found = false;
  for (auto& row : r.config->rows) {
    if (row.at(0) == "max_client_conn") {
      row.at(1) = "0";
      found = true;
    }
  }
  ASSERT_TRUE(found);
  Samples s = Write(r);
  EXPECT_FALSE(s.Has(Pool("tacho_pool_size", "clients")));
  EXPECT_FALSE(s.Has(Pool("tacho_pool_utilization_ratio", "clients")));
  EXPECT_EQ(
      s.At("tacho_pool_utilization_unavailable{kind=pgbouncer,pool=clients,reason=unlimited}"), 1);
  EXPECT_TRUE(s.Has(Pool("tacho_pool_in_use", "clients")));
}

TEST(PgbouncerMetricsTest, max_db_connections_caps_the_pool_size) {
  // 1.19: app has pool_size 20 but max_connections 10; sv_active 9 + sv_active_cancel 1.
  Samples s = Write(LoadReadings("1.19"));
  EXPECT_EQ(s.At(Pool("tacho_pool_size", "app/app_user")), 10);
  EXPECT_EQ(s.At(Pool("tacho_pool_in_use", "app/app_user")), 10);
  EXPECT_DOUBLE_EQ(s.At(Pool("tacho_pool_utilization_ratio", "app/app_user")), 1.0);
  EXPECT_DOUBLE_EQ(s.At(Pool("tacho_pool_max_wait_seconds", "app/app_user")), 2.005);
  EXPECT_EQ(s.At("pgbouncer_databases_paused{name=reports,host=10.0.0.6,port=5432,"
                 "database=reports_db,force_user=reporter,pool_mode=session}"),
            1);
  EXPECT_EQ(s.At(Pool("tacho_pool_idle", "reports/reporter")), 4);
}

TEST(PgbouncerMetricsTest, v1_23_server_assignments_and_server_lifetime) {
  Samples s = Write(LoadReadings("1.23"));
  EXPECT_EQ(s.At("pgbouncer_stats_server_assignments_total{database=app}"), 61000);
  EXPECT_DOUBLE_EQ(s.At("pgbouncer_stats_client_wait_seconds_total{database=reports}"), 2.5);
  EXPECT_EQ(s.At("pgbouncer_databases_server_lifetime_seconds{name=reports,host=10.0.0.6,"
                 "port=5432,database=reports_db,force_user=reporter,pool_mode=session}"),
            1800);
  EXPECT_DOUBLE_EQ(s.At(Pool("tacho_pool_max_wait_seconds", "reports/reporter")), 0.999999);
  EXPECT_FALSE(s.HasFamily("pgbouncer_stats_binds_total"));
  EXPECT_FALSE(s.HasFamily("pgbouncer_databases_current_client_connections"));
}

TEST(PgbouncerMetricsTest, v1_24_renamed_and_new_columns) {
  Samples s = Write(LoadReadings("1.24"));
  const std::string app =
      "{name=app,host=10.0.0.5,10.0.0.15,port=5432,database=app,force_user=,pool_mode=}";
  EXPECT_EQ(s.At("pgbouncer_databases_reserve_pool" + app), 5);  // reserve_pool_size
  EXPECT_EQ(s.At("pgbouncer_databases_max_client_connections" + app), 300);
  EXPECT_EQ(s.At("pgbouncer_databases_current_client_connections" + app), 7);
  EXPECT_EQ(s.At("pgbouncer_stats_client_parses_total{database=app}"), 5100);
  EXPECT_EQ(s.At("pgbouncer_stats_server_parses_total{database=app}"), 2600);
  EXPECT_EQ(s.At("pgbouncer_stats_binds_total{database=app}"), 84000);
  EXPECT_EQ(s.At("pgbouncer_stats_queries_pooled_total{database=app}"), 170000);
  // Utilisation: 7 of 20.
  EXPECT_DOUBLE_EQ(s.At(Pool("tacho_pool_utilization_ratio", "app/app_user")), 0.35);
  EXPECT_EQ(s.At(Pool("tacho_pool_waiting", "reports/reporter")), 9);
  EXPECT_DOUBLE_EQ(s.At(Pool("tacho_pool_max_wait_seconds", "reports/reporter")), 0.045);
  EXPECT_EQ(s.At(Pool("tacho_pool_size", "clients")), 400);
  EXPECT_EQ(s.At(Pool("tacho_pool_in_use", "clients")), 22);
  EXPECT_EQ(s.At(Pool("tacho_pool_waiting", "clients")), 9);
}

TEST(PgbouncerMetricsTest, missing_show_results_leave_their_families_out) {
  Samples none = Write(PgbouncerReadings{});
  EXPECT_TRUE(none.values().empty());

  PgbouncerReadings r = LoadReadings("1.18");
  r.stats.reset();
  r.databases.reset();
  r.version.reset();
  Samples s = Write(r);
  EXPECT_FALSE(s.HasFamily("pgbouncer_version_info"));
  EXPECT_FALSE(s.HasFamily("pgbouncer_stats_queries_pooled_total"));
  EXPECT_FALSE(s.HasFamily("pgbouncer_databases_pool_size"));
  EXPECT_TRUE(s.HasFamily("pgbouncer_pools_client_active_connections"));
  // Without SHOW DATABASES the size is SHOW CONFIG's default_pool_size.
  EXPECT_EQ(s.At(Pool("tacho_pool_size", "tacho_test/tacho")), 2);

  r.config.reset();
  r.lists.reset();
  Samples only_pools = Write(r);
  EXPECT_FALSE(only_pools.Has(Pool("tacho_pool_size", "tacho_test/tacho")));
  EXPECT_EQ(only_pools.At("tacho_pool_utilization_unavailable{kind=pgbouncer,"
                          "pool=tacho_test/tacho,reason=unknown_limit}"),
            1);
  // Clients in use fall back to the sum of cl_* over the pools: 1 + 2 + 4.
  EXPECT_EQ(only_pools.At(Pool("tacho_pool_in_use", "clients")), 7);
  EXPECT_EQ(only_pools.At("tacho_pool_utilization_unavailable{kind=pgbouncer,pool=clients,"
                          "reason=unknown_limit}"),
            1);

  PgbouncerReadings lists_only;
  lists_only.lists = LoadReadings("1.18").lists;
  Samples l = Write(lists_only);
  EXPECT_EQ(l.At("pgbouncer_used_clients"), 7);
  EXPECT_EQ(l.At(Pool("tacho_pool_in_use", "clients")), 7);
  EXPECT_FALSE(l.Has(Pool("tacho_pool_waiting", "clients")));
}

TEST(PgbouncerMetricsTest, a_pool_without_its_database_row_uses_default_pool_size) {
  PgbouncerReadings r = LoadReadings("1.24");
  r.pools = ParseCsv(
      "database,user,cl_active,cl_waiting,sv_active,sv_idle,sv_used,maxwait,maxwait_us\n"
      "ghost,u,3,0,3,0,0,0,0\n");
  r.config = ParseCsv(
      "key,value,default,changeable\ndefault_pool_size,6,20,yes\nmax_db_connections,4,0,yes\n");
  Samples s = Write(r);
  EXPECT_EQ(s.At(Pool("tacho_pool_size", "ghost/u")), 4);  // 6 capped by max_db_connections 4
  EXPECT_DOUBLE_EQ(s.At(Pool("tacho_pool_utilization_ratio", "ghost/u")), 0.75);
}

TEST(PgbouncerMetricsTest, max_pools_keeps_the_busiest_and_counts_the_rest) {
  std::string csv = "database,user,cl_active,cl_waiting,sv_active,sv_idle,sv_used\n";
  // Activity (cl_active + cl_waiting + sv_active + sv_idle + sv_used): db<i>/u 5i, so db9/u 45;
  // db8/v ties db8/u at 40 and sorts after it by user.
  for (int i = 0; i < 10; ++i) {
    csv += "db" + std::to_string(i) + ",u," + std::to_string(i) + ",0," + std::to_string(i) + "," +
           std::to_string(i) + "," + std::to_string(2 * i) + "\n";
  }
  csv += "db8,v,8,0,8,8,16\n";
  PgbouncerReadings r;
  r.pools = ParseCsv(csv);
  PgbouncerWriteResult result;
  Samples s = Write(r, 3, &result);
  EXPECT_EQ(result.pools_dropped, 8u);
  EXPECT_EQ(s.FamilySize("pgbouncer_pools_client_active_connections"), 3u);
  EXPECT_TRUE(s.Has("pgbouncer_pools_client_active_connections{database=db9,user=u}"));
  EXPECT_TRUE(s.Has("pgbouncer_pools_client_active_connections{database=db8,user=u}"));
  EXPECT_TRUE(s.Has("pgbouncer_pools_client_active_connections{database=db8,user=v}"));
  EXPECT_FALSE(s.Has("pgbouncer_pools_client_active_connections{database=db7,user=u}"));
  EXPECT_TRUE(s.Has(Pool("tacho_pool_in_use", "db9/u")));
  EXPECT_FALSE(s.Has(Pool("tacho_pool_in_use", "db7/u")));
  // The client side still counts every pool: 0 + 1 + ... + 9 + 8.
  EXPECT_EQ(s.At(Pool("tacho_pool_in_use", "clients")), 53);

  PgbouncerWriteResult all;
  Write(r, 500, &all);
  EXPECT_EQ(all.pools_dropped, 0u);
}

TEST(PgbouncerMetricsTest, nulls_garbage_duplicates_and_bad_utf8_never_break_the_output) {
  PgbouncerReadings r;
  r.pools = ParseCsv(
      "database,user,cl_active,cl_waiting,sv_active,sv_idle,sv_used,maxwait,maxwait_us\n"
      "app,a,,1,abc,2,,0,\n"
      "app,a,9,9,9,9,9,9,9\n"
      "app,\xff\xfe,1,0,1,0,0,0,0\n"
      "app,\xc0\xaf,2,0,2,0,0,0,0\n");
  r.stats = ParseCsv("database,total_query_count,total_wait_time\napp,x,\napp,5,6\n");
  r.databases = ParseCsv("name,pool_size,max_connections\napp,NaN,\n");
  r.lists = ParseCsv("list,items\nused_clients,many\n");
  r.version = ParseCsv("version\n");
  agent::MetricSink sink;
  auto result = WritePgbouncerMetrics(r, {}, sink);
  Samples s(sink);
  EXPECT_EQ(result.pools_dropped, 0u);
  EXPECT_TRUE(s.conflicts().empty());
  EXPECT_TRUE(s.Duplicates().empty());
  // The first app/a row wins; its NULL and garbage cells have no samples.
  EXPECT_EQ(s.At("pgbouncer_pools_client_waiting_connections{database=app,user=a}"), 1);
  EXPECT_FALSE(s.Has("pgbouncer_pools_client_active_connections{database=app,user=a}"));
  EXPECT_FALSE(s.Has("pgbouncer_pools_server_active_connections{database=app,user=a}"));
  EXPECT_EQ(s.At("pgbouncer_pools_client_maxwait_seconds{database=app,user=a}"), 0);
  // Two users that are not UTF-8 (the second an overlong "/") share one "<invalid>" series.
  EXPECT_EQ(s.At("pgbouncer_pools_client_active_connections{database=app,user=<invalid>}"), 1);
  EXPECT_EQ(s.At(Pool("tacho_pool_in_use", "app/<invalid>")), 1);
  EXPECT_FALSE(s.Has(Pool("tacho_pool_in_use", "app/a")));
  EXPECT_EQ(s.At(Pool("tacho_pool_idle", "app/a")), 2);
  EXPECT_FALSE(s.HasFamily("pgbouncer_stats_queries_pooled_total"));  // first app row: garbage
  EXPECT_FALSE(s.HasFamily("pgbouncer_databases_pool_size"));
  EXPECT_FALSE(s.HasFamily("pgbouncer_used_clients"));
  EXPECT_FALSE(s.HasFamily("pgbouncer_version_info"));
}

}  // namespace
}  // namespace tacho::collectors::pool
