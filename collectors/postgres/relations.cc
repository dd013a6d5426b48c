#include "collectors/postgres/relations.h"

#include <array>

namespace tacho::collectors::postgres {
namespace {

using agent::Labels;

// Relations with a granted AccessExclusiveLock in the current database: DDL is rewriting or
// dropping them, so they are left out of this cycle.
constexpr const char* kLockedCte =
    "locked AS MATERIALIZED (SELECT l.relation FROM pg_catalog.pg_locks l "
    "WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.granted "
    "AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = "
    "current_database()))";

// Cumulative values postgres_exporter exports without _total keep its names and are declared
// gauges (promtool rejects counters without _total). Its vacuum_count, autovacuum_count,
// analyze_count and autoanalyze_count are left out: the last_* times say when, and every
// per-table metric costs top_k series per database.
struct TableMetric {
  const char* column;
  const char* metric;  // a gauge
  const char* help;
};

constexpr std::array<TableMetric, 13> kTableMetrics = {{
    {"seq_scan", "pg_stat_user_tables_seq_scan",
     "Number of sequential scans initiated on this table."},
    {"seq_tup_read", "pg_stat_user_tables_seq_tup_read",
     "Number of live rows fetched by sequential scans."},
    {"idx_scan", "pg_stat_user_tables_idx_scan", "Number of index scans initiated on this table."},
    {"idx_tup_fetch", "pg_stat_user_tables_idx_tup_fetch",
     "Number of live rows fetched by index scans."},
    {"n_tup_ins", "pg_stat_user_tables_n_tup_ins", "Number of rows inserted."},
    {"n_tup_upd", "pg_stat_user_tables_n_tup_upd", "Number of rows updated."},
    {"n_tup_del", "pg_stat_user_tables_n_tup_del", "Number of rows deleted."},
    {"n_tup_hot_upd", "pg_stat_user_tables_n_tup_hot_upd",
     "Number of rows HOT updated (no separate index update required)."},
    {"n_live_tup", "pg_stat_user_tables_n_live_tup", "Estimated number of live rows."},
    {"n_dead_tup", "pg_stat_user_tables_n_dead_tup", "Estimated number of dead rows."},
    {"n_mod_since_analyze", "pg_stat_user_tables_n_mod_since_analyze",
     "Estimated number of rows changed since last analyze."},
    {"table_size", "pg_stat_user_tables_table_size_bytes",
     "Size of the table and its TOAST table in bytes (relpages * block_size: the estimate as "
     "of the last VACUUM or ANALYZE)."},
    {"index_size", "pg_stat_user_tables_index_size_bytes",
     "Size of the table's indexes in bytes (relpages * block_size: the estimate as of the last "
     "VACUUM or ANALYZE)."},
}};

constexpr std::array<std::pair<const char*, const char*>, 4> kTableTimes = {{
    {"last_vacuum",
     "Last time at which this table was manually vacuumed (not counting VACUUM "
     "FULL), Unix seconds; 0 if never."},
    {"last_autovacuum",
     "Last time at which this table was vacuumed by the autovacuum daemon, Unix seconds; 0 if "
     "never."},
    {"last_analyze",
     "Last time at which this table was manually analyzed, Unix seconds; 0 if "
     "never."},
    {"last_autoanalyze",
     "Last time at which this table was analyzed by the autovacuum daemon, Unix seconds; 0 if "
     "never."},
}};

// The candidates a top-k query left out: its "total" column counts them all (0 when within k).
std::size_t DroppedRows(const pqxx::result& r, std::size_t top_k) {
  std::size_t dropped = 0;
  for (const pqxx::row row : r) {
    const double total = FieldDouble(row["total"], 0);
    if (total > static_cast<double>(top_k)) dropped = static_cast<std::size_t>(total) - top_k;
  }
  return dropped;
}

// datname, schemaname and relname of a row of the tables or indexes query.
Labels RelationLabels(const std::string& datname, const pqxx::row& row) {
  return {{"datname", datname},
          {"schemaname", FieldString(row["schemaname"])},
          {"relname", FieldString(row["relname"])}};
}

}  // namespace

std::string TablesQuery(const ServerFacts& facts, std::size_t top_k) {
  const std::string bs = std::to_string(facts.block_size);
  std::string sql = "WITH ";
  sql += kLockedCte;
  sql +=
      ", top AS (SELECT s.*, count(*) OVER () AS total FROM pg_catalog.pg_stat_user_tables s "
      "WHERE NOT EXISTS (SELECT 1 FROM locked WHERE locked.relation = s.relid) "
      "ORDER BY COALESCE(s.seq_tup_read, 0) + COALESCE(s.idx_tup_fetch, 0) + s.n_tup_ins + "
      "s.n_tup_upd + s.n_tup_del DESC, s.relid LIMIT " +
      std::to_string(top_k) + ") SELECT top.schemaname, top.relname, top.total";
  for (const TableMetric& m : kTableMetrics) {
    const std::string column = m.column;
    if (column == "table_size" || column == "index_size") continue;
    sql += ", top." + column + "::float8 AS " + column;
  }
  for (const auto& [column, help] : kTableTimes) {
    (void)help;
    sql +=
        ", COALESCE(extract(epoch from top." + std::string(column) + "), 0)::float8 AS " + column;
  }
  sql += ", ((c.relpages::bigint + COALESCE(t.relpages, 0)) * " + bs +
         ")::float8 AS table_size, "
         "(COALESCE((SELECT sum(GREATEST(ic.relpages, 0)) FROM pg_catalog.pg_index i "
         "JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = top.relid), 0) "
         "* " +
         bs +
         ")::float8 AS index_size "
         "FROM top JOIN pg_catalog.pg_class c ON c.oid = top.relid "
         "LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid";
  return sql;
}

std::string IndexesQuery(const ServerFacts& facts, std::size_t top_k) {
  std::string sql = "WITH ";
  sql += kLockedCte;
  sql +=
      ", top AS (SELECT s.relid, s.indexrelid, s.schemaname, s.relname, s.indexrelname, "
      "s.idx_scan, s.idx_tup_read, c.relpages, count(*) OVER () AS total "
      "FROM pg_catalog.pg_stat_user_indexes s JOIN pg_catalog.pg_class c ON c.oid = "
      "s.indexrelid "
      "WHERE NOT EXISTS (SELECT 1 FROM locked WHERE locked.relation IN (s.relid, s.indexrelid)) "
      "ORDER BY c.relpages DESC, s.indexrelid LIMIT " +
      std::to_string(top_k) +
      ") SELECT top.schemaname, top.relname, top.indexrelname, top.total, "
      "top.idx_scan::float8 AS idx_scan, top.idx_tup_read::float8 AS idx_tup_read, "
      "(GREATEST(top.relpages, 0)::bigint * " +
      std::to_string(facts.block_size) +
      ")::float8 AS size, i.indisunique, i.indisprimary, i.indisvalid, i.indisready "
      "FROM top JOIN pg_catalog.pg_index i ON i.indexrelid = top.indexrelid";
  return sql;
}

std::optional<pqxx::result> QueryTables(PgSession& s, Cycle& c, const ServerFacts& facts,
                                        std::size_t top_k) {
  return RunQuery(s, "tables", TablesQuery(facts, top_k), c.ctx, c.stats, &c.last_error, true);
}

std::size_t EmitTables(Cycle& c, const std::string& datname, const pqxx::result& r,
                       std::size_t top_k) {
  for (const pqxx::row row : r) {
    const Labels labels = RelationLabels(datname, row);
    for (const TableMetric& m : kTableMetrics) {
      auto v = FieldDouble(row[m.column]);
      if (!v) continue;
      c.sink.Gauge(m.metric, m.help, labels, *v);
    }
    for (const auto& [column, help] : kTableTimes) {
      c.sink.Gauge(std::string("pg_stat_user_tables_") + column, help, labels,
                   FieldDouble(row[column], 0));
    }
  }
  return DroppedRows(r, top_k);
}

std::optional<pqxx::result> QueryIndexes(PgSession& s, Cycle& c, const ServerFacts& facts,
                                         std::size_t top_k) {
  return RunQuery(s, "indexes", IndexesQuery(facts, top_k), c.ctx, c.stats, &c.last_error, true);
}

std::size_t EmitIndexes(Cycle& c, const std::string& datname, const pqxx::result& r,
                        std::size_t top_k) {
  auto flag = [](const pqxx::field& f) { return std::string(FieldBool(f) ? "1" : "0"); };
  for (const pqxx::row row : r) {
    Labels labels = RelationLabels(datname, row);
    labels.push_back({"indexrelname", FieldString(row["indexrelname"])});
    if (auto v = FieldDouble(row["idx_scan"])) {
      c.sink.Counter("pg_stat_user_indexes_idx_scans_total",
                     "Number of index scans initiated on this index.", labels, *v);
    }
    if (auto v = FieldDouble(row["idx_tup_read"])) {
      c.sink.Counter("pg_stat_user_indexes_idx_tup_reads_total",
                     "Number of index entries returned by scans on this index.", labels, *v);
    }
    c.sink.Gauge("pg_index_size_bytes",
                 "Size of the index in bytes (relpages * block_size: the estimate as of the last "
                 "VACUUM, ANALYZE or CREATE INDEX).",
                 labels, FieldDouble(row["size"], 0));
    Labels props = labels;
    props.push_back({"is_unique", flag(row["indisunique"])});
    props.push_back({"is_primary", flag(row["indisprimary"])});
    props.push_back({"is_valid", flag(row["indisvalid"])});
    props.push_back({"is_ready", flag(row["indisready"])});
    c.sink.Gauge("pg_index_properties", "Index properties as labels; always 1.", props, 1);
  }
  return DroppedRows(r, top_k);
}

}  // namespace tacho::collectors::postgres
