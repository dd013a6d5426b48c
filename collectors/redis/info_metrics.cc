#include "collectors/redis/info_metrics.h"

#include <algorithm>
#include <set>

namespace tacho::collectors::redis {
namespace {

using agent::Labels;
using agent::MetricSink;

enum class Kind { kGauge, kCounter, kStatus };

// One plain INFO field and the metric it becomes. kStatus maps "ok" to 1 and anything else
// to 0. Names are redis_exporter's; where its counter lacks the _total suffix that Prometheus
// requires (total_error_replies), or its name ends in _total on a gauge, tacho fixes the name
// or the type; README.md lists those.
struct FieldMetric {
  const char* field;
  const char* metric;
  Kind kind;
  const char* help;
  double scale = 1;
};

// clang-format off
constexpr FieldMetric kFieldMetrics[] = {
    // Server
    {"uptime_in_seconds", "redis_uptime_in_seconds", Kind::kGauge, "Seconds since the server started."},
    {"process_id", "redis_process_id", Kind::kGauge, "Process id of the server."},
    {"io_threads_active", "redis_io_threads_active", Kind::kGauge, "1 while I/O threads are active."},
    // Clients
    {"connected_clients", "redis_connected_clients", Kind::kGauge, "Client connections (excluding replicas)."},
    {"blocked_clients", "redis_blocked_clients", Kind::kGauge, "Clients blocked in a blocking command (BLPOP, WAIT, ...)."},
    {"tracking_clients", "redis_tracking_clients", Kind::kGauge, "Clients with client-side caching tracking on."},
    {"clients_in_timeout_table", "redis_clients_in_timeout_table", Kind::kGauge, "Clients in the timeout table (blocked with a timeout)."},
    {"cluster_connections", "redis_cluster_connections", Kind::kGauge, "Cluster bus connections."},
    {"client_recent_max_input_buffer", "redis_client_recent_max_input_buffer_bytes", Kind::kGauge, "Largest recent client input buffer, in bytes."},
    {"client_recent_max_output_buffer", "redis_client_recent_max_output_buffer_bytes", Kind::kGauge, "Largest recent client output buffer, in bytes."},
    {"total_connections_received", "redis_connections_received_total", Kind::kCounter, "Connections accepted by the server."},
    {"rejected_connections", "redis_rejected_connections_total", Kind::kCounter, "Connections rejected because of maxclients."},
    {"evicted_clients", "redis_evicted_clients_total", Kind::kCounter, "Clients evicted because of maxmemory-clients (Redis 7+)."},
    // Memory
    {"used_memory", "redis_memory_used_bytes", Kind::kGauge, "Memory allocated by Redis, in bytes."},
    {"used_memory_rss", "redis_memory_used_rss_bytes", Kind::kGauge, "Resident set size of the server process, in bytes."},
    {"used_memory_peak", "redis_memory_used_peak_bytes", Kind::kGauge, "Peak of used_memory, in bytes."},
    {"used_memory_overhead", "redis_memory_used_overhead_bytes", Kind::kGauge, "Memory used for internal overhead, in bytes."},
    {"used_memory_startup", "redis_memory_used_startup_bytes", Kind::kGauge, "Memory used at start-up, in bytes."},
    {"used_memory_dataset", "redis_memory_used_dataset_bytes", Kind::kGauge, "Memory used by the dataset, in bytes."},
    {"used_memory_lua", "redis_memory_used_lua_bytes", Kind::kGauge, "Memory used by the Lua engine, in bytes."},
    {"used_memory_scripts", "redis_memory_used_scripts_bytes", Kind::kGauge, "Memory used by cached scripts, in bytes."},
    {"maxmemory", "redis_memory_max_bytes", Kind::kGauge, "maxmemory, in bytes; 0 means no limit."},
    {"mem_fragmentation_ratio", "redis_mem_fragmentation_ratio", Kind::kGauge, "used_memory_rss / used_memory."},
    {"mem_fragmentation_bytes", "redis_mem_fragmentation_bytes", Kind::kGauge, "used_memory_rss - used_memory, in bytes."},
    {"mem_not_counted_for_evict", "redis_mem_not_counted_for_eviction_bytes", Kind::kGauge, "Memory not counted for eviction (replica and AOF buffers), in bytes."},
    {"mem_clients_slaves", "redis_mem_clients_slaves", Kind::kGauge, "Memory used by replica clients, in bytes."},
    {"mem_clients_normal", "redis_mem_clients_normal", Kind::kGauge, "Memory used by normal clients, in bytes."},
    {"allocator_allocated", "redis_allocator_allocated_bytes", Kind::kGauge, "Bytes allocated by the allocator."},
    {"allocator_active", "redis_allocator_active_bytes", Kind::kGauge, "Bytes in the allocator's active pages."},
    {"allocator_resident", "redis_allocator_resident_bytes", Kind::kGauge, "Bytes resident in the allocator."},
    {"allocator_frag_ratio", "redis_allocator_frag_ratio", Kind::kGauge, "Allocator fragmentation ratio."},
    {"allocator_frag_bytes", "redis_allocator_frag_bytes", Kind::kGauge, "Allocator fragmentation, in bytes."},
    {"allocator_rss_ratio", "redis_allocator_rss_ratio", Kind::kGauge, "Allocator resident / active ratio."},
    {"allocator_rss_bytes", "redis_allocator_rss_bytes", Kind::kGauge, "Allocator resident - active, in bytes."},
    {"lazyfree_pending_objects", "redis_lazyfree_pending_objects", Kind::kGauge, "Objects waiting to be freed lazily."},
    {"active_defrag_running", "redis_active_defrag_running", Kind::kGauge, "1 while active defragmentation runs."},
    {"number_of_cached_scripts", "redis_number_of_cached_scripts", Kind::kGauge, "Cached Lua scripts."},
    // Persistence
    {"loading", "redis_loading_dump_file", Kind::kGauge, "1 while a dump file is being loaded."},
    {"rdb_changes_since_last_save", "redis_rdb_changes_since_last_save", Kind::kGauge, "Changes since the last RDB save."},
    {"rdb_bgsave_in_progress", "redis_rdb_bgsave_in_progress", Kind::kGauge, "1 while an RDB background save runs."},
    {"rdb_last_save_time", "redis_rdb_last_save_timestamp_seconds", Kind::kGauge, "Unix time of the last successful RDB save."},
    {"rdb_last_bgsave_status", "redis_rdb_last_bgsave_status", Kind::kStatus, "1 if the last RDB background save succeeded."},
    {"rdb_last_bgsave_time_sec", "redis_rdb_last_bgsave_duration_seconds", Kind::kGauge, "Duration of the last RDB background save, seconds; -1 if none."},
    {"rdb_current_bgsave_time_sec", "redis_rdb_current_bgsave_duration_seconds", Kind::kGauge, "Duration of the running RDB background save, seconds; -1 if none."},
    {"rdb_last_cow_size", "redis_rdb_last_cow_size_bytes", Kind::kGauge, "Copy-on-write memory of the last RDB save, in bytes."},
    {"aof_enabled", "redis_aof_enabled", Kind::kGauge, "1 if AOF is enabled."},
    {"aof_rewrite_in_progress", "redis_aof_rewrite_in_progress", Kind::kGauge, "1 while an AOF rewrite runs."},
    {"aof_rewrite_scheduled", "redis_aof_rewrite_scheduled", Kind::kGauge, "1 if an AOF rewrite is scheduled."},
    {"aof_last_rewrite_time_sec", "redis_aof_last_rewrite_duration_seconds", Kind::kGauge, "Duration of the last AOF rewrite, seconds; -1 if none."},
    {"aof_current_rewrite_time_sec", "redis_aof_current_rewrite_duration_seconds", Kind::kGauge, "Duration of the running AOF rewrite, seconds; -1 if none."},
    {"aof_last_bgrewrite_status", "redis_aof_last_bgrewrite_status", Kind::kStatus, "1 if the last AOF rewrite succeeded."},
    {"aof_last_write_status", "redis_aof_last_write_status", Kind::kStatus, "1 if the last AOF write succeeded."},
    {"aof_last_cow_size", "redis_aof_last_cow_size_bytes", Kind::kGauge, "Copy-on-write memory of the last AOF rewrite, in bytes."},
    {"aof_current_size", "redis_aof_current_size_bytes", Kind::kGauge, "Current AOF size, in bytes (AOF on)."},
    {"aof_base_size", "redis_aof_base_size_bytes", Kind::kGauge, "AOF size at the last rewrite, in bytes (AOF on)."},
    {"module_fork_in_progress", "redis_module_fork_in_progress", Kind::kGauge, "1 while a module fork runs."},
    {"latest_fork_usec", "redis_latest_fork_seconds", Kind::kGauge, "Duration of the latest fork, seconds.", 1e-6},
    // Stats
    {"total_commands_processed", "redis_commands_processed_total", Kind::kCounter, "Commands processed by the server."},
    {"total_net_input_bytes", "redis_net_input_bytes_total", Kind::kCounter, "Bytes read from the network."},
    {"total_net_output_bytes", "redis_net_output_bytes_total", Kind::kCounter, "Bytes written to the network."},
    {"keyspace_hits", "redis_keyspace_hits_total", Kind::kCounter, "Successful key lookups."},
    {"keyspace_misses", "redis_keyspace_misses_total", Kind::kCounter, "Failed key lookups."},
    {"expired_keys", "redis_expired_keys_total", Kind::kCounter, "Keys expired."},
    {"evicted_keys", "redis_evicted_keys_total", Kind::kCounter, "Keys evicted because of maxmemory."},
    {"expired_stale_perc", "redis_expired_stale_percentage", Kind::kGauge, "Estimated percentage of keys that are expired but not yet deleted."},
    {"expired_time_cap_reached_count", "redis_expired_time_cap_reached_total", Kind::kCounter, "Active expire cycles stopped early by their time limit."},
    {"total_error_replies", "redis_error_replies_total", Kind::kCounter, "Error replies sent (Redis 6.2+)."},
    {"pubsub_channels", "redis_pubsub_channels", Kind::kGauge, "Pub/sub channels with subscribers."},
    {"pubsub_patterns", "redis_pubsub_patterns", Kind::kGauge, "Pub/sub patterns with subscribers."},
    {"slave_expires_tracked_keys", "redis_slave_expires_tracked_keys", Kind::kGauge, "Keys tracked for expiry on a writable replica."},
    // Replication
    {"connected_slaves", "redis_connected_slaves", Kind::kGauge, "Connected replicas."},
    {"master_repl_offset", "redis_master_repl_offset", Kind::kGauge, "Replication offset of this server, in bytes."},
    {"second_repl_offset", "redis_second_repl_offset", Kind::kGauge, "Offset up to which the previous replication id is accepted; -1 if none."},
    {"repl_backlog_active", "redis_repl_backlog_is_active", Kind::kGauge, "1 if the replication backlog is active."},
    {"repl_backlog_size", "redis_replication_backlog_bytes", Kind::kGauge, "Replication backlog size, in bytes."},
    {"repl_backlog_first_byte_offset", "redis_repl_backlog_first_byte_offset", Kind::kGauge, "Replication offset of the backlog's first byte."},
    {"repl_backlog_histlen", "redis_repl_backlog_history_bytes", Kind::kGauge, "Bytes of data in the replication backlog."},
    {"sync_full", "redis_replica_resyncs_full", Kind::kGauge, "Full resyncs with replicas."},
    {"sync_partial_ok", "redis_replica_partial_resync_accepted", Kind::kGauge, "Partial resync requests accepted."},
    {"sync_partial_err", "redis_replica_partial_resync_denied", Kind::kGauge, "Partial resync requests denied."},
    // CPU
    {"used_cpu_sys", "redis_cpu_sys_seconds_total", Kind::kCounter, "System CPU time of the server, seconds."},
    {"used_cpu_user", "redis_cpu_user_seconds_total", Kind::kCounter, "User CPU time of the server, seconds."},
    {"used_cpu_sys_children", "redis_cpu_sys_children_seconds_total", Kind::kCounter, "System CPU time of background children, seconds."},
    {"used_cpu_user_children", "redis_cpu_user_children_seconds_total", Kind::kCounter, "User CPU time of background children, seconds."},
    {"used_cpu_sys_main_thread", "redis_cpu_sys_main_thread_seconds_total", Kind::kCounter, "System CPU time of the main thread, seconds."},
    {"used_cpu_user_main_thread", "redis_cpu_user_main_thread_seconds_total", Kind::kCounter, "User CPU time of the main thread, seconds."},
    // Cluster
    {"cluster_enabled", "redis_cluster_enabled", Kind::kGauge, "1 if cluster mode is on."},
};
// clang-format on

constexpr const char* kInstanceInfoHelp = "Information about the Redis instance";
constexpr const char* kCommandsHelp = "Total number of calls per command";
constexpr const char* kCommandsDurationHelp = "Total amount of time in seconds spent per command";
constexpr const char* kRejectedHelp =
    "Calls rejected before execution per command (wrong arity, ACL, OOM, ...; Redis 6.2+)";
constexpr const char* kFailedHelp = "Calls that failed during execution per command (Redis 6.2+)";
constexpr const char* kErrorsHelp = "Total number of errors per error type";

const std::string& FieldOr(const InfoReport& info, const char* key) {
  static const std::string kEmpty;
  const std::string* value = info.Field(key);
  return value != nullptr ? *value : kEmpty;
}

void WriteFields(const InfoReport& info, MetricSink& sink) {
  for (const FieldMetric& f : kFieldMetrics) {
    const std::string* raw = info.Field(f.field);
    if (raw == nullptr) continue;
    if (f.kind == Kind::kStatus) {
      sink.Gauge(f.metric, f.help, {}, *raw == "ok" ? 1 : 0);
      continue;
    }
    auto value = ParseNumber(*raw);
    if (!value) continue;
    if (f.kind == Kind::kCounter) {
      sink.Counter(f.metric, f.help, {}, *value * f.scale);
    } else {
      sink.Gauge(f.metric, f.help, {}, *value * f.scale);
    }
  }
}

void WriteInstanceInfo(const InfoReport& info, MetricSink& sink) {
  std::string mode = FieldOr(info, "redis_mode");
  if (mode.empty()) mode = FieldOr(info, "server_mode");
  Labels labels{
      {"role", FieldOr(info, "role")},
      {"redis_version", FieldOr(info, "redis_version")},
      {"redis_build_id", FieldOr(info, "redis_build_id")},
      {"redis_mode", mode},
      {"os", FieldOr(info, "os")},
      {"maxmemory_policy", FieldOr(info, "maxmemory_policy")},
      {"tcp_port", FieldOr(info, "tcp_port")},
      {"run_id", FieldOr(info, "run_id")},
      {"process_id", FieldOr(info, "process_id")},
  };
  if (const std::string* valkey = info.Field("valkey_version")) {
    labels.push_back({"valkey_version", *valkey});
  }
  sink.Gauge("redis_instance_info", kInstanceInfoHelp, std::move(labels), 1);
}

void WriteStartTime(const InfoReport& info, const InfoMetricsOptions& options, MetricSink& sink) {
  auto uptime = info.Number("uptime_in_seconds");
  if (!uptime) return;
  // server_time_usec (Redis 6.2+) keeps the value steady between collections.
  auto server_usec = info.Number("server_time_usec");
  const double now = server_usec ? *server_usec * 1e-6 : options.now_unix_seconds;
  if (now <= 0) return;
  sink.Gauge("redis_start_time_seconds",
             "Start time of the Redis instance since unix epoch in seconds.", {},
             static_cast<double>(static_cast<long long>(now - *uptime)));
}

void WriteConfig(const InfoReport& info, const InfoMetricsOptions& options, MetricSink& sink) {
  auto maxmemory = options.config_maxmemory ? options.config_maxmemory : info.Number("maxmemory");
  if (maxmemory && info.Field("maxmemory") == nullptr) {
    sink.Gauge("redis_memory_max_bytes", "maxmemory, in bytes; 0 means no limit.", {}, *maxmemory);
  }
  if (maxmemory) {
    sink.Gauge("redis_config_maxmemory", "maxmemory (CONFIG GET, else INFO), in bytes.", {},
               *maxmemory);
  }
  auto maxclients =
      options.config_maxclients ? options.config_maxclients : info.Number("maxclients");
  if (maxclients) {
    sink.Gauge("redis_config_maxclients", "maxclients (CONFIG GET, else INFO Redis 7+).", {},
               *maxclients);
  }
}

void WriteReplication(const InfoReport& info, MetricSink& sink) {
  const std::string& role = FieldOr(info, "role");
  auto master_offset = info.Number("master_repl_offset");
  for (const ReplicaStat& r : info.replicas) {
    Labels labels{{"slave_ip", r.ip}, {"slave_port", r.port}, {"slave_state", r.state}};
    if (r.offset) {
      sink.Gauge("redis_connected_slave_offset_bytes", "Offset of connected slave", labels,
                 *r.offset);
      if (master_offset) {
        sink.Gauge("redis_connected_slave_lag_bytes",
                   "Replication bytes the connected replica has yet to acknowledge "
                   "(master_repl_offset - its offset).",
                   labels, std::max(0.0, *master_offset - *r.offset));
      }
    }
    if (r.lag_seconds) {
      sink.Gauge("redis_connected_slave_lag_seconds", "Lag of connected slave", labels,
                 *r.lag_seconds);
    }
  }
  if (role != "slave" && role != "replica") return;
  const Labels master{{"master_host", FieldOr(info, "master_host")},
                      {"master_port", FieldOr(info, "master_port")}};
  sink.Gauge("redis_master_link_up", "Master link status on Redis slave", master,
             FieldOr(info, "master_link_status") == "up" ? 1 : 0);
  if (auto v = info.Number("master_last_io_seconds_ago")) {
    sink.Gauge("redis_master_last_io_seconds_ago", "Master last io seconds ago", master, *v);
  }
  if (auto v = info.Number("master_sync_in_progress")) {
    sink.Gauge("redis_master_sync_in_progress", "Master sync in progress", master, *v);
  }
  if (auto v = info.Number("master_link_down_since_seconds")) {
    sink.Gauge("redis_master_link_down_since_seconds",
               "Seconds since the link to the master went down (while it is down).", master, *v);
  }
  if (auto v = info.Number("slave_repl_offset")) {
    sink.Gauge("redis_slave_repl_offset", "Slave replication offset", master, *v);
  }
  Labels slave_info = master;
  slave_info.push_back({"read_only", FieldOr(info, "slave_read_only")});
  sink.Gauge("redis_slave_info", "Information about the Redis slave", std::move(slave_info), 1);
}

void WriteKeyspace(const InfoReport& info, const InfoMetricsOptions& options, MetricSink& sink) {
  std::set<std::string> seen;
  for (const KeyspaceStat& db : info.keyspace) {
    seen.insert(db.db);
    sink.Gauge("redis_db_keys", "Total number of keys by DB", {{"db", db.db}}, db.keys);
    sink.Gauge("redis_db_keys_expiring", "Total number of expiring keys by DB", {{"db", db.db}},
               db.expires);
    if (db.avg_ttl_ms) {
      sink.Gauge("redis_db_avg_ttl_seconds", "Avg TTL in seconds", {{"db", db.db}},
                 *db.avg_ttl_ms / 1000);
    }
  }
  int databases = options.databases.value_or(FieldOr(info, "cluster_enabled") == "1" ? 1 : 16);
  databases = std::clamp(databases, 0, 1024);
  for (int i = 0; i < databases; ++i) {
    std::string db = "db" + std::to_string(i);
    if (seen.count(db) > 0) continue;
    sink.Gauge("redis_db_keys", "Total number of keys by DB", {{"db", db}}, 0);
    sink.Gauge("redis_db_keys_expiring", "Total number of expiring keys by DB", {{"db", db}}, 0);
  }
}

}  // namespace

std::string Flavour(const InfoReport& info) {
  if (info.Field("valkey_version") != nullptr || FieldOr(info, "server_name") == "valkey") {
    return "valkey";
  }
  return "redis";
}

InfoMetricsResult WriteInfoMetrics(const InfoReport& info, const InfoMetricsOptions& options,
                                   MetricSink& sink) {
  InfoMetricsResult result;
  WriteInstanceInfo(info, sink);
  WriteFields(info, sink);
  WriteStartTime(info, options, sink);
  WriteConfig(info, options, sink);
  WriteReplication(info, sink);
  WriteKeyspace(info, options, sink);

  // The busiest commands_max commands by lifetime calls; the rest are counted, not exported.
  std::vector<const CommandStat*> commands;
  commands.reserve(info.commands.size());
  for (const CommandStat& c : info.commands) commands.push_back(&c);
  if (commands.size() > options.commands_max) {
    std::stable_sort(
        commands.begin(), commands.end(),
        [](const CommandStat* a, const CommandStat* b) { return a->calls > b->calls; });
    result.commands_dropped = commands.size() - options.commands_max;
    commands.resize(options.commands_max);
  }
  for (const CommandStat* c : commands) {
    Labels cmd{{"cmd", c->name}};
    sink.Counter("redis_commands_total", kCommandsHelp, cmd, c->calls);
    sink.Counter("redis_commands_duration_seconds_total", kCommandsDurationHelp, cmd,
                 c->usec * 1e-6);
    if (c->rejected_calls) {
      sink.Counter("redis_commands_rejected_calls_total", kRejectedHelp, cmd, *c->rejected_calls);
    }
    if (c->failed_calls) {
      sink.Counter("redis_commands_failed_calls_total", kFailedHelp, cmd, *c->failed_calls);
    }
  }
  for (const ErrorStat& e : info.errors) {
    sink.Counter("redis_errors_total", kErrorsHelp, {{"err", e.code}}, e.count);
  }
  result.commands_kept = std::move(commands);
  return result;
}

std::optional<agent::PoolSample> ClientsPool(const InfoReport& info,
                                             const InfoMetricsOptions& options) {
  agent::PoolSample pool("redis", "clients");
  pool.size = options.config_maxclients ? options.config_maxclients : info.Number("maxclients");
  pool.no_limit = agent::NoLimit::kUnknown;
  pool.in_use = info.Number("connected_clients");
  pool.blocked = info.Number("blocked_clients");
  if (!pool.in_use) return std::nullopt;
  return pool;
}

}  // namespace tacho::collectors::redis
