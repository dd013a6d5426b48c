// What the query groups of one collection share (the health, relation and statement modules).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/collector.h"
#include "agent/metric_sink.h"
#include "collectors/postgres/columns.h"
#include "collectors/postgres/session.h"

namespace tacho::collectors::postgres {

struct DatabaseInfo {
  std::uint32_t oid = 0;
  std::string name;
  bool allow_conn = false;
  bool is_template = false;
  std::string encoding;  // pg_encoding_to_char(encoding): "UTF8", "LATIN1", "SQL_ASCII", ...
};

// Facts read once per main connection (and again every slow_interval).
struct ServerFacts {
  int version_num = 0;  // server_version_num, e.g. 150018
  std::string version;  // server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)"
  long long block_size = 8192;
  std::string current_db;
  std::string pgss_schema;  // schema of pg_stat_statements; empty: not installed here
  std::string pgss_version;
  bool pgss_preloaded = false;  // shared_preload_libraries names it
  double pgss_max = 0;          // pg_stat_statements.max (0: unknown)
  ColumnMap columns;
};

// Writes samples to the collection's sink with each label vector allocated with room for the
// `target` label the sink appends: otherwise appending it doubles every series' vector, ~130
// bytes per series kept in each published snapshot.
class SampleWriter {
 public:
  explicit SampleWriter(agent::MetricSink& sink) : sink_(sink) {}
  void Gauge(std::string_view name, std::string_view help, const agent::Labels& labels,
             double value) {
    sink_.Gauge(name, help, WithRoom(labels), value);
  }
  void Counter(std::string_view name, std::string_view help, const agent::Labels& labels,
               double value) {
    sink_.Counter(name, help, WithRoom(labels), value);
  }
  agent::MetricSink& raw() { return sink_; }
  static agent::Labels WithRoom(const agent::Labels& labels) {
    agent::Labels out;
    out.reserve(labels.size() + 1);
    out.insert(out.end(), labels.begin(), labels.end());
    return out;
  }

 private:
  agent::MetricSink& sink_;
};

struct Cycle {
  const agent::CollectContext& ctx;
  SampleWriter sink;
  QueryStats& stats;
  std::string last_error;  // the latest failed query, for the down message
  // Connection slots open to non-superusers (max_connections minus the reserved ones), from
  // the server query, for the pool model; unset when it failed.
  std::optional<double> connection_slots;
};

// "15.18.0" from 150018; "9.6.24" from 90624 (postgres_exporter's short_version).
std::string ShortVersion(int version_num);

}  // namespace tacho::collectors::postgres
