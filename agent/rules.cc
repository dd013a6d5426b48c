#include "agent/rules.h"

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <set>

namespace tacho::agent {

namespace {

using config::KeySpec;
using config::Schema;
using config::Type;

// ---------------------------------------------------------------------------------------------
// The default rule pack. Each threshold is a key thresholds.<Key> of [alerts], declared below
// with its source; "<<Key>>" in an expr is replaced by its value.

struct Threshold {
  const char* key;
  double value;
  const char* description;  // what it means and where the number comes from
};

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

struct DefaultRule {
  const char* name;
  const char* expr;
  const char* for_duration;
  const char* severity;
  const char* summary;
  const char* description;
};

const DefaultRule kDefaultRules[] = {
    {"PostgresDown", "pg_up == 0", "1m", "critical",
     "PostgreSQL {{ $labels.target }} is down",
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
     "2m", "warning", "PostgreSQL {{ $labels.target }} uses {{ $value | humanizePercentage }} of "
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
     "10m", "warning",
     "Low cache hit ratio in {{ $labels.datname }} on {{ $labels.target }}",
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
     "pg_stat_activity_max_idle_in_transaction_seconds > <<PostgresLongIdleInTransaction>>",
     "1m", "warning", "Long idle-in-transaction session on {{ $labels.target }}",
     "A session of database {{ $labels.datname }} has been idle in a transaction for "
     "{{ $value | humanizeDuration }}; it holds locks and blocks VACUUM."},
    {"PostgresReplicationLag", "pg_replication_lag_seconds > <<PostgresReplicationLag>>", "2m",
     "warning", "Replication lag on {{ $labels.target }}",
     "The replica {{ $labels.target }} is {{ $value | humanizeDuration }} behind its primary."},
    {"RedisMemoryNearMaxmemory",
     "redis_memory_used_bytes / (redis_memory_max_bytes > 0) > <<RedisMemoryNearMaxmemory>>",
     "5m", "warning", "Redis {{ $labels.target }} uses {{ $value | humanizePercentage }} of "
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
    {"TachoPoolSaturated", "tacho_pool_utilization_ratio > <<TachoPoolSaturated>>", "5m",
     "warning", "Pool {{ $labels.pool }} saturated on {{ $labels.target }}",
     "The {{ $labels.kind }} connection pool {{ $labels.pool }} of {{ $labels.target }} is "
     "{{ $value | humanizePercentage }} utilised; requests will queue."},
    {"ProcessHighCpu",
     "sum without (mode) (rate(namedprocess_namegroup_cpu_seconds_total[5m])) / on (target) "
     "group_left tacho_host_cpus > <<ProcessHighCpu>>",
     "10m", "warning", "{{ $labels.groupname }} uses {{ $value | humanizePercentage }} of the "
     "host's CPUs",
     "Process group {{ $labels.groupname }} ({{ $labels.target }}) used "
     "{{ $value | humanizePercentage }} of all CPUs over 5m."},
    {"ProcessFdExhaustion",
     "namedprocess_namegroup_worst_fd_ratio > <<ProcessFdExhaustion>>", "5m", "warning",
     "{{ $labels.groupname }} is running out of file descriptors",
     "A process of group {{ $labels.groupname }} ({{ $labels.target }}) uses "
     "{{ $value | humanizePercentage }} of its open-files limit."},
    {"TachoCollectorFailing",
     "increase(tacho_collector_errors_total[15m]) >= <<TachoCollectorFailing>>", "0s", "warning",
     "tacho collector {{ $labels.target }} keeps failing",
     "The {{ $labels.collector }} collector {{ $labels.target }} failed "
     "{{ $value | humanize }} times over 15m; see /api/v1/status for the error."},
};

std::string FormatNumber(double v) { return promql::FormatGoFloat(v); }

const Schema& RuleFields() {
  static const Schema kFields = {
      {.name = "name",
       .type = Type::kString,
       .description = "Alert name (CamelCase); the alertname label. A default rule's name "
                      "replaces that rule.",
       .required = true,
       .example = "\"PostgresConnectionsHigh\""},
      {.name = "expr",
       .type = Type::kString,
       .description = "PromQL expression (tacho's subset, see README 'Alerts'); every result "
                      "series is an alert.",
       .required = true,
       .example = "\"sum by (target) (pg_stat_activity_connections) > 50\""},
      {.name = "for",
       .type = Type::kDuration,
       .default_value = "\"0s\"",
       .description = "How long the expression must hold before the alert fires (pending until "
                      "then)."},
      {.name = "keep_firing_for",
       .type = Type::kDuration,
       .default_value = "\"0s\"",
       .description = "How long a firing alert keeps firing after its expression cleared."},
      {.name = "severity",
       .type = Type::kString,
       .default_value = "\"warning\"",
       .description = "The severity label.",
       .allowed = {"critical", "warning", "info"}},
      {.name = "labels",
       .type = Type::kStringMap,
       .description = "Extra labels of the alert (values may use {{ $labels.x }}).",
       .example = "{ team = \"db\" }"},
      {.name = "annotations",
       .type = Type::kStringMap,
       .description = "summary, description, runbook_url, ...; templates: {{ $labels.x }}, "
                      "{{ $value }}, {{ $value | humanize }}, humanizePercentage, "
                      "humanizeDuration.",
       .example = "{ summary = \"{{ $labels.target }}: {{ $value }} connections\" }"},
  };
  return kFields;
}

const Schema& WebhookFields() {
  static const Schema kFields = {
      {.name = "name",
       .type = Type::kString,
       .description = "Receiver name (the payload's receiver field); unique.",
       .required = true,
       .example = "\"oncall\""},
      {.name = "url",
       .type = Type::kString,
       .description = "http:// or https:// URL the Alertmanager-compatible payload is POSTed "
                      "to (HTTPS verifies the certificate).",
       .required = true,
       .example = "\"https://hooks.example.com/alertmanager\""},
      {.name = "timeout",
       .type = Type::kDuration,
       .default_value = "\"10s\"",
       .description = "Deadline of one delivery attempt (connect, TLS, request, response)."},
      {.name = "ca_file",
       .type = Type::kString,
       .description = "PEM CA bundle to verify the receiver's certificate with (default: the "
                      "system's).",
       .example = "\"/etc/tacho/webhook-ca.pem\""},
      {.name = "group_by",
       .type = Type::kStringList,
       .default_value = "[\"alertname\"]",
       .description = "Labels that split alerts into notifications; [\"...\"] groups by all "
                      "labels."},
      {.name = "group_wait",
       .type = Type::kDuration,
       .default_value = "\"30s\"",
       .description = "Wait before the first notification of a new group (to batch)."},
      {.name = "group_interval",
       .type = Type::kDuration,
       .default_value = "\"5m\"",
       .description = "Wait before notifying about changes to a group already notified."},
      {.name = "repeat_interval",
       .type = Type::kDuration,
       .default_value = "\"4h\"",
       .description = "Wait before repeating an unchanged notification."},
      {.name = "send_resolved",
       .type = Type::kBool,
       .default_value = "true",
       .description = "Notify when alerts resolve."},
      {.name = "max_alerts",
       .type = Type::kInt,
       .default_value = "0",
       .description = "Alerts per payload (0: all); the rest are counted in truncatedAlerts.",
       .min = 0},
      {.name = "headers",
       .type = Type::kStringMap,
       .description = "Extra HTTP headers.",
       .example = "{ X-Team = \"db\" }"},
      {.name = "secret",
       .type = Type::kString,
       .description = "Signing secret(s), one per line for rotation (secret_file): each adds a "
                      "webhook-signature entry (Standard Webhooks; 'whsec_<base64>' keys are "
                      "decoded); the first also signs X-Hub-Signature-256.",
       .secret = true,
       .example = "\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\""},
      {.name = "retry.max_age",
       .type = Type::kDuration,
       .default_value = "\"24h\"",
       .description = "Give up on a notification (and count it dropped) this long after it was "
                      "queued."},
      {.name = "retry.initial_backoff",
       .type = Type::kDuration,
       .default_value = "\"1s\"",
       .description = "First retry delay; doubles per attempt, with jitter."},
      {.name = "retry.max_backoff",
       .type = Type::kDuration,
       .default_value = "\"5m\"",
       .description = "Longest retry delay (a Retry-After header may ask for longer)."},
  };
  return kFields;
}

const Schema& AlertmanagerFields() {
  static const Schema kFields = {
      {.name = "name",
       .type = Type::kString,
       .description = "Name (for logs and metrics); unique among webhooks and alertmanagers.",
       .required = true,
       .example = "\"am\""},
      {.name = "url",
       .type = Type::kString,
       .description = "Alertmanager base URL; alerts are POSTed to <url>/api/v2/alerts.",
       .required = true,
       .example = "\"http://alertmanager:9093\""},
      {.name = "timeout",
       .type = Type::kDuration,
       .default_value = "\"10s\"",
       .description = "Deadline of one push."},
      {.name = "ca_file",
       .type = Type::kString,
       .description = "PEM CA bundle for https URLs (default: the system's).",
       .example = "\"/etc/tacho/am-ca.pem\""},
      {.name = "headers",
       .type = Type::kStringMap,
       .description = "Extra HTTP headers.",
       .example = "{ Authorization = \"Bearer ...\" }"},
  };
  return kFields;
}

Schema BuildAlertsSchema() {
  Schema s = {
      {.name = "interval",
       .type = Type::kDuration,
       .default_value = "\"15s\"",
       .description = "How often rules are evaluated, on the latest collected samples."},
      {.name = "default_rules",
       .type = Type::kBool,
       .default_value = "true",
       .description = "Evaluate the built-in rule pack (tacho rules export lists it)."},
      {.name = "disable",
       .type = Type::kStringList,
       .default_value = "[]",
       .description = "Names of built-in rules to switch off."},
      {.name = "external_url",
       .type = Type::kString,
       .description = "Base of generatorURL and the payload's externalURL (default: "
                      "http://<agent listen address>).",
       .example = "\"https://tacho.example.com\""},
  };
  for (const Threshold& t : kThresholds) {
    s.push_back({.name = std::string("thresholds.") + t.key,
                 .type = Type::kFloat,
                 .default_value = FormatNumber(t.value) +
                                  (std::floor(t.value) == t.value ? ".0" : ""),
                 .description = t.description});
  }
  s.push_back({.name = "rules",
               .type = Type::kTableList,
               .description = "Alerting rules, evaluated every interval beside the default pack.",
               .fields = RuleFields()});
  s.push_back({.name = "webhook",
               .type = Type::kTableList,
               .description = "Webhook receivers: Alertmanager's webhook payload (version 4), "
                              "signed, queued durably under state_dir and retried.",
               .fields = WebhookFields()});
  s.push_back({.name = "alertmanager",
               .type = Type::kTableList,
               .description = "Existing Alertmanagers to push alerts to (/api/v2/alerts), as "
                              "Prometheus does.",
               .fields = AlertmanagerFields()});
  return s;
}

bool IsCamelCase(const std::string& name) {
  static const std::regex kCamel("^[A-Z][A-Za-z0-9]*$");
  return std::regex_match(name, kCamel);
}

bool IsLabelName(const std::string& name) {
  static const std::regex kLabel("^[a-zA-Z_][a-zA-Z0-9_]*$");
  return std::regex_match(name, kLabel) && name.rfind("__", 0) != 0;
}

// Go's fmt %.4g.
std::string GoG4(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string Trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Checks a rule's expression: it parses within the subset and every selector names its metric
// (tacho keeps history per metric name). Returns an error at the expr's position.
std::optional<config::Error> CheckExpr(const std::string& expr, const config::Position& pos,
                                       const std::string& rule) {
  auto parsed = promql::Parse(expr);
  if (!parsed) {
    return config::Error{pos, "rule '" + rule + "': expr: " + parsed.error().message +
                                 " (at character " + std::to_string(parsed.error().pos + 1) +
                                 " of \"" + expr + "\")"};
  }
  if ((*parsed)->ReturnsScalar()) {
    return config::Error{pos, "rule '" + rule + "': expr must evaluate to a vector, not a scalar"};
  }
  for (const auto& use : promql::Selectors(**parsed)) {
    if (use.selector->metric.empty()) {
      return config::Error{pos, "rule '" + rule + "': expr: every selector must name its metric "
                                "(tacho keeps history per metric name)"};
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckTemplate(const std::string& text) {
  promql::LabelSet labels;
  auto r = ExpandTemplate(text, labels, 0);
  if (!r) return r.error().message();
  return std::nullopt;
}

}  // namespace

std::string RuleSpec::Identity() const {
  std::string id = name + "{";
  for (const auto& [k, v] : labels) {
    id += (id.back() == '{' ? "" : ",") + k + "=" + boost::json::serialize(boost::json::string(v));
  }
  return id + "}";
}

const config::Schema& AlertsSchema() {
  static const Schema kSchema = BuildAlertsSchema();
  return kSchema;
}

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
        r.expr.replace(at, marker.size(), FormatNumber(v));
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

Expected<std::vector<RuleSpec>, config::Error> LoadRules(const config::Section& alerts) {
  std::vector<RuleSpec> rules;
  std::set<std::string> disabled;
  std::set<std::string> builtin_names;
  for (const DefaultRule& d : kDefaultRules) builtin_names.insert(d.name);
  for (const auto& name : alerts.GetStringList("disable")) {
    if (!builtin_names.count(name)) {
      std::vector<std::string> names(builtin_names.begin(), builtin_names.end());
      std::string message = "disable names '" + name + "', which is not a built-in rule";
      std::string suggestion = config::Suggest(name, names);
      if (!suggestion.empty()) message += "; did you mean '" + suggestion + "'?";
      return alerts.ErrorAt("disable", message);
    }
    disabled.insert(name);
  }
  std::vector<RuleSpec> configured;
  std::set<std::string> seen;
  for (const config::Section& s : alerts.GetTableList("rules")) {
    RuleSpec r;
    r.name = s.GetString("name");
    if (!IsCamelCase(r.name)) {
      return s.ErrorAt("name", "rule name '" + r.name +
                                   "' must be CamelCase (letters and digits, starting upper-case)");
    }
    if (!seen.insert(r.name).second) {
      return s.ErrorAt("name", "duplicate rule name '" + r.name + "'");
    }
    r.expr = s.GetString("expr");
    if (auto err = CheckExpr(r.expr, s.PositionOf("expr"), r.name)) return *err;
    r.for_duration = s.GetDuration("for");
    r.keep_firing_for = s.GetDuration("keep_firing_for");
    r.severity = s.GetString("severity");
    r.labels = s.GetStringMap("labels");
    for (const auto& [k, v] : r.labels) {
      if (!IsLabelName(k) || k == "alertname") {
        return s.ErrorAt("labels", "rule '" + r.name + "': invalid label name '" + k + "'");
      }
      if (auto err = CheckTemplate(v)) {
        return s.ErrorAt("labels", "rule '" + r.name + "': label " + k + ": " + *err);
      }
    }
    if (r.labels.count("severity")) {
      return s.ErrorAt("labels", "rule '" + r.name + "': set the severity with severity = \"" +
                                     r.labels["severity"] + "\", not as a label");
    }
    r.labels["severity"] = r.severity;
    r.annotations = s.GetStringMap("annotations");
    for (const auto& [k, v] : r.annotations) {
      if (auto err = CheckTemplate(v)) {
        return s.ErrorAt("annotations", "rule '" + r.name + "': annotation " + k + ": " + *err);
      }
    }
    configured.push_back(std::move(r));
  }
  if (alerts.GetBool("default_rules")) {
    for (RuleSpec& r : DefaultRules(alerts)) {
      if (disabled.count(r.name) || seen.count(r.name)) continue;
      rules.push_back(std::move(r));
    }
  }
  for (RuleSpec& r : configured) rules.push_back(std::move(r));
  return rules;
}

// ---------------------------------------------------------------------------------------------
// Templates

std::string Humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return GoG4(v);
  if (std::fabs(v) >= 1) {
    std::string prefix;
    for (const char* p : {"k", "M", "G", "T", "P", "E", "Z", "Y"}) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return GoG4(v) + prefix;
  }
  std::string prefix;
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return GoG4(v) + prefix;
}

std::string HumanizePercentage(double v) { return GoG4(v * 100) + "%"; }

std::string HumanizeDuration(double v) {
  if (std::isnan(v) || std::isinf(v)) return GoG4(v);
  if (v == 0) return GoG4(v) + "s";
  if (std::fabs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    const auto d = static_cast<std::int64_t>(v);
    const std::int64_t seconds = d % 60, minutes = (d / 60) % 60, hours = (d / 3600) % 24,
                       days = d / 86400;
    auto s = [](std::int64_t n) { return std::to_string(n); };
    if (days != 0) return sign + s(days) + "d " + s(hours) + "h " + s(minutes) + "m " + s(seconds) + "s";
    if (hours != 0) return sign + s(hours) + "h " + s(minutes) + "m " + s(seconds) + "s";
    if (minutes != 0) return sign + s(minutes) + "m " + s(seconds) + "s";
    return sign + GoG4(v) + "s";
  }
  std::string prefix;
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return GoG4(v) + prefix + "s";
}

Expected<std::string> ExpandTemplate(const std::string& text, const promql::LabelSet& labels,
                                     double value) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find("{{", i);
    if (open == std::string::npos) {
      out += text.substr(i);
      break;
    }
    out += text.substr(i, open - i);
    const auto close = text.find("}}", open + 2);
    if (close == std::string::npos) return Status::Error("unclosed '{{'");
    std::string action = Trim(text.substr(open + 2, close - open - 2));
    i = close + 2;
    std::string pipe;
    if (auto bar = action.find('|'); bar != std::string::npos) {
      pipe = Trim(action.substr(bar + 1));
      action = Trim(action.substr(0, bar));
    }
    std::string result;
    if (action == "$value") {
      if (pipe.empty()) {
        result = promql::FormatGoFloat(value);
      } else if (pipe == "humanize") {
        result = Humanize(value);
      } else if (pipe == "humanizePercentage") {
        result = HumanizePercentage(value);
      } else if (pipe == "humanizeDuration") {
        result = HumanizeDuration(value);
      } else {
        return Status::Error("unsupported template function '" + pipe +
                             "' (supported: humanize, humanizePercentage, humanizeDuration)");
      }
    } else if (action.rfind("$labels.", 0) == 0 && IsLabelName(action.substr(8)) &&
               pipe.empty()) {
      auto it = labels.find(action.substr(8));
      result = it == labels.end() ? "<no value>" : it->second;
    } else {
      return Status::Error("unsupported template action '{{" +
                           text.substr(open + 2, close - open - 2) +
                           "}}' (supported: {{ $value }}, {{ $labels.NAME }}, "
                           "{{ $value | humanize }}, humanizePercentage, humanizeDuration)");
    }
    out += result;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Export

std::string ExportPrometheusRules(const std::vector<RuleSpec>& rules,
                                  std::chrono::milliseconds interval) {
  auto q = [](const std::string& s) { return boost::json::serialize(boost::json::string(s)); };
  std::string out =
      "# Generated by `tacho rules export`: the rules tacho evaluates, as a Prometheus rule file.\n"
      "# Every expression uses tacho's PromQL subset, which has PromQL's meaning, so Prometheus\n"
      "# raises the same alerts from the same series. Do not edit: change tacho's [alerts]\n"
      "# configuration and export again.\n"
      "groups:\n"
      "  - name: tacho\n"
      "    interval: " +
      promql::FormatDurationMs(interval.count()) + "\n    rules:\n";
  for (const RuleSpec& r : rules) {
    out += "      - alert: " + r.name + "\n";
    out += "        expr: " + q(r.expr) + "\n";
    if (r.for_duration.count() > 0) {
      out += "        for: " + promql::FormatDurationMs(r.for_duration.count()) + "\n";
    }
    if (r.keep_firing_for.count() > 0) {
      out += "        keep_firing_for: " + promql::FormatDurationMs(r.keep_firing_for.count()) +
             "\n";
    }
    if (!r.labels.empty()) {
      out += "        labels:\n";
      for (const auto& [k, v] : r.labels) out += "          " + k + ": " + q(v) + "\n";
    }
    if (!r.annotations.empty()) {
      out += "        annotations:\n";
      for (const auto& [k, v] : r.annotations) out += "          " + q(k) + ": " + q(v) + "\n";
    }
  }
  if (rules.empty()) out += "      []\n";
  return out;
}

}  // namespace tacho::agent
