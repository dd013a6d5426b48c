// Server-wide health: server info, databases, connections, locks, checkpoints, WAL, I/O and
// replication. Each function runs its query on the main session and writes its families;
// a failed query leaves its families out and is counted in tacho_pg_query_errors_total.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/pool_model.h"
#include "collectors/postgres/cycle.h"

namespace tacho::collectors::postgres {

// pg_static, pg_postmaster_start_time_seconds, pg_replication_*, pg_settings_*. Returns false
// when the query failed (the target is then reported down).
bool CollectServer(PgSession& s, Cycle& c, const ServerFacts& facts, bool* in_recovery);

// pg_database joined with pg_stat_database. Fills `databases` (the full list) and returns
// false when the query failed. At most kMaxDatabases are exported, the busiest first.
bool CollectDatabases(PgSession& s, Cycle& c, const ServerFacts& facts,
                      std::vector<DatabaseInfo>* databases, std::size_t* dropped);

// pg_stat_activity_* by database and state, per application (the top `applications_top_k`,
// the rest under application_name="<other>"), oldest transaction and idle-in-transaction ages.
void CollectActivity(PgSession& s, Cycle& c, const std::vector<DatabaseInfo>& databases,
                     std::size_t applications_top_k, std::size_t* applications_dropped);

// Client backends by application_name, then state ("active", "idle", "idle in transaction",
// ...; "unknown" where tacho's role may not see it), as read from pg_stat_activity.
using ActivityStates = std::map<std::string, std::map<std::string, double>>;

// The pool model's view of those backends (agent/pool_model.h): the server's connection slots
// as the pool "connections" (every application in `all`), then one "app/<name>" pool per
// application in `exported` (the top K, the rest summed under "<other>"), whose size the server
// cannot know. In use: any state but "idle" and "unknown"; held: in use + idle.
std::vector<agent::PoolSample> ActivityPools(const ActivityStates& all,
                                             const ActivityStates& exported, double idle_tx_age,
                                             std::optional<double> connection_slots);

// pg_locks by database and mode (postgres_exporter: pg_locks_count).
void CollectLocks(PgSession& s, Cycle& c, const std::vector<DatabaseInfo>& databases);

// pg_stat_bgwriter_* (from pg_stat_checkpointer on 17+), pg_stat_wal_* (14+), pg_stat_io_*
// (16+).
void CollectCheckpointsWalIo(PgSession& s, Cycle& c, const ServerFacts& facts);

// pg_stat_replication_* per standby (a primary, or a replica that cascades).
void CollectReplication(PgSession& s, Cycle& c);

// pg_database_size() of every database that allows connections (the expensive query, run
// every slow_interval by the caller). Returns nullopt when the query failed.
std::optional<std::map<std::string, double>> QueryDatabaseSizes(PgSession& s, Cycle& c);

// The label value for the lock modes postgres_exporter uses: "AccessShareLock" ->
// "accesssharelock".
std::string LowerMode(std::string_view mode);

}  // namespace tacho::collectors::postgres
