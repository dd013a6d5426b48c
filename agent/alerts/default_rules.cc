#include "agent/alerts/default_rules.h"

#include "agent/alerts/promql.h"

namespace tacho::alerts {

namespace {

const Threshold kThresholds[] = {
    // The 80 % warning level of awesome-prometheus-alerts' PostgresqlTooManyConnections.
    {"PostgresTooManyConnections", 0.8,
     "PostgresTooManyConnections: fraction of usable connection slots (max_connections minus "
     "superuser_reserved_connections) in use. Source: 80 %, awesome-prometheus-alerts "
     "PostgresqlTooManyConnections."},
    // 100 ms: the definition of a slow statement (interactive latency budget).
    {"PostgresSlowStatements", 0.1,
     "PostgresSlowStatements: mean execution time per call over 5m, in seconds. Source: 100 ms, "
     "the usual interactive latency budget (Nielsen's 0.1 s response-time limit)."},
    {"PostgresSlowStatementsMinCalls", 20,
     "PostgresSlowStatements: calls over 5m a statement needs before its mean counts (a single "
     "slow maintenance query is not an incident)."},
    // 98 %: a common guideline for OLTP workloads whose working set fits in shared_buffers.
    {"PostgresLowCacheHitRatio", 0.98,
     "PostgresLowCacheHitRatio: shared-buffer hit ratio over 5m below which to alert. Source: "
     "98 %, awesome-prometheus-alerts PostgresqlLowCacheHitRatio (OLTP working sets should fit "
     "in memory)."},
    {"PostgresLowCacheHitRatioMinBlocksPerSecond", 10,
     "PostgresLowCacheHitRatio: block reads (hits + misses) per second a database needs before "
     "its ratio counts."},
    // 2 %: awesome-prometheus-alerts PostgresqlHighRollbackRate.
    {"PostgresHighRollbackRatio", 0.02,
     "PostgresHighRollbackRatio: fraction of transactions rolled back over 5m. Source: 2 %, "
     "awesome-prometheus-alerts PostgresqlHighRollbackRate."},
    {"PostgresHighRollbackRatioMinTransactionsPerSecond", 1,
     "PostgresHighRollbackRatio: transactions per second a database needs before its ratio "
     "counts."},
    // Any deadlock is an application lock-ordering bug (PostgreSQL docs, 13.3.4 Deadlocks).
    {"PostgresDeadlocks", 0,
     "PostgresDeadlocks: deadlocks over 5m above which to alert. Source: any deadlock is a "
     "lock-ordering bug in the application (PostgreSQL docs, 13.3.4 Deadlocks)."},
    // 5 min: far above interactive think time; such sessions hold locks and block VACUUM.
    {"PostgresLongIdleInTransaction", 300,
     "PostgresLongIdleInTransaction: seconds a session may sit idle in a transaction. Source: "
     "5 min, far above any interactive think time; such sessions hold locks and block VACUUM "
     "(PostgreSQL docs, idle_in_transaction_session_timeout)."},
    // 30 s: awesome-prometheus-alerts PostgresqlReplicationLag.
    {"PostgresReplicationLag", 30,
     "PostgresReplicationLag: replication lag in seconds. Source: 30 s, awesome-prometheus-alerts "
     "PostgresqlReplicationLag."},
    // 90 %: awesome-prometheus-alerts RedisOutOfConfiguredMaxmemory.
    {"RedisMemoryNearMaxmemory", 0.9,
     "RedisMemoryNearMaxmemory: used_memory / maxmemory (only when maxmemory is set). Source: "
     "90 %, awesome-prometheus-alerts RedisOutOfConfiguredMaxmemory."},
    // Any rejection: awesome-prometheus-alerts RedisRejectedConnections.
    {"RedisRejectedConnections", 0,
     "RedisRejectedConnections: connections rejected over 5m above which to alert. Source: any "
     "rejection (maxclients reached), awesome-prometheus-alerts RedisRejectedConnections."},
    // 0.8: Datadog's Redis monitoring guide flags a keyspace hit ratio below ~0.8.
    {"RedisLowHitRatio", 0.8,
     "RedisLowHitRatio: keyspace hit ratio over 5m below which to alert. Source: 0.8, Datadog's "
     "'How to monitor Redis performance metrics' (hit rate below ~0.8 means many misses or "
     "evictions)."},
    {"RedisLowHitRatioMinLookupsPerSecond", 10,
     "RedisLowHitRatio: key lookups (hits + misses) per second needed before the ratio counts."},
    // Any client queued for 2 minutes: PgBouncer docs (SHOW POOLS cl_waiting).
    {"PgBouncerClientsWaiting", 0,
     "PgBouncerClientsWaiting: clients waiting for a server connection (for 2m). Source: "
     "PgBouncer docs, SHOW POOLS cl_waiting: clients queued means the pool is too small."},
    // 1 s: PgBouncer docs (SHOW POOLS maxwait "starts increasing" means the pool is too small).
    {"PgBouncerMaxWait", 1,
     "PgBouncerMaxWait: seconds the oldest waiting client has waited. Source: PgBouncer docs, "
     "SHOW POOLS maxwait; 1 s is a noticeable delay for an OLTP request."},
    {"TachoPoolSaturated", 0.9,
     "TachoPoolSaturated: pool utilisation ratio (for 5m). Source: 90 %, the usual saturation "
     "level of the USE method (Brendan Gregg) above which queueing sets in."},
    {"ProcessHighCpu", 0.9,
     "ProcessHighCpu: a process group's CPU use over 5m as a fraction of the host's CPUs. "
     "Source: 90 %, node-exporter mixin's CPU saturation level."},
    // 70 %: node-exporter mixin NodeFileDescriptorLimit (warning level).
    {"ProcessFdExhaustion", 0.7,
     "ProcessFdExhaustion: open file descriptors / soft limit of the worst process of a group. "
     "Source: 70 %, node-exporter mixin NodeFileDescriptorLimit (warning)."},
    {"TachoCollectorFailing", 3,
     "TachoCollectorFailing: failed collections over 15m at or above which to alert (one failure "
     "is a blip, three in a row a broken target or credentials)."},
};

const DefaultRule kDefaultRules[] = {
    {"PostgresDown", "pg_up == 0", "1m", "critical", "PostgreSQL {{ $labels.target }} is down",
     "tacho cannot collect from PostgreSQL target {{ $labels.target }}; see /api/v1/status for "
     "the error."},
    {"RedisDown", "redis_up == 0", "1m", "critical", "Redis {{ $labels.target }} is down",
     "tacho cannot collect from Redis target {{ $labels.target }}; see /api/v1/status for the "
     "error."},
    {"PgBouncerDown", "pgbouncer_up == 0", "1m", "critical",
     "PgBouncer {{ $labels.target }} is down",
     "tacho cannot collect from PgBouncer target {{ $labels.target }}; see /api/v1/status for "
     "the error."},
    {"PostgresTooManyConnections",
     "sum by (target) (pg_stat_activity_connections) / on (target) (pg_settings_max_connections - "
     "pg_settings_superuser_reserved_connections) > <<PostgresTooManyConnections>>",
     "2m", "warning",
     "PostgreSQL {{ $labels.target }} uses {{ $value | humanizePercentage }} of "
     "its connection slots",
     "{{ $value | humanizePercentage }} of the usable connection slots of {{ $labels.target }} "
     "are taken; new connections fail once they run out. Use a pooler or raise "
     "max_connections."},
    {"PostgresSlowStatements",
     "(rate(pg_stat_statements_seconds_total[5m]) / rate(pg_stat_statements_calls_total[5m]) > "
     "<<PostgresSlowStatements>>) and increase(pg_stat_statements_calls_total[5m]) >= "
     "<<PostgresSlowStatementsMinCalls>>",
     "5m", "warning", "Slow statement {{ $labels.queryid }} on {{ $labels.target }}",
     "Statement {{ $labels.queryid }} of user {{ $labels.user }} in database "
     "{{ $labels.datname }} took {{ $value | humanizeDuration }} per call on average over 5m."},
    {"PostgresLowCacheHitRatio",
     "rate(pg_stat_database_blks_hit[5m]) / (rate(pg_stat_database_blks_hit[5m]) + "
     "rate(pg_stat_database_blks_read[5m])) < <<PostgresLowCacheHitRatio>> and "
     "(rate(pg_stat_database_blks_hit[5m]) + rate(pg_stat_database_blks_read[5m])) > "
     "<<PostgresLowCacheHitRatioMinBlocksPerSecond>>",
     "10m", "warning", "Low cache hit ratio in {{ $labels.datname }} on {{ $labels.target }}",
     "Only {{ $value | humanizePercentage }} of block reads of database {{ $labels.datname }} "
     "were served from shared buffers over 5m; the working set may not fit in memory."},
    {"PostgresHighRollbackRatio",
     "rate(pg_stat_database_xact_rollback[5m]) / (rate(pg_stat_database_xact_commit[5m]) + "
     "rate(pg_stat_database_xact_rollback[5m])) > <<PostgresHighRollbackRatio>> and "
     "(rate(pg_stat_database_xact_commit[5m]) + rate(pg_stat_database_xact_rollback[5m])) > "
     "<<PostgresHighRollbackRatioMinTransactionsPerSecond>>",
     "5m", "warning", "Many rollbacks in {{ $labels.datname }} on {{ $labels.target }}",
     "{{ $value | humanizePercentage }} of the transactions of database {{ $labels.datname }} "
     "were rolled back over 5m."},
    {"PostgresDeadlocks", "increase(pg_stat_database_deadlocks[5m]) > <<PostgresDeadlocks>>", "0s",
     "warning", "Deadlocks in {{ $labels.datname }} on {{ $labels.target }}",
     "{{ $value | humanize }} deadlocks in database {{ $labels.datname }} over 5m; the "
     "application takes locks in inconsistent order."},
    {"PostgresLongIdleInTransaction",
     "pg_stat_activity_max_idle_in_transaction_seconds > <<PostgresLongIdleInTransaction>>", "1m",
     "warning", "Long idle-in-transaction session on {{ $labels.target }}",
     "A session of database {{ $labels.datname }} has been idle in a transaction for "
     "{{ $value | humanizeDuration }}; it holds locks and blocks VACUUM."},
    {"PostgresReplicationLag", "pg_replication_lag_seconds > <<PostgresReplicationLag>>", "2m",
     "warning", "Replication lag on {{ $labels.target }}",
     "The replica {{ $labels.target }} is {{ $value | humanizeDuration }} behind its primary."},
    {"RedisMemoryNearMaxmemory",
     "redis_memory_used_bytes / (redis_memory_max_bytes > 0) > <<RedisMemoryNearMaxmemory>>", "5m",
     "warning",
     "Redis {{ $labels.target }} uses {{ $value | humanizePercentage }} of "
     "maxmemory",
     "Redis {{ $labels.target }} is close to maxmemory; it will evict keys or reject writes "
     "according to its maxmemory-policy."},
    {"RedisRejectedConnections",
     "increase(redis_rejected_connections_total[5m]) > <<RedisRejectedConnections>>", "0s",
     "warning", "Redis {{ $labels.target }} rejected connections",
     "Redis {{ $labels.target }} rejected {{ $value | humanize }} connections over 5m "
     "(maxclients reached)."},
    {"RedisLowHitRatio",
     "rate(redis_keyspace_hits_total[5m]) / (rate(redis_keyspace_hits_total[5m]) + "
     "rate(redis_keyspace_misses_total[5m])) < <<RedisLowHitRatio>> and "
     "(rate(redis_keyspace_hits_total[5m]) + rate(redis_keyspace_misses_total[5m])) > "
     "<<RedisLowHitRatioMinLookupsPerSecond>>",
     "10m", "info", "Low keyspace hit ratio on Redis {{ $labels.target }}",
     "Only {{ $value | humanizePercentage }} of key lookups on {{ $labels.target }} found their "
     "key over 5m."},
    {"PgBouncerClientsWaiting",
     "pgbouncer_pools_client_waiting_connections > <<PgBouncerClientsWaiting>>", "2m", "warning",
     "Clients waiting in PgBouncer {{ $labels.target }}",
     "{{ $value }} clients of pool {{ $labels.database }}/{{ $labels.user }} are waiting for a "
     "server connection."},
    {"PgBouncerMaxWait", "pgbouncer_pools_client_maxwait_seconds > <<PgBouncerMaxWait>>", "1m",
     "warning", "Clients wait long in PgBouncer {{ $labels.target }}",
     "The oldest waiting client of pool {{ $labels.database }}/{{ $labels.user }} has waited "
     "{{ $value | humanizeDuration }}."},
    {"TachoPoolSaturated", "tacho_pool_utilization_ratio > <<TachoPoolSaturated>>", "5m", "warning",
     "Pool {{ $labels.pool }} saturated on {{ $labels.target }}",
     "The {{ $labels.kind }} connection pool {{ $labels.pool }} of {{ $labels.target }} is "
     "{{ $value | humanizePercentage }} utilised; requests will queue."},
    {"ProcessHighCpu",
     "sum without (mode) (rate(namedprocess_namegroup_cpu_seconds_total[5m])) / on (target) "
     "group_left tacho_host_cpus > <<ProcessHighCpu>>",
     "10m", "warning",
     "{{ $labels.groupname }} uses {{ $value | humanizePercentage }} of the "
     "host's CPUs",
     "Process group {{ $labels.groupname }} ({{ $labels.target }}) used "
     "{{ $value | humanizePercentage }} of all CPUs over 5m."},
    {"ProcessFdExhaustion", "namedprocess_namegroup_worst_fd_ratio > <<ProcessFdExhaustion>>", "5m",
     "warning", "{{ $labels.groupname }} is running out of file descriptors",
     "A process of group {{ $labels.groupname }} ({{ $labels.target }}) uses "
     "{{ $value | humanizePercentage }} of its open-files limit."},
    {"TachoCollectorFailing",
     "increase(tacho_collector_errors_total[15m]) >= <<TachoCollectorFailing>>", "0s", "warning",
     "tacho collector {{ $labels.target }} keeps failing",
     "The {{ $labels.collector }} collector {{ $labels.target }} failed "
     "{{ $value | humanize }} times over 15m; see /api/v1/status for the error."},
};

}  // namespace

std::span<const Threshold> Thresholds() { return kThresholds; }

std::span<const DefaultRule> DefaultRulePack() { return kDefaultRules; }

std::vector<RuleSpec> DefaultRules(const config::Section& alerts) {
  std::vector<RuleSpec> out;
  for (const DefaultRule& d : kDefaultRules) {
    RuleSpec r;
    r.name = d.name;
    r.expr = d.expr;
    for (const Threshold& t : kThresholds) {
      const std::string marker = std::string("<<") + t.key + ">>";
      const double v = alerts.Has(std::string("thresholds.") + t.key)
                           ? alerts.GetFloat(std::string("thresholds.") + t.key)
                           : t.value;
      for (auto at = r.expr.find(marker); at != std::string::npos; at = r.expr.find(marker)) {
        r.expr.replace(at, marker.size(), promql::FormatGoFloat(v));
      }
    }
    r.for_duration = config::ParseDuration(d.for_duration).value();
    r.severity = d.severity;
    r.labels = {{"severity", d.severity}};
    r.annotations = {{"summary", d.summary}, {"description", d.description}};
    r.builtin = true;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tacho::alerts
