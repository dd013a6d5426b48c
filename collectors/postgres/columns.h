// Column discovery: which statistics columns this server (and this version of the
// pg_stat_statements extension) has, and the SQL built from them.
//
// tacho never guesses from the server version. Columns are read from the catalog once per
// connection (pg_attribute of the views below) and each metric is taken from the first source
// column that exists: total_exec_time (13+) or total_time (12); shared_blk_read_time (17+) or
// blk_read_time; pg_stat_checkpointer.num_timed (17+) or pg_stat_bgwriter.checkpoints_timed.
// The extension's columns follow the version installed in the database (ALTER EXTENSION
// UPDATE), which can lag behind the server's.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/postgres/statement_counters.h"

namespace tacho::collectors::postgres {

// relation name (unqualified) -> its column names.
using ColumnMap = std::map<std::string, std::set<std::string>, std::less<>>;

// The views whose columns are discovered.
const std::vector<std::string>& DiscoveredViews();

// Parses "relation column" lines ('#' comments and blank lines ignored), the format of
// testdata/columns-pg*.txt and of the discovery query's rows:
//   pg_stat_statements total_exec_time
ColumnMap ParseColumnList(std::string_view text);

bool HasColumn(const ColumnMap& columns, std::string_view relation, std::string_view column);

enum class MetricType { kGauge, kCounter };

// One exported metric read from one column of a one-row (or grouped) view.
struct ColumnMetric {
  std::string metric;
  std::string help;
  MetricType type = MetricType::kCounter;
  double scale = 1;  // multiplies the value: 0.001 turns milliseconds into seconds
  // (relation, column) candidates, the first one that exists wins.
  std::vector<std::pair<std::string, std::string>> sources;
};

// A metric with the source chosen for this server.
struct ResolvedMetric {
  const ColumnMetric* spec;
  std::string relation;
  std::string column;
};

// The metrics of `specs` that this server can provide.
std::vector<ResolvedMetric> Resolve(const ColumnMap& columns,
                                    const std::vector<ColumnMetric>& specs);

// Metric catalogues (postgres_exporter's names where it has the metric).
const std::vector<ColumnMetric>& DatabaseMetrics();    // pg_stat_database, per datname
const std::vector<ColumnMetric>& CheckpointMetrics();  // pg_stat_bgwriter/_checkpointer
const std::vector<ColumnMetric>& WalMetrics();         // pg_stat_wal (14+)
const std::vector<ColumnMetric>& IoMetrics();          // pg_stat_io (16+), per row

// The expressions pg_stat_statements(false) is read with.
struct StatementsColumns {
  bool usable = false;  // the extension's function has the columns tacho needs
  // Per row of kStatementCounters: the SQL its value is read with ("total_exec_time",
  // "shared_blk_read_time + local_blk_read_time", "0::float8" when no source exists).
  std::array<std::string, kStatementCounterCount> counters;
  bool toplevel = false;     // 14+
  bool stats_since = false;  // 17+
  bool info_view = false;    // pg_stat_statements_info (14+): dealloc, stats_reset
};

StatementsColumns DiscoverStatementsColumns(const ColumnMap& columns);

// SELECT userid, dbid, queryid, toplevel, <one column per row of kStatementCounters, named as
// the row>, stats_since FROM <schema>.pg_stat_statements(false) -- always these names,
// whatever the server calls them:
//   SELECT userid, dbid, queryid, true AS toplevel, calls, total_time AS total_time, rows, ...
// A counter with several candidate sources is always aliased. `schema` is already a quoted
// identifier.
std::string BuildStatementsQuery(const StatementsColumns& columns, std::string_view schema);

// SELECT <one column per resolved metric, aliased m0, m1, ...> FROM the relations involved
// (one-row views, cross-joined). Empty when nothing resolved.
std::string BuildOneRowQuery(const std::vector<ResolvedMetric>& metrics);

}  // namespace tacho::collectors::postgres
