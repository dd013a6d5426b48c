// The metrics derived from one INFO reply (plus CONFIG values), under redis_exporter's names
// where the meaning is the same. Pure: writes to a sink, no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "agent/metric_sink.h"
#include "agent/pool_model.h"
#include "collectors/redis/info_parser.h"

namespace tacho::collectors::redis {

struct InfoMetricsOptions {
  // At most this many commands get per-command series (the busiest by lifetime calls).
  std::size_t commands_max = 200;
  // From CONFIG GET when allowed; otherwise the INFO fields of the same name are used
  // (maxmemory since Redis 4, maxclients since Redis 7).
  std::optional<double> config_maxmemory;
  std::optional<double> config_maxclients;
  // Databases to report (zero-filled like redis_exporter): CONFIG GET databases, else 16, or 1
  // in cluster mode.
  std::optional<int> databases;
  // Unix time now, for redis_start_time_seconds when INFO lacks server_time_usec (< Redis 5).
  double now_unix_seconds = 0;
};

struct InfoMetricsResult {
  std::size_t commands_dropped = 0;  // commands left out by commands_max
  // The commands that got series, for the latency top-K and slowlog name resolution.
  std::vector<const CommandStat*> commands_kept;
};

InfoMetricsResult WriteInfoMetrics(const InfoReport& info, const InfoMetricsOptions& options,
                                   agent::MetricSink& sink);

// The server's client slots as the pool "clients" of the pool model (kind "redis"):
// connected_clients in use of maxclients (CONFIG GET, else INFO), blocked_clients. Nullopt when
// INFO has no connected_clients.
std::optional<agent::PoolSample> ClientsPool(const InfoReport& info,
                                             const InfoMetricsOptions& options);

// "redis" or "valkey".
std::string Flavour(const InfoReport& info);

}  // namespace tacho::collectors::redis
