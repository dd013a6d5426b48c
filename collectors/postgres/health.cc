#include "collectors/postgres/health.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>

#include "agent/pool_model.h"
#include "collectors/postgres/postgres_internal.h"

namespace tacho::collectors::postgres {
namespace {

using agent::Labels;

// postgres_exporter's pg_stat_activity states (it zero-fills them per database).
constexpr std::array<const char*, 6> kStates = {"active",
                                                "idle",
                                                "idle in transaction",
                                                "idle in transaction (aborted)",
                                                "fastpath function call",
                                                "disabled"};

// pg_locks modes, lower-cased as postgres_exporter exports them.
constexpr std::array<const char*, 9> kLockModes = {
    "accesssharelock", "rowsharelock",          "rowexclusivelock", "shareupdateexclusivelock",
    "sharelock",       "sharerowexclusivelock", "exclusivelock",    "accessexclusivelock",
    "sireadlock"};

constexpr const char* kOtherApplication = "<other>";

void Emit(SampleWriter& sink, const ColumnMetric& spec, const Labels& labels, double value) {
  value *= spec.scale;
  if (spec.type == MetricType::kCounter) {
    sink.Counter(spec.metric, spec.help, labels, value);
  } else {
    sink.Gauge(spec.metric, spec.help, labels, value);
  }
}

}  // namespace

std::string ShortVersion(int version_num) {
  if (version_num <= 0) return "";
  if (version_num >= 100000) {
    return std::to_string(version_num / 10000) + "." + std::to_string(version_num % 10000) + ".0";
  }
  return std::to_string(version_num / 10000) + "." + std::to_string(version_num / 100 % 100) + "." +
         std::to_string(version_num % 100);
}

std::string LowerMode(std::string_view mode) {
  std::string out(mode);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

bool CollectServer(PgSession& s, Cycle& c, const ServerFacts& facts, bool* in_recovery) {
  static const std::string kSql =
      "SELECT version() AS version, pg_is_in_recovery() AS in_recovery, "
      "extract(epoch from pg_postmaster_start_time())::float8 AS start_time, "
      "CASE WHEN pg_is_in_recovery() THEN GREATEST(0, extract(epoch from now() - "
      "pg_last_xact_replay_timestamp()))::float8 ELSE 0 END AS lag, "
      "current_setting('max_connections')::float8 AS max_connections, "
      "current_setting('superuser_reserved_connections')::float8 AS reserved, "
      "COALESCE(current_setting('reserved_connections', true), '0')::float8 AS reserved_roles, "
      "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() "
      "END - '0/0'::pg_lsn)::float8 AS wal_lsn, "
      "CASE WHEN pg_is_in_recovery() THEN (pg_last_wal_receive_lsn() - "
      "pg_last_wal_replay_lsn())::float8 END AS replay_lag_bytes";
  auto r = RunQuery(s, "server", kSql, c.ctx, c.stats, &c.last_error, true);
  if (!r || r->empty()) return false;
  const pqxx::row row = (*r)[0];
  auto& sink = c.sink;
  const bool recovery = FieldBool(row["in_recovery"]);
  if (in_recovery != nullptr) *in_recovery = recovery;
  sink.Gauge("pg_static", "Version string as reported by PostgreSQL; always 1.",
             {{"short_version", ShortVersion(facts.version_num)},
              {"version", FieldString(row["version"])}},
             1);
  if (auto v = FieldDouble(row["start_time"])) {
    sink.Gauge("pg_postmaster_start_time_seconds", "Time at which postmaster started.", {}, *v);
  }
  sink.Gauge("pg_replication_is_replica", "Indicates if the server is a replica (in recovery).", {},
             recovery ? 1 : 0);
  sink.Gauge("pg_replication_lag_seconds",
             "Replication lag behind the primary in seconds: now() minus the time of the last "
             "replayed transaction on a replica; 0 on a primary.",
             {}, FieldDouble(row["lag"], 0));
  if (auto v = FieldDouble(row["max_connections"])) {
    sink.Gauge("pg_settings_max_connections", "Sets the maximum number of concurrent connections.",
               {}, *v);
  }
  if (auto v = FieldDouble(row["reserved"])) {
    sink.Gauge("pg_settings_superuser_reserved_connections",
               "Sets the number of connection slots reserved for superusers.", {}, *v);
  }
  if (auto max = FieldDouble(row["max_connections"])) {
    // PostgreSQL 16 also reserves reserved_connections for pg_use_reserved_connections.
    c.connection_slots =
        *max - FieldDouble(row["reserved"], 0) - FieldDouble(row["reserved_roles"], 0);
  }
  if (auto v = FieldDouble(row["wal_lsn"])) {
    sink.Gauge("pg_wal_lsn_bytes",
               "Current WAL position in bytes: pg_current_wal_lsn() on a primary, "
               "pg_last_wal_replay_lsn() on a replica. Its rate is the WAL throughput.",
               {}, *v);
  }
  if (auto v = FieldDouble(row["replay_lag_bytes"])) {
    sink.Gauge("pg_replication_replay_lag_bytes",
               "On a replica: WAL received but not yet replayed, in bytes.", {}, *v);
  }
  return true;
}

bool CollectDatabases(PgSession& s, Cycle& c, const ServerFacts& facts,
                      std::vector<DatabaseInfo>* databases, std::size_t* dropped) {
  const auto metrics = Resolve(facts.columns, DatabaseMetrics());
  std::string sql =
      "SELECT d.oid::bigint AS oid, d.datname, d.datallowconn, d.datistemplate, "
      "pg_catalog.pg_encoding_to_char(d.encoding) AS encoding, "
      "d.datconnlimit::float8 AS connlimit, age(d.datfrozenxid)::float8 AS frozen_age";
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    sql += ", s." + metrics[i].column + "::float8 AS m" + std::to_string(i);
  }
  sql +=
      " FROM pg_catalog.pg_database d LEFT JOIN pg_catalog.pg_stat_database s ON s.datid = "
      "d.oid";
  auto r = RunQuery(s, "databases", sql, c.ctx, c.stats, &c.last_error, true);
  if (!r) return false;

  const int commit_col = [&] {
    for (std::size_t i = 0; i < metrics.size(); ++i) {
      if (metrics[i].column == "xact_commit") return static_cast<int>(i);
    }
    return -1;
  }();
  std::vector<std::pair<double, pqxx::row::size_type>> order;  // activity, row index
  databases->clear();
  for (pqxx::result::size_type i = 0; i < r->size(); ++i) {
    const pqxx::row row = (*r)[i];
    DatabaseInfo info;
    info.oid = static_cast<std::uint32_t>(FieldInt(row["oid"]).value_or(0));
    info.name = FieldString(row["datname"]);
    info.allow_conn = FieldBool(row["datallowconn"]);
    info.is_template = FieldBool(row["datistemplate"]);
    info.encoding = FieldString(row["encoding"]);
    databases->push_back(info);
    const double activity =
        commit_col >= 0 ? FieldDouble(row["m" + std::to_string(commit_col)], 0) : 0;
    order.emplace_back(activity, static_cast<pqxx::row::size_type>(i));
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  *dropped = order.size() > kMaxDatabases ? order.size() - kMaxDatabases : 0;
  if (order.size() > kMaxDatabases) order.resize(kMaxDatabases);

  for (const auto& [activity, index] : order) {
    const pqxx::row row = (*r)[static_cast<pqxx::result::size_type>(index)];
    const std::string datname = FieldString(row["datname"]);
    const std::string datid = FieldString(row["oid"]);
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      auto v = FieldDouble(row["m" + std::to_string(m)]);  // by name: the select list grows
      if (!v) continue;                                    // no pg_stat_database row yet
      Emit(c.sink, *metrics[m].spec, {{"datid", datid}, {"datname", datname}}, *v);
    }
    if (auto v = FieldDouble(row["connlimit"])) {
      c.sink.Gauge("pg_database_connection_limit",
                   "Connection limit set for the database (-1: none).", {{"datname", datname}}, *v);
    }
    if (auto v = FieldDouble(row["frozen_age"])) {
      c.sink.Gauge("pg_database_datfrozenxid_age",
                   "Age of the database's oldest unfrozen transaction ID (age(datfrozenxid)), in "
                   "transactions; wraparound protection starts at autovacuum_freeze_max_age.",
                   {{"datname", datname}}, *v);
    }
  }
  return true;
}

namespace {

// A client backend's state, as the pool model sees it.
struct PoolCounts {
  double in_use = 0;  // running a statement or inside a transaction
  double idle = 0;
  double idle_in_transaction = 0;
};

PoolCounts CountPool(const std::map<std::string, double>& states) {
  PoolCounts p;
  for (const auto& [state, n] : states) {
    if (state == "unknown") continue;  // not visible to tacho's role: neither in use nor idle
    if (state == "idle") {
      p.idle += n;
    } else {
      p.in_use += n;
      if (state.rfind("idle in transaction", 0) == 0) p.idle_in_transaction += n;
    }
  }
  return p;
}

}  // namespace

std::vector<agent::PoolSample> ActivityPools(const ActivityStates& all,
                                             const ActivityStates& exported, double idle_tx_age,
                                             std::optional<double> connection_slots) {
  std::vector<agent::PoolSample> pools;
  PoolCounts server;
  for (const auto& [app, states] : all) {
    const PoolCounts p = CountPool(states);
    server.in_use += p.in_use;
    server.idle += p.idle;
    server.idle_in_transaction += p.idle_in_transaction;
  }
  agent::PoolSample& slots = pools.emplace_back("postgres", "connections");
  slots.size = connection_slots;
  slots.no_limit = agent::NoLimit::kUnknown;
  slots.in_use = server.in_use;
  slots.idle = server.idle;
  slots.held = server.in_use + server.idle;  // an idle backend holds its slot too
  slots.idle_in_transaction = server.idle_in_transaction;
  slots.idle_in_transaction_max_age_seconds = idle_tx_age;
  for (const auto& [app, states] : exported) {
    const PoolCounts p = CountPool(states);
    agent::PoolSample& pool = pools.emplace_back("postgres", "app/" + app);
    pool.no_limit = agent::NoLimit::kUnknown;
    pool.in_use = p.in_use;
    pool.idle = p.idle;
    pool.held = p.in_use + p.idle;
    pool.idle_in_transaction = p.idle_in_transaction;
  }
  return pools;
}

void CollectActivity(PgSession& s, Cycle& c, const std::vector<DatabaseInfo>& databases,
                     std::size_t applications_top_k, std::size_t* applications_dropped) {
  static const std::string kSql =
      "SELECT datname, application_name, state, backend_type = 'client backend' AS client, "
      "count(*)::float8 AS n, "
      "max(extract(epoch from now() - xact_start))::float8 AS max_tx, "
      "max(extract(epoch from now() - state_change)) FILTER (WHERE state IN "
      "('idle in transaction', 'idle in transaction (aborted)'))::float8 AS max_idle_tx, "
      "count(*) FILTER (WHERE wait_event_type = 'Lock')::float8 AS waiting "
      "FROM pg_catalog.pg_stat_activity GROUP BY 1, 2, 3, 4";
  *applications_dropped = 0;
  auto r = RunQuery(s, "activity", kSql, c.ctx, c.stats, &c.last_error, true);
  if (!r) return;

  struct ByState {
    double count = 0;
    double max_tx = 0;
  };
  std::map<std::pair<std::string, std::string>, ByState> by_state;  // (datname, state)
  std::map<std::string, double> idle_in_tx;                         // datname -> max age
  std::map<std::string, double> waiting;                            // datname -> backends
  ActivityStates apps;                                              // app -> state -> count
  double client_idle_tx_age = 0;                                    // oldest, client backends
  std::set<std::string> zero_fill;
  for (const DatabaseInfo& db : databases) {
    if (!db.is_template && zero_fill.size() < kMaxDatabases) zero_fill.insert(db.name);
  }
  for (const std::string& db : zero_fill) {
    for (const char* state : kStates) by_state[{db, state}];
    idle_in_tx[db];
    waiting[db];
  }
  for (const pqxx::row row : *r) {
    const double n = FieldDouble(row["n"], 0);
    const std::string state = row["state"].is_null() ? "" : FieldString(row["state"]);
    if (!row["datname"].is_null()) {
      const std::string datname = FieldString(row["datname"]);
      if (!state.empty()) {
        ByState& b = by_state[{datname, state}];
        b.count += n;
        b.max_tx = std::max(b.max_tx, FieldDouble(row["max_tx"], 0));
      }
      if (auto v = FieldDouble(row["max_idle_tx"])) {
        idle_in_tx[datname] = std::max(idle_in_tx[datname], *v);
      }
      waiting[datname] += FieldDouble(row["waiting"], 0);
    }
    if (FieldBool(row["client"])) {
      apps[FieldString(row["application_name"])][state.empty() ? "unknown" : state] += n;
      if (auto v = FieldDouble(row["max_idle_tx"]))
        client_idle_tx_age = std::max(client_idle_tx_age, *v);
    }
  }

  auto& sink = c.sink;
  for (const auto& [key, b] : by_state) {
    Labels labels{{"datname", key.first}, {"state", key.second}};
    // postgres_exporter's pg_stat_activity_count: renamed because the exposition linter
    // (promtool check metrics) rejects a gauge ending in _count (README: a recording rule).
    sink.Gauge("pg_stat_activity_connections",
               "Number of connections in this state (postgres_exporter: pg_stat_activity_count).",
               labels, b.count);
    sink.Gauge("pg_stat_activity_max_tx_duration",
               "Max duration in seconds any active transaction has been running.", labels,
               b.max_tx);
  }
  for (const auto& [datname, age] : idle_in_tx) {
    sink.Gauge("pg_stat_activity_max_idle_in_transaction_seconds",
               "Longest time a connection of this database has been idle in transaction "
               "(now() - state_change), in seconds; 0 when none is.",
               {{"datname", datname}}, age);
  }
  for (const auto& [datname, n] : waiting) {
    sink.Gauge("pg_locks_waiting_backends",
               "Backends of this database waiting for a heavyweight lock (pg_stat_activity "
               "wait_event_type = 'Lock').",
               {{"datname", datname}}, n);
  }

  // Per application: the busiest applications_top_k, the others summed under "<other>".
  std::vector<std::pair<double, const std::string*>> ranked;
  for (const auto& [app, states] : apps) {
    double total = 0;
    for (const auto& [state, n] : states) total += n;
    ranked.emplace_back(total, &app);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return std::tie(b.first, *a.second) < std::tie(a.first, *b.second);
  });
  ActivityStates exported;
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const std::string& app = *ranked[i].second;
    const std::string label = i < applications_top_k ? app : kOtherApplication;
    if (i >= applications_top_k) ++*applications_dropped;
    for (const auto& [state, n] : apps[app]) exported[label][state] += n;
  }
  for (const auto& [app, states] : exported) {
    for (const auto& [state, n] : states) {
      sink.Gauge("pg_stat_activity_application_connections",
                 "Client connections by application_name and state, as a connection pool looks "
                 "from the server. Applications beyond applications.top_k are summed under "
                 "application_name=\"<other>\".",
                 {{"application_name", app}, {"state", state}}, n);
    }
  }
  for (const agent::PoolSample& pool :
       ActivityPools(apps, exported, client_idle_tx_age, c.connection_slots)) {
    agent::WritePool(c.sink.raw(), pool);
  }
}

void CollectLocks(PgSession& s, Cycle& c, const std::vector<DatabaseInfo>& databases) {
  static const std::string kSql =
      "SELECT d.datname, l.mode, count(*)::float8 AS n FROM pg_catalog.pg_locks l "
      "JOIN pg_catalog.pg_database d ON d.oid = l.database GROUP BY 1, 2";
  auto r = RunQuery(s, "locks", kSql, c.ctx, c.stats, &c.last_error, true);
  if (!r) return;
  std::map<std::pair<std::string, std::string>, double> counts;
  std::size_t filled = 0;
  for (const DatabaseInfo& db : databases) {
    if (db.is_template || filled >= kMaxDatabases) continue;
    ++filled;
    for (const char* mode : kLockModes) counts[{db.name, mode}];
  }
  for (const pqxx::row row : *r) {
    counts[{FieldString(row["datname"]), LowerMode(FieldString(row["mode"]))}] +=
        FieldDouble(row["n"], 0);
  }
  for (const auto& [key, n] : counts) {
    // postgres_exporter's pg_locks_count, renamed like pg_stat_activity_count.
    c.sink.Gauge("pg_locks",
                 "Number of locks held or awaited, by database and mode (postgres_exporter: "
                 "pg_locks_count).",
                 {{"datname", key.first}, {"mode", key.second}}, n);
  }
}

void CollectCheckpointsWalIo(PgSession& s, Cycle& c, const ServerFacts& facts) {
  for (const auto& [name, specs] : {std::pair<const char*, const std::vector<ColumnMetric>*>{
                                        "checkpoints", &CheckpointMetrics()},
                                    {"wal", &WalMetrics()}}) {
    const auto metrics = Resolve(facts.columns, *specs);
    const std::string sql = BuildOneRowQuery(metrics);
    if (sql.empty()) continue;
    auto r = RunQuery(s, name, sql, c.ctx, c.stats, &c.last_error, true);
    if (!r || r->empty()) continue;
    const pqxx::row row = (*r)[0];
    for (std::size_t i = 0; i < metrics.size(); ++i) {
      if (auto v = FieldDouble(row[static_cast<pqxx::row::size_type>(i)])) {
        Emit(c.sink, *metrics[i].spec, {}, *v);
      }
    }
  }

  const auto io = Resolve(facts.columns, IoMetrics());
  if (io.empty() || !HasColumn(facts.columns, "pg_stat_io", "backend_type")) return;
  std::string sql = "SELECT backend_type, object, context";
  for (std::size_t i = 0; i < io.size(); ++i) {
    sql += ", " + io[i].column + "::float8 AS m" + std::to_string(i);
  }
  sql += " FROM pg_catalog.pg_stat_io";
  auto r = RunQuery(s, "io", sql, c.ctx, c.stats, &c.last_error, true);
  if (!r) return;
  for (const pqxx::row row : *r) {
    Labels labels{{"backend_type", FieldString(row[0])},
                  {"object", FieldString(row[1])},
                  {"context", FieldString(row[2])}};
    for (std::size_t i = 0; i < io.size(); ++i) {
      // NULL: the operation does not apply to this combination.
      if (auto v = FieldDouble(row[static_cast<pqxx::row::size_type>(3 + i)])) {
        Emit(c.sink, *io[i].spec, labels, *v);
      }
    }
  }
}

void CollectReplication(PgSession& s, Cycle& c) {
  static const std::string kSql =
      "SELECT pid, COALESCE(application_name, '') AS application_name, "
      "COALESCE(host(client_addr), '') AS client_addr, COALESCE(state, '') AS state, "
      "COALESCE(sync_state, '') AS sync_state, "
      "((CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() "
      "END) - replay_lsn)::float8 AS replay_diff, "
      "extract(epoch from write_lag)::float8 AS write_lag, "
      "extract(epoch from flush_lag)::float8 AS flush_lag, "
      "extract(epoch from replay_lag)::float8 AS replay_lag "
      "FROM pg_catalog.pg_stat_replication ORDER BY application_name, pid LIMIT " +
      std::to_string(kMaxReplicas);
  auto r = RunQuery(s, "replication", kSql, c.ctx, c.stats, &c.last_error, true);
  if (!r) return;
  std::set<std::tuple<std::string, std::string, std::string, std::string>> seen;
  for (const pqxx::row row : *r) {
    auto key =
        std::make_tuple(FieldString(row["application_name"]), FieldString(row["client_addr"]),
                        FieldString(row["state"]), FieldString(row["sync_state"]));
    if (!seen.insert(key).second) continue;  // same labels twice: keep the first standby
    Labels labels{{"application_name", std::get<0>(key)},
                  {"client_addr", std::get<1>(key)},
                  {"state", std::get<2>(key)},
                  {"sync_state", std::get<3>(key)}};
    if (auto v = FieldDouble(row["replay_diff"])) {
      c.sink.Gauge("pg_stat_replication_pg_wal_lsn_diff",
                   "Lag in bytes between the primary's current WAL position and what this "
                   "standby has replayed.",
                   labels, *v);
    }
    for (const char* lag : {"write_lag", "flush_lag", "replay_lag"}) {
      if (auto v = FieldDouble(row[lag])) {
        c.sink.Gauge(std::string("pg_stat_replication_") + lag + "_seconds",
                     std::string("pg_stat_replication.") + lag +
                         ": time between a local WAL flush and this standby's acknowledgement, "
                         "in seconds.",
                     labels, *v);
      }
    }
  }
}

std::optional<std::map<std::string, double>> QueryDatabaseSizes(PgSession& s, Cycle& c) {
  static const std::string kSql =
      "SELECT datname, CASE WHEN has_database_privilege(oid, 'CONNECT') OR "
      "pg_has_role('pg_read_all_stats', 'MEMBER') THEN pg_database_size(oid)::float8 END AS size "
      "FROM pg_catalog.pg_database WHERE datallowconn";
  auto r = RunQuery(s, "database_sizes", kSql, c.ctx, c.stats, &c.last_error);
  if (!r) return std::nullopt;
  std::map<std::string, double> sizes;
  for (const pqxx::row row : *r) {
    if (auto v = FieldDouble(row["size"])) sizes[FieldString(row["datname"])] = *v;
  }
  return sizes;
}

}  // namespace tacho::collectors::postgres
