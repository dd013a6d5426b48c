#include "collectors/postgres/columns.h"

#include <algorithm>

namespace tacho::collectors::postgres {
namespace {

constexpr double kMs = 0.001;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

ColumnMetric Counter(std::string metric, std::string help, std::string relation, std::string column,
                     double scale = 1) {
  return {std::move(metric),
          std::move(help),
          MetricType::kCounter,
          scale,
          {{std::move(relation), std::move(column)}}};
}

// postgres_exporter exports these cumulative values as counters without the _total suffix.
// tacho keeps the names (dashboards use them) and declares them gauges, because the
// exposition-format linter (promtool check metrics) rejects a counter without _total; rate()
// and increase() work on them the same.
ColumnMetric CompatCounter(std::string metric, std::string help, std::string relation,
                           std::string column, double scale = 1) {
  return {std::move(metric),
          std::move(help),
          MetricType::kGauge,
          scale,
          {{std::move(relation), std::move(column)}}};
}

ColumnMetric Gauge(std::string metric, std::string help, std::string relation, std::string column,
                   double scale = 1) {
  return {std::move(metric),
          std::move(help),
          MetricType::kGauge,
          scale,
          {{std::move(relation), std::move(column)}}};
}

}  // namespace

const std::vector<std::string>& DiscoveredViews() {
  static const std::vector<std::string> kViews = {"pg_stat_statements",   "pg_stat_statements_info",
                                                  "pg_stat_database",     "pg_stat_bgwriter",
                                                  "pg_stat_checkpointer", "pg_stat_wal",
                                                  "pg_stat_io",           "pg_stat_user_tables",
                                                  "pg_stat_user_indexes", "pg_stat_replication"};
  return kViews;
}

ColumnMap ParseColumnList(std::string_view text) {
  ColumnMap out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    const auto sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos) continue;
    std::string_view relation = line.substr(0, sp);
    std::string_view column = Trim(line.substr(sp + 1));
    if (const auto dot = relation.rfind('.'); dot != std::string_view::npos) {
      relation.remove_prefix(dot + 1);  // schema-qualified: keep the relation name
    }
    if (!column.empty()) out[std::string(relation)].insert(std::string(column));
  }
  return out;
}

bool HasColumn(const ColumnMap& columns, std::string_view relation, std::string_view column) {
  auto it = columns.find(relation);
  return it != columns.end() && it->second.count(std::string(column)) != 0;
}

std::vector<ResolvedMetric> Resolve(const ColumnMap& columns,
                                    const std::vector<ColumnMetric>& specs) {
  std::vector<ResolvedMetric> out;
  for (const ColumnMetric& spec : specs) {
    for (const auto& [relation, column] : spec.sources) {
      if (HasColumn(columns, relation, column)) {
        out.push_back({&spec, relation, column});
        break;
      }
    }
  }
  return out;
}

const std::vector<ColumnMetric>& DatabaseMetrics() {
  static const std::vector<ColumnMetric> kMetrics = [] {
    const std::string v = "pg_stat_database";
    return std::vector<ColumnMetric>{
        Gauge("pg_stat_database_numbackends",
              "Number of backends currently connected to this database.", v, "numbackends"),
        CompatCounter("pg_stat_database_xact_commit",
                      "Number of transactions in this database that have been committed.", v,
                      "xact_commit"),
        CompatCounter("pg_stat_database_xact_rollback",
                      "Number of transactions in this database that have been rolled back.", v,
                      "xact_rollback"),
        CompatCounter("pg_stat_database_blks_read", "Number of disk blocks read in this database.",
                      v, "blks_read"),
        CompatCounter("pg_stat_database_blks_hit",
                      "Number of times disk blocks were found already in the buffer cache.", v,
                      "blks_hit"),
        CompatCounter("pg_stat_database_tup_returned",
                      "Number of rows returned by queries in this database.", v, "tup_returned"),
        CompatCounter("pg_stat_database_tup_fetched",
                      "Number of rows fetched by queries in this database.", v, "tup_fetched"),
        CompatCounter("pg_stat_database_tup_inserted",
                      "Number of rows inserted by queries in this database.", v, "tup_inserted"),
        CompatCounter("pg_stat_database_tup_updated",
                      "Number of rows updated by queries in this database.", v, "tup_updated"),
        CompatCounter("pg_stat_database_tup_deleted",
                      "Number of rows deleted by queries in this database.", v, "tup_deleted"),
        CompatCounter("pg_stat_database_conflicts",
                      "Number of queries canceled due to conflicts with recovery in this "
                      "database.",
                      v, "conflicts"),
        CompatCounter("pg_stat_database_temp_files",
                      "Number of temporary files created by queries in this database.", v,
                      "temp_files"),
        CompatCounter("pg_stat_database_temp_bytes",
                      "Total amount of data written to temporary files by queries in this "
                      "database, in bytes.",
                      v, "temp_bytes"),
        CompatCounter("pg_stat_database_deadlocks",
                      "Number of deadlocks detected in this database.", v, "deadlocks"),
        CompatCounter("pg_stat_database_checksum_failures",
                      "Number of data page checksum failures detected in this database.", v,
                      "checksum_failures"),
        CompatCounter("pg_stat_database_blk_read_time",
                      "Time spent reading data file blocks by backends in this database, in "
                      "milliseconds (needs track_io_timing).",
                      v, "blk_read_time"),
        CompatCounter("pg_stat_database_blk_write_time",
                      "Time spent writing data file blocks by backends in this database, in "
                      "milliseconds (needs track_io_timing).",
                      v, "blk_write_time"),
        Counter("pg_stat_database_session_time_seconds_total",
                "Time spent by database sessions in this database, in seconds (14+).", v,
                "session_time", kMs),
        Counter("pg_stat_database_active_time_seconds_total",
                "Time spent executing SQL statements in this database, in seconds (14+).", v,
                "active_time", kMs),
        Counter("pg_stat_database_idle_in_transaction_time_seconds_total",
                "Time spent idling while in a transaction in this database, in seconds (14+).", v,
                "idle_in_transaction_time", kMs),
        Counter("pg_stat_database_sessions_total",
                "Total number of sessions established to this database (14+).", v, "sessions"),
        Counter("pg_stat_database_sessions_abandoned_total",
                "Sessions to this database terminated because the client disconnected (14+).", v,
                "sessions_abandoned"),
        Counter("pg_stat_database_sessions_fatal_total",
                "Sessions to this database terminated by fatal errors (14+).", v, "sessions_fatal"),
        Counter("pg_stat_database_sessions_killed_total",
                "Sessions to this database terminated by operator intervention (14+).", v,
                "sessions_killed"),
    };
  }();
  return kMetrics;
}

const std::vector<ColumnMetric>& CheckpointMetrics() {
  // PostgreSQL 17 moved the checkpointer's columns to pg_stat_checkpointer; they keep the
  // names postgres_exporter used for pg_stat_bgwriter.
  static const std::vector<ColumnMetric> kMetrics = {
      {"pg_stat_bgwriter_checkpoints_timed_total",
       "Number of scheduled checkpoints that have been performed.",
       MetricType::kCounter,
       1,
       {{"pg_stat_checkpointer", "num_timed"}, {"pg_stat_bgwriter", "checkpoints_timed"}}},
      {"pg_stat_bgwriter_checkpoints_req_total",
       "Number of requested checkpoints that have been performed.",
       MetricType::kCounter,
       1,
       {{"pg_stat_checkpointer", "num_requested"}, {"pg_stat_bgwriter", "checkpoints_req"}}},
      {"pg_stat_bgwriter_checkpoint_write_time_total",
       "Time spent in the portion of checkpoint processing where files are written to disk, in "
       "milliseconds.",
       MetricType::kCounter,
       1,
       {{"pg_stat_checkpointer", "write_time"}, {"pg_stat_bgwriter", "checkpoint_write_time"}}},
      {"pg_stat_bgwriter_checkpoint_sync_time_total",
       "Time spent in the portion of checkpoint processing where files are synchronized to disk, "
       "in milliseconds.",
       MetricType::kCounter,
       1,
       {{"pg_stat_checkpointer", "sync_time"}, {"pg_stat_bgwriter", "checkpoint_sync_time"}}},
      {"pg_stat_bgwriter_buffers_checkpoint_total",
       "Number of buffers written during checkpoints.",
       MetricType::kCounter,
       1,
       {{"pg_stat_checkpointer", "buffers_written"}, {"pg_stat_bgwriter", "buffers_checkpoint"}}},
      Counter("pg_stat_bgwriter_buffers_clean_total",
              "Number of buffers written by the background writer.", "pg_stat_bgwriter",
              "buffers_clean"),
      Counter("pg_stat_bgwriter_maxwritten_clean_total",
              "Number of times the background writer stopped a cleaning scan because it had "
              "written too many buffers.",
              "pg_stat_bgwriter", "maxwritten_clean"),
      Counter("pg_stat_bgwriter_buffers_backend_total",
              "Number of buffers written directly by a backend (before 17; see pg_stat_io).",
              "pg_stat_bgwriter", "buffers_backend"),
      Counter("pg_stat_bgwriter_buffers_backend_fsync_total",
              "Number of times a backend had to execute its own fsync call (before 17).",
              "pg_stat_bgwriter", "buffers_backend_fsync"),
      Counter("pg_stat_bgwriter_buffers_alloc_total", "Number of buffers allocated.",
              "pg_stat_bgwriter", "buffers_alloc"),
  };
  return kMetrics;
}

const std::vector<ColumnMetric>& WalMetrics() {
  static const std::vector<ColumnMetric> kMetrics = [] {
    const std::string v = "pg_stat_wal";
    return std::vector<ColumnMetric>{
        Counter("pg_stat_wal_records_total", "Total number of WAL records generated.", v,
                "wal_records"),
        Counter("pg_stat_wal_fpi_total", "Total number of WAL full page images generated.", v,
                "wal_fpi"),
        Counter("pg_stat_wal_bytes_total", "Total amount of WAL generated, in bytes.", v,
                "wal_bytes"),
        Counter("pg_stat_wal_buffers_full_total",
                "Number of times WAL data was written to disk because WAL buffers became full.", v,
                "wal_buffers_full"),
        Counter("pg_stat_wal_write_total",
                "Number of times WAL buffers were written out to disk (14-17).", v, "wal_write"),
        Counter("pg_stat_wal_sync_total", "Number of times WAL files were synced to disk (14-17).",
                v, "wal_sync"),
        Counter("pg_stat_wal_write_time_seconds_total",
                "Time spent writing WAL buffers to disk, in seconds (needs track_wal_io_timing; "
                "14-17).",
                v, "wal_write_time", kMs),
        Counter("pg_stat_wal_sync_time_seconds_total",
                "Time spent syncing WAL files to disk, in seconds (needs track_wal_io_timing; "
                "14-17).",
                v, "wal_sync_time", kMs),
    };
  }();
  return kMetrics;
}

const std::vector<ColumnMetric>& IoMetrics() {
  static const std::vector<ColumnMetric> kMetrics = [] {
    const std::string v = "pg_stat_io";
    return std::vector<ColumnMetric>{
        Counter("pg_stat_io_reads_total", "Number of read operations (16+).", v, "reads"),
        Counter("pg_stat_io_read_time_seconds_total",
                "Time spent in read operations, in seconds (needs track_io_timing; 16+).", v,
                "read_time", kMs),
        Counter("pg_stat_io_writes_total", "Number of write operations (16+).", v, "writes"),
        Counter("pg_stat_io_write_time_seconds_total",
                "Time spent in write operations, in seconds (needs track_io_timing; 16+).", v,
                "write_time", kMs),
        Counter("pg_stat_io_extends_total", "Number of relation extend operations (16+).", v,
                "extends"),
        Counter("pg_stat_io_hits_total",
                "Number of times a desired block was found in a shared "
                "buffer (16+).",
                v, "hits"),
        Counter("pg_stat_io_evictions_total",
                "Number of times a block was written out from a buffer to make it available for "
                "another use (16+).",
                v, "evictions"),
        Counter("pg_stat_io_fsyncs_total", "Number of fsync calls (16+).", v, "fsyncs"),
    };
  }();
  return kMetrics;
}

namespace {

// The SQL for `source` ("a" or "a+b"), or "" when one of its columns is missing.
std::string SourceExpression(const ColumnMap& columns, std::string_view source) {
  std::string sql;
  while (!source.empty()) {
    const auto plus = source.find('+');
    const std::string_view column = source.substr(0, plus);
    if (!HasColumn(columns, "pg_stat_statements", column)) return "";
    if (!sql.empty()) sql += " + ";
    sql += column;
    source = plus == std::string_view::npos ? std::string_view() : source.substr(plus + 1);
  }
  return sql;
}

}  // namespace

StatementsColumns DiscoverStatementsColumns(const ColumnMap& columns) {
  StatementsColumns out;
  auto has = [&columns](std::string_view column) {
    return HasColumn(columns, "pg_stat_statements", column);
  };
  out.usable = has("userid") && has("dbid") && has("queryid");
  for (std::size_t i = 0; i < kStatementCounterCount; ++i) {
    for (std::string_view source : kStatementCounters[i].sources) {
      if (source.empty()) break;
      out.counters[i] = SourceExpression(columns, source);
      if (!out.counters[i].empty()) break;
    }
    if (out.counters[i].empty()) {
      if (kStatementCounters[i].required) out.usable = false;
      out.counters[i] = "0::float8";
    }
  }
  out.toplevel = has("toplevel");
  out.stats_since = has("stats_since");
  out.info_view = HasColumn(columns, "pg_stat_statements_info", "dealloc");
  return out;
}

std::string BuildStatementsQuery(const StatementsColumns& c, std::string_view schema) {
  std::string sql = "SELECT userid, dbid, queryid, ";
  sql += c.toplevel ? "toplevel" : "true AS toplevel";
  for (std::size_t i = 0; i < kStatementCounterCount; ++i) {
    const StatementCounterSpec& spec = kStatementCounters[i];
    sql += ", ";
    sql += c.counters[i];
    if (!spec.sources[1].empty() || c.counters[i] != spec.name) {
      sql += " AS ";
      sql += spec.name;
    }
  }
  sql += c.stats_since ? ", extract(epoch from stats_since)::float8 AS stats_since"
                       : ", NULL::float8 AS stats_since";
  sql += " FROM ";
  sql += schema;
  sql += ".pg_stat_statements(false)";
  return sql;
}

std::string BuildOneRowQuery(const std::vector<ResolvedMetric>& metrics) {
  if (metrics.empty()) return "";
  std::vector<std::string> relations;
  for (const ResolvedMetric& m : metrics) {
    if (std::find(relations.begin(), relations.end(), m.relation) == relations.end()) {
      relations.push_back(m.relation);
    }
  }
  std::string sql = "SELECT ";
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    if (i > 0) sql += ", ";
    const auto r = std::find(relations.begin(), relations.end(), metrics[i].relation);
    sql += "r" + std::to_string(r - relations.begin()) + "." + metrics[i].column + "::float8 AS m" +
           std::to_string(i);
  }
  sql += " FROM ";
  for (std::size_t i = 0; i < relations.size(); ++i) {
    if (i > 0) sql += " CROSS JOIN ";
    sql += "pg_catalog." + relations[i] + " r" + std::to_string(i);
  }
  return sql;
}

}  // namespace tacho::collectors::postgres
