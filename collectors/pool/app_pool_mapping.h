// From an application's own pool metrics to tacho's pool model (kind "app"). Pure.
//
// Recognised sources (names as the libraries write them):
//   HikariCP via Micrometer (Spring Boot's /actuator/prometheus), label `pool`:
//     hikaricp_connections_{active,idle,pending,max} gauges, hikaricp_connections_timeout_total,
//     hikaricp_connections_acquire_seconds_{sum,count} (a Timer) and _max (a gauge).
//   HikariCP's own PrometheusMetricsTracker(Factory), label `pool`:
//     hikaricp_{active,idle,max}_connections, hikaricp_pending_threads,
//     hikaricp_connection_timeout_total, hikaricp_connection_acquired_nanos_{sum,count}.
//   Go database/sql, client_golang collectors.NewDBStatsCollector, label `db_name`:
//     go_sql_{max_open,in_use,idle}_connections, go_sql_wait_count_total,
//     go_sql_wait_duration_seconds_total.
//   Go database/sql, github.com/dlmiddlecote/sqlstats, label `db_name`:
//     go_sql_stats_connections_{max_open,in_use,idle,waited_for,blocked_seconds}
//     (blocked_time before v1.0.2).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/pool_model.h"
#include "collectors/pool/exposition_parser.h"

namespace tacho::collectors::pool {

enum class SourceFormat {
  kAuto,      // every source above
  kHikariCp,  // the two HikariCP variants only
  kGoSql,     // the two Go database/sql variants only
};

struct MappingOptions {
  SourceFormat format = SourceFormat::kAuto;
  std::vector<std::string> pools = {"*"};  // shell globs over the pool / db_name label
  std::size_t max_pools = 50;
};

struct MappingResult {
  std::vector<agent::PoolSample> pools;  // sorted by pool name
  std::size_t dropped = 0;               // matching pools left out by max_pools
  std::size_t filtered = 0;              // pools that no `pools` glob matched
};

// Whether a sample of this name feeds the mapping (for ExpositionLimits::keep).
bool IsPoolSampleName(std::string_view name);

// Groups the samples into pools and maps them. A pool is one value of the `pool` (HikariCP) or
// `db_name` (Go) label together with the sample's other labels (`quantile` and `le` aside): when
// one name occurs with different other labels (Micrometer common tags such as `application`,
// or several instances behind one endpoint), each becomes its own pool, named
// "<name>[label=value,...]" with (up to three of) the labels that tell them apart, then "#2",
// "#3" where those do not. Pools beyond max_pools are dropped before any is named, in (family,
// name, labels) order, so the same ones are kept from one collection to the next and naming
// costs O(max_pools) whatever the endpoint returns.
MappingResult MapPools(const std::vector<ExpositionSample>& samples, const MappingOptions& options);

// Shell-style glob ('*', '?', '[...]') as in fnmatch(3) without flags.
bool GlobMatch(const std::string& pattern, const std::string& text);

}  // namespace tacho::collectors::pool
