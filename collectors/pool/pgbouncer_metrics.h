// The metrics of one PgBouncer collection: pgbouncer_exporter's families (pgbouncer_version_info,
// pgbouncer_pools_*, pgbouncer_stats_*, pgbouncer_databases_*, pgbouncer_config_*, the SHOW
// LISTS gauges) and the pool model (tacho_pool_*{kind="pgbouncer"}). Pure: writes to a sink, no
// I/O. pgbouncer_up is the runtime's, not written here. README.pgbouncer-metrics.part.md lists
// every family.
#pragma once

#include <cstddef>

#include "agent/metric_sink.h"
#include "collectors/pool/pgbouncer_show.h"

namespace tacho::collectors::pool {

struct PgbouncerWriteOptions {
  // At most this many (database, user) pools get pgbouncer_pools_* and tacho_pool_* series: the
  // busiest by cl_active + cl_waiting + sv_active + sv_idle + sv_used, ties by name.
  std::size_t max_pools = 500;
};

struct PgbouncerWriteResult {
  std::size_t pools_dropped = 0;  // pools left out by max_pools
};

// A SHOW result that is nullopt leaves its families out; so does a column a version lacks. SQL
// NULL and unparsable numbers skip their sample. Never throws.
PgbouncerWriteResult WritePgbouncerMetrics(const PgbouncerReadings& readings,
                                           const PgbouncerWriteOptions& options,
                                           agent::MetricSink& sink);

}  // namespace tacho::collectors::pool
