// PgBouncer admin console results (SHOW VERSION, POOLS, STATS, DATABASES, CONFIG, LISTS) and
// their typed parsers. Pure: no I/O, no libpq.
//
// Columns are looked up by name, never by position: unknown columns are ignored, missing ones
// leave their field nullopt, and columns renamed between versions are read under every name.
// A value that is SQL NULL or not a number leaves its field nullopt; nothing here throws.
//
// Column sets by version (from PgBouncer's src/admin.c and src/stats.c, doc/usage.md and
// NEWS.md; see testdata/README.md):
//   SHOW POOLS      1.16-1.17 cl_cancel_req; 1.18 split into cl_active_cancel_req and
//                   cl_waiting_cancel_req, plus sv_active_cancel and sv_being_canceled;
//                   1.24 load_balance_hosts.
//   SHOW STATS      < 1.8 total_requests, avg_req, avg_query; 1.8 total_query_count,
//                   total_xact_count, *_xact_time, *_wait_time; 1.23 total_server_assignment_count
//                   and avg_server_assignment_count; 1.24 total_/avg_client_parse_count,
//                   server_parse_count, bind_count.
//   SHOW DATABASES  1.16 min_pool_size; 1.23 server_lifetime; 1.24 reserve_pool renamed
//                   reserve_pool_size, load_balance_hosts, max_client_connections,
//                   current_client_connections. max_connections keeps its name.
//   SHOW LISTS      1.19 peers, peer_pools.
//   SHOW CONFIG     key, value, changeable; 1.15 adds default.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tacho::collectors::pool {

// One SHOW command's result: column names and rows of text values (nullopt = SQL NULL).
struct ShowTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

// One collection's console output. A SHOW that failed or was not run is nullopt.
struct PgbouncerReadings {
  std::optional<ShowTable> version, pools, stats, databases, config, lists;
};

// A finite number in the console's text form ("42", "-1", "0.5"), surrounding spaces allowed;
// nullopt for NULL, "", "abc", "12x", "inf" or "nan".
std::optional<double> ParseNumber(std::string_view text);
// The same for a cell that may be SQL NULL.
std::optional<double> ParseCell(const std::optional<std::string>& cell);

// SHOW VERSION (1.12+ a result row): "PgBouncer 1.18.0" -> "PgBouncer 1.18.0". The first
// non-NULL value of the column "version".
std::optional<std::string> ParseVersionString(const ShowTable& table);

struct PgbouncerVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
};
// "PgBouncer 1.18.0" -> {1, 18, 0}; "PgBouncer 1.24.1/bouncer" -> {1, 24, 1}; nullopt if the
// text holds no "<digits>.<digits>".
std::optional<PgbouncerVersion> ParseVersionNumber(std::string_view text);

// One SHOW POOLS row, e.g. (1.18)
// tacho_test,tacho,2,4,0,0,2,0,0,0,0,0,0,1,486318,transaction
struct PoolRow {
  std::string database;  // NULL reads as ""
  std::string user;
  std::optional<double> cl_active;
  std::optional<double> cl_waiting;
  std::optional<double> cl_active_cancel_req;   // 1.18+
  std::optional<double> cl_waiting_cancel_req;  // 1.18+; cl_cancel_req in 1.16-1.17
  std::optional<double> sv_active;
  std::optional<double> sv_active_cancel;   // 1.18+
  std::optional<double> sv_being_canceled;  // 1.18+
  std::optional<double> sv_idle;
  std::optional<double> sv_used;
  std::optional<double> sv_tested;
  std::optional<double> sv_login;
  // maxwait + maxwait_us / 1e6: the age of the oldest waiting client, in seconds (maxwait alone
  // truncates to whole seconds). nullopt when both are missing.
  std::optional<double> maxwait_seconds;
  std::optional<std::string> pool_mode;
  std::optional<std::string> load_balance_hosts;  // 1.24+; NULL unless the host is a list
};
std::vector<PoolRow> ParsePools(const ShowTable& table);

// One SHOW STATS row (per database). Times are in microseconds as PgBouncer reports them; the
// metric writer converts to seconds.
// e.g. (1.18) tacho_test,9,9,90,282,1175,1175,14628,3,3,30,96,130,130,4991
struct StatsRow {
  std::string database;
  std::optional<double> total_server_assignment_count;  // 1.23+
  std::optional<double> total_xact_count;               // 1.8+
  std::optional<double> total_query_count;              // 1.8+
  std::optional<double> total_requests;                 // < 1.8 only
  std::optional<double> total_received;                 // bytes
  std::optional<double> total_sent;                     // bytes
  std::optional<double> total_xact_time_us;             // 1.8+
  std::optional<double> total_query_time_us;
  std::optional<double> total_wait_time_us;        // 1.8+
  std::optional<double> total_client_parse_count;  // 1.24+
  std::optional<double> total_server_parse_count;  // 1.24+
  std::optional<double> total_bind_count;          // 1.24+
  // Averages over the last stats_period (per second, or microseconds per item).
  std::optional<double> avg_server_assignment_count;  // 1.23+
  std::optional<double> avg_xact_count;
  std::optional<double> avg_query_count;  // avg_req before 1.8
  std::optional<double> avg_recv;
  std::optional<double> avg_sent;
  std::optional<double> avg_xact_time_us;
  std::optional<double> avg_query_time_us;  // avg_query before 1.8
  std::optional<double> avg_wait_time_us;
};
std::vector<StatsRow> ParseStats(const ShowTable& table);

// One SHOW DATABASES row, e.g. (1.18)
// tacho_test,127.0.0.1,15524,tacho_test,,2,0,0,,0,2,0,0
struct DatabaseRow {
  std::string name;
  std::optional<std::string> host;  // NULL for the admin console and unix sockets
  std::optional<std::string> port;
  std::optional<std::string> database;
  std::optional<std::string> force_user;
  std::optional<std::string> pool_mode;              // NULL: the global pool_mode applies
  std::optional<std::string> load_balance_hosts;     // 1.24+
  std::optional<double> pool_size;                   // already resolved to default_pool_size
  std::optional<double> min_pool_size;               // 1.16+
  std::optional<double> reserve_pool;                // reserve_pool_size in 1.24+
  std::optional<double> server_lifetime_seconds;     // 1.23+
  std::optional<double> max_connections;             // max_db_connections; 0 = no limit
  std::optional<double> current_connections;         // server connections of the database
  std::optional<double> max_client_connections;      // 1.24+; 0 = no limit
  std::optional<double> current_client_connections;  // 1.24+
  std::optional<double> paused;                      // 1/0
  std::optional<double> disabled;                    // 1/0
};
std::vector<DatabaseRow> ParseDatabases(const ShowTable& table);

// SHOW CONFIG: key -> value (NULL values are kept as nullopt), e.g. max_client_conn,200,100,yes.
struct PgbouncerConfig {
  std::map<std::string, std::optional<std::string>> values;
  std::optional<double> Number(const std::string& key) const;
};
PgbouncerConfig ParseConfig(const ShowTable& table);

// SHOW LISTS: list -> items, e.g. used_clients,7. Rows whose items are not a number are left
// out.
std::map<std::string, double> ParseLists(const ShowTable& table);

}  // namespace tacho::collectors::pool
