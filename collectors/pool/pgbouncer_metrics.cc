#include "collectors/pool/pgbouncer_metrics.h"

#include <algorithm>
#include <limits>
#include <set>
#include <string_view>
#include <utility>

#include "agent/pool_model.h"

namespace tacho::collectors::pool {
namespace {

using agent::Labels;
using agent::MetricSink;

// The admin console's own pseudo-database: in pgbouncer_exporter's families (as the exporter
// has it) but not in the pool model, where it has no server connections to share.
constexpr std::string_view kAdminDatabase = "pgbouncer";

// Length of the valid UTF-8 sequence at text[i], or 0.
std::size_t Utf8Length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b = byte(i);
  if (b < 0x80) return 1;
  const std::size_t len = (b & 0xe0) == 0xc0   ? 2
                          : (b & 0xf0) == 0xe0 ? 3
                          : (b & 0xf8) == 0xf0 ? 4
                                               : 0;
  if (len == 0) return 0;
  const unsigned min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;  // no overlong forms
  if (i + len > text.size()) return 0;
  unsigned cp = b & (0x7f >> len);
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

// Label values must be UTF-8; like pgbouncer_exporter, an invalid one becomes "<invalid>".
std::string LabelValue(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = Utf8Length(text, i);
    if (len == 0) return "<invalid>";
    i += len;
  }
  return std::string(text);
}

std::string OptionalLabelValue(const std::optional<std::string>& text) {
  return text ? LabelValue(*text) : std::string();
}

void Gauge(MetricSink& sink, const char* name, const char* help, const Labels& labels,
           const std::optional<double>& value, double scale = 1) {
  if (value) sink.Gauge(name, help, labels, *value * scale);
}

void Counter(MetricSink& sink, const char* name, const char* help, const Labels& labels,
             const std::optional<double>& value, double scale = 1) {
  if (value) sink.Counter(name, help, labels, *value * scale);
}

std::optional<double> Sum(std::initializer_list<std::optional<double>> values) {
  std::optional<double> total;
  for (const auto& v : values) {
    if (v) total = total.value_or(0) + *v;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// SHOW VERSION

void WriteVersion(const ShowTable& table, MetricSink& sink) {
  auto version = ParseVersionString(table);
  if (!version) return;
  sink.Gauge("pgbouncer_version_info",
             "Always 1; the version label is SHOW VERSION's text, e.g. \"PgBouncer 1.18.0\".",
             {{"version", LabelValue(*version)}}, 1);
}

// ---------------------------------------------------------------------------------------------
// SHOW POOLS

struct PoolField {
  std::optional<double> PoolRow::*field;
  const char* name;
  const char* help;
};

// clang-format off
constexpr PoolField kPoolFields[] = {
    {&PoolRow::cl_active, "pgbouncer_pools_client_active_connections", "Client connections linked to a server connection and able to process queries (cl_active)."},
    {&PoolRow::cl_waiting, "pgbouncer_pools_client_waiting_connections", "Client connections that sent a query and wait for a server connection (cl_waiting)."},
    {&PoolRow::cl_active_cancel_req, "pgbouncer_pools_client_active_cancel_connections", "Client connections that forwarded a query cancellation to the server and wait for its answer (cl_active_cancel_req, PgBouncer 1.18+)."},
    {&PoolRow::cl_waiting_cancel_req, "pgbouncer_pools_client_waiting_cancel_connections", "Client connections whose query cancellation is not forwarded to the server yet (cl_waiting_cancel_req; cl_cancel_req before PgBouncer 1.18)."},
    {&PoolRow::sv_active, "pgbouncer_pools_server_active_connections", "Server connections linked to a client connection (sv_active)."},
    {&PoolRow::sv_active_cancel, "pgbouncer_pools_server_active_cancel_connections", "Server connections forwarding a cancel request (sv_active_cancel, PgBouncer 1.18+)."},
    {&PoolRow::sv_being_canceled, "pgbouncer_pools_server_being_canceled_connections", "Server connections that could become idle but wait for in-flight cancel requests aimed at them (sv_being_canceled, PgBouncer 1.18+)."},
    {&PoolRow::sv_idle, "pgbouncer_pools_server_idle_connections", "Server connections idle and ready for a client query (sv_idle)."},
    {&PoolRow::sv_used, "pgbouncer_pools_server_used_connections", "Server connections idle longer than server_check_delay, needing server_check_query before reuse (sv_used)."},
    {&PoolRow::sv_tested, "pgbouncer_pools_server_testing_connections", "Server connections running server_reset_query or server_check_query (sv_tested)."},
    {&PoolRow::sv_login, "pgbouncer_pools_server_login_connections", "Server connections logging in (sv_login)."},
    {&PoolRow::maxwait_seconds, "pgbouncer_pools_client_maxwait_seconds", "Age of the oldest waiting client of the pool, in seconds with microsecond precision (maxwait + maxwait_us); 0 when none waits."},
};
// clang-format on

double PoolActivity(const PoolRow& p) {
  return p.cl_active.value_or(0) + p.cl_waiting.value_or(0) + p.sv_active.value_or(0) +
         p.sv_idle.value_or(0) + p.sv_used.value_or(0);
}

// The pools to export: duplicates of a (database, user) label pair dropped (two names that are
// not UTF-8 both read "<invalid>"), the busiest max_pools kept.
std::vector<const PoolRow*> KeepPools(const std::vector<PoolRow>& pools, std::size_t max_pools,
                                      std::size_t& dropped) {
  std::vector<const PoolRow*> kept;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& p : pools) {
    if (seen.emplace(LabelValue(p.database), LabelValue(p.user)).second) kept.push_back(&p);
  }
  std::sort(kept.begin(), kept.end(), [](const PoolRow* a, const PoolRow* b) {
    const double x = PoolActivity(*a), y = PoolActivity(*b);
    if (x != y) return x > y;
    if (a->database != b->database) return a->database < b->database;
    return a->user < b->user;
  });
  dropped = kept.size() > max_pools ? kept.size() - max_pools : 0;
  if (dropped > 0) kept.resize(max_pools);
  return kept;
}

void WritePools(const std::vector<const PoolRow*>& pools, MetricSink& sink) {
  for (const PoolRow* p : pools) {
    const Labels labels{{"database", LabelValue(p->database)}, {"user", LabelValue(p->user)}};
    for (const auto& f : kPoolFields) Gauge(sink, f.name, f.help, labels, p->*f.field);
  }
}

// ---------------------------------------------------------------------------------------------
// SHOW STATS

struct StatsField {
  std::optional<double> StatsRow::*field;
  const char* name;
  const char* help;
  double scale;
};

// Counters only: the avg_* columns are rates over PgBouncer's stats_period, which PromQL
// derives better from the totals (pgbouncer_exporter leaves them out too).
// clang-format off
constexpr StatsField kStatsFields[] = {
    {&StatsRow::total_query_count, "pgbouncer_stats_queries_pooled_total", "SQL queries pooled by PgBouncer (total_query_count, PgBouncer 1.8+).", 1},
    {&StatsRow::total_requests, "pgbouncer_stats_queries_total", "SQL requests pooled by PgBouncer (total_requests, before PgBouncer 1.8).", 1},
    {&StatsRow::total_xact_count, "pgbouncer_stats_sql_transactions_pooled_total", "SQL transactions pooled by PgBouncer (total_xact_count).", 1},
    {&StatsRow::total_received, "pgbouncer_stats_received_bytes_total", "Network traffic received by PgBouncer from clients, in bytes (total_received).", 1},
    {&StatsRow::total_sent, "pgbouncer_stats_sent_bytes_total", "Network traffic sent by PgBouncer to clients, in bytes (total_sent).", 1},
    {&StatsRow::total_query_time_us, "pgbouncer_stats_queries_duration_seconds_total", "Time PgBouncer was connected to PostgreSQL executing queries, in seconds (total_query_time).", 1e-6},
    {&StatsRow::total_xact_time_us, "pgbouncer_stats_server_in_transaction_seconds_total", "Time PgBouncer was connected to PostgreSQL in a transaction, idle in transaction or executing queries, in seconds (total_xact_time).", 1e-6},
    {&StatsRow::total_wait_time_us, "pgbouncer_stats_client_wait_seconds_total", "Time clients spent waiting for a server connection, in seconds (total_wait_time).", 1e-6},
    {&StatsRow::total_server_assignment_count, "pgbouncer_stats_server_assignments_total", "Times a server connection was assigned to a client (total_server_assignment_count, PgBouncer 1.23+).", 1},
    {&StatsRow::total_client_parse_count, "pgbouncer_stats_client_parses_total", "Prepared-statement Parse messages received from clients (total_client_parse_count, PgBouncer 1.24+).", 1},
    {&StatsRow::total_server_parse_count, "pgbouncer_stats_server_parses_total", "Prepared-statement Parse messages PgBouncer sent to PostgreSQL (total_server_parse_count, PgBouncer 1.24+).", 1},
    {&StatsRow::total_bind_count, "pgbouncer_stats_binds_total", "Prepared statements readied for execution by a Bind message and forwarded to PostgreSQL (total_bind_count, PgBouncer 1.24+).", 1},
};
// clang-format on

void WriteStats(const ShowTable& table, MetricSink& sink) {
  std::set<std::string> seen;
  for (const auto& s : ParseStats(table)) {
    if (!seen.insert(LabelValue(s.database)).second) continue;
    const Labels labels{{"database", LabelValue(s.database)}};
    for (const auto& f : kStatsFields) Counter(sink, f.name, f.help, labels, s.*f.field, f.scale);
  }
}

// ---------------------------------------------------------------------------------------------
// SHOW DATABASES

struct DatabaseField {
  std::optional<double> DatabaseRow::*field;
  const char* name;
  const char* help;
};

// The first six are pgbouncer_exporter's; the rest are tacho's, for columns it does not read.
// clang-format off
constexpr DatabaseField kDatabaseFields[] = {
    {&DatabaseRow::pool_size, "pgbouncer_databases_pool_size", "Server connections a pool of this database may open (pool_size, or default_pool_size)."},
    {&DatabaseRow::reserve_pool, "pgbouncer_databases_reserve_pool", "Additional server connections allowed for this database (reserve_pool; reserve_pool_size in PgBouncer 1.24+)."},
    {&DatabaseRow::max_connections, "pgbouncer_databases_max_connections", "Most server connections allowed for this database (max_db_connections); 0 means no limit."},
    {&DatabaseRow::current_connections, "pgbouncer_databases_current_connections", "Server connections of this database."},
    {&DatabaseRow::paused, "pgbouncer_databases_paused", "1 if this database is paused, else 0."},
    {&DatabaseRow::disabled, "pgbouncer_databases_disabled", "1 if this database is disabled, else 0."},
    {&DatabaseRow::min_pool_size, "pgbouncer_databases_min_pool_size", "Server connections PgBouncer keeps open per pool of this database at least (min_pool_size, PgBouncer 1.16+)."},
    {&DatabaseRow::server_lifetime_seconds, "pgbouncer_databases_server_lifetime_seconds", "Longest lifetime of a server connection of this database, in seconds (server_lifetime, PgBouncer 1.23+)."},
    {&DatabaseRow::max_client_connections, "pgbouncer_databases_max_client_connections", "Most client connections allowed for this database (max_db_client_connections, PgBouncer 1.24+); 0 means no limit."},
    {&DatabaseRow::current_client_connections, "pgbouncer_databases_current_client_connections", "Client connections of this database (PgBouncer 1.24+)."},
};
// clang-format on

void WriteDatabases(const std::vector<DatabaseRow>& databases, MetricSink& sink) {
  std::set<std::string> seen;
  for (const auto& d : databases) {
    if (!seen.insert(LabelValue(d.name)).second) continue;
    const Labels labels{{"name", LabelValue(d.name)},
                        {"host", OptionalLabelValue(d.host)},
                        {"port", OptionalLabelValue(d.port)},
                        {"database", OptionalLabelValue(d.database)},
                        {"force_user", OptionalLabelValue(d.force_user)},
                        {"pool_mode", OptionalLabelValue(d.pool_mode)}};
    for (const auto& f : kDatabaseFields) Gauge(sink, f.name, f.help, labels, d.*f.field);
  }
}

// ---------------------------------------------------------------------------------------------
// SHOW CONFIG and SHOW LISTS

void WriteConfig(const PgbouncerConfig& config, MetricSink& sink) {
  Gauge(sink, "pgbouncer_config_max_client_connections",
        "Most client connections PgBouncer accepts (max_client_conn).", {},
        config.Number("max_client_conn"));
  Gauge(sink, "pgbouncer_config_max_user_connections",
        "Most server connections per user (max_user_connections); 0 means no limit.", {},
        config.Number("max_user_connections"));
  Gauge(sink, "pgbouncer_config_default_pool_size",
        "Server connections per pool for databases without their own pool_size "
        "(default_pool_size).",
        {}, config.Number("default_pool_size"));
  Gauge(sink, "pgbouncer_config_max_db_connections",
        "Most server connections per database for databases without their own limit "
        "(max_db_connections); 0 means no limit.",
        {}, config.Number("max_db_connections"));
}

struct ListGauge {
  const char* list;
  const char* name;
  const char* help;
};

// pgbouncer_exporter's names; its dns_* gauges are renamed after what they count.
// clang-format off
constexpr ListGauge kListGauges[] = {
    {"databases", "pgbouncer_databases", "Databases PgBouncer knows (SHOW LISTS databases)."},
    {"users", "pgbouncer_users", "Users PgBouncer knows (SHOW LISTS users)."},
    {"pools", "pgbouncer_pools", "Database/user pools, all of them whatever max_pools keeps (SHOW LISTS pools)."},
    {"free_clients", "pgbouncer_free_clients", "Allocated client connection slots not in use (SHOW LISTS free_clients)."},
    {"used_clients", "pgbouncer_used_clients", "Client connections in use (SHOW LISTS used_clients)."},
    {"login_clients", "pgbouncer_login_clients", "Client connections logging in (SHOW LISTS login_clients)."},
    {"free_servers", "pgbouncer_free_servers", "Allocated server connection slots not in use (SHOW LISTS free_servers)."},
    {"used_servers", "pgbouncer_used_servers", "Server connections in use (SHOW LISTS used_servers)."},
    {"dns_names", "pgbouncer_cached_dns_names", "DNS names in PgBouncer's cache (SHOW LISTS dns_names)."},
    {"dns_zones", "pgbouncer_cached_dns_zones", "DNS zones in PgBouncer's cache (SHOW LISTS dns_zones)."},
    {"dns_queries", "pgbouncer_in_flight_dns_queries", "DNS queries in flight (SHOW LISTS dns_queries)."},
};
// clang-format on

void WriteLists(const std::map<std::string, double>& lists, MetricSink& sink) {
  for (const auto& g : kListGauges) {
    auto it = lists.find(g.list);
    if (it != lists.end()) sink.Gauge(g.name, g.help, {}, it->second);
  }
}

// ---------------------------------------------------------------------------------------------
// The pool model

// The limit on a pool's server connections: its database's pool_size (SHOW DATABASES already
// substitutes default_pool_size), capped by the database's max_db_connections when that is
// positive; without a row for the database, default_pool_size capped by max_db_connections
// from SHOW CONFIG. A size of 0 counts as no limit.
void SetPoolLimit(const DatabaseRow* db, const std::optional<PgbouncerConfig>& config,
                  agent::PoolSample& sample) {
  std::optional<double> size, cap;
  if (db && db->pool_size) {
    size = db->pool_size;
    cap = db->max_connections;
  } else if (config && config->Number("default_pool_size")) {
    size = config->Number("default_pool_size");
    cap = config->Number("max_db_connections");
  }
  if (!size) {
    sample.no_limit = agent::NoLimit::kUnknown;
    return;
  }
  double limit = *size > 0 ? *size : std::numeric_limits<double>::infinity();
  if (cap && *cap > 0) limit = std::min(limit, *cap);
  if (limit == std::numeric_limits<double>::infinity()) {
    sample.no_limit = agent::NoLimit::kUnlimited;
  } else {
    sample.size = limit;
  }
}

void WritePoolModel(const std::vector<const PoolRow*>& kept, const std::vector<PoolRow>& all,
                    const std::vector<DatabaseRow>& databases,
                    const std::optional<PgbouncerConfig>& config,
                    const std::optional<std::map<std::string, double>>& lists, bool pools_read,
                    MetricSink& sink) {
  std::map<std::string_view, const DatabaseRow*> by_name;
  for (const auto& d : databases) by_name.emplace(d.name, &d);

  for (const PoolRow* p : kept) {
    if (p->database == kAdminDatabase) continue;
    agent::PoolSample s;
    s.kind = "pgbouncer";
    s.pool = LabelValue(p->database) + "/" + LabelValue(p->user);
    auto db = by_name.find(p->database);
    SetPoolLimit(db == by_name.end() ? nullptr : db->second, config, s);
    if (p->sv_active) s.in_use = *p->sv_active + p->sv_active_cancel.value_or(0);
    s.idle = Sum({p->sv_idle, p->sv_used});
    s.waiting = p->cl_waiting;
    s.max_wait_seconds = p->maxwait_seconds;
    agent::WritePool(sink, s);
  }

  // The client side: every client connection counts against max_client_conn.
  if (!pools_read && !lists) return;
  agent::PoolSample c;
  c.kind = "pgbouncer";
  c.pool = "clients";
  if (auto max = config ? config->Number("max_client_conn") : std::nullopt) {
    if (*max > 0) {
      c.size = *max;
    } else {
      c.no_limit = agent::NoLimit::kUnlimited;
    }
  } else {
    c.no_limit = agent::NoLimit::kUnknown;
  }
  std::optional<double> clients, waiting, max_wait;
  for (const auto& p : all) {
    const auto here =
        Sum({p.cl_active, p.cl_waiting, p.cl_active_cancel_req, p.cl_waiting_cancel_req});
    if (here) clients = clients.value_or(0) + *here;
    if (p.cl_waiting) waiting = waiting.value_or(0) + *p.cl_waiting;
    if (p.maxwait_seconds) max_wait = std::max(max_wait.value_or(0), *p.maxwait_seconds);
  }
  if (lists) {
    auto used = lists->find("used_clients");
    if (used != lists->end()) clients = used->second;
  }
  c.in_use = clients;
  c.waiting = waiting;
  c.max_wait_seconds = max_wait;
  agent::WritePool(sink, c);
}

}  // namespace

PgbouncerWriteResult WritePgbouncerMetrics(const PgbouncerReadings& r,
                                           const PgbouncerWriteOptions& o, MetricSink& sink) {
  PgbouncerWriteResult result;
  if (r.version) WriteVersion(*r.version, sink);

  std::vector<PoolRow> pools;
  std::vector<const PoolRow*> kept;
  if (r.pools) {
    pools = ParsePools(*r.pools);
    kept = KeepPools(pools, o.max_pools, result.pools_dropped);
    WritePools(kept, sink);
  }

  if (r.stats) WriteStats(*r.stats, sink);

  std::vector<DatabaseRow> databases;
  if (r.databases) {
    databases = ParseDatabases(*r.databases);
    WriteDatabases(databases, sink);
  }

  std::optional<PgbouncerConfig> config;
  if (r.config) {
    config = ParseConfig(*r.config);
    WriteConfig(*config, sink);
  }

  std::optional<std::map<std::string, double>> lists;
  if (r.lists) {
    lists = ParseLists(*r.lists);
    WriteLists(*lists, sink);
  }

  WritePoolModel(kept, pools, databases, config, lists, r.pools.has_value(), sink);
  return result;
}

}  // namespace tacho::collectors::pool
