// The pg_stat_statements counters tacho reads, each declared once. Everything else about them
// is derived from this table: the select list of the statements query (columns.h), the width
// of the delta engine's counter arrays (statements_delta.h) and the exported families
// pg_stat_statements_<suffix> and pg_stat_statements_database_<suffix> (statements.cc).
// Adding a counter is adding a row.
//
// Every row is a counter (a cumulative value that only grows between resets): the delta engine
// accumulates them monotonically, and they are exported as Prometheus counters.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace tacho::collectors::postgres {

struct StatementCounterSpec {
  // The result column of the statements query (the alias, whatever the server calls it).
  std::string_view name;
  // The pg_stat_statements columns it is read from: the first candidate whose columns all
  // exist wins; "a+b" sums two columns. Column discovery picks, never the server version.
  std::array<std::string_view, 3> sources;
  // Without one of its sources the extension is unusable; otherwise the counter reads 0.
  bool required = false;
  std::string_view suffix;  // pg_stat_statements_<suffix>, pg_stat_statements_database_<suffix>
  double scale = 1;         // 0.001 turns pg_stat_statements' milliseconds into seconds
  std::string_view help;
};

inline constexpr StatementCounterSpec kStatementCounters[] = {
    {.name = "calls",
     .sources = {"calls"},
     .required = true,
     .suffix = "calls_total",
     .help = "Number of times executed."},
    // total_exec_time (13+), total_time (12).
    {.name = "total_time",
     .sources = {"total_exec_time", "total_time"},
     .required = true,
     .suffix = "seconds_total",
     .scale = 0.001,
     .help = "Total time spent executing the statement, in seconds."},
    {.name = "rows",
     .sources = {"rows"},
     .required = true,
     .suffix = "rows_total",
     .help = "Total number of rows retrieved or affected by the statement."},
    // 17 split blk_read_time (which counted shared and local blocks) into shared_ and local_.
    {.name = "blk_read_time",
     .sources = {"shared_blk_read_time+local_blk_read_time", "shared_blk_read_time",
                 "blk_read_time"},
     .suffix = "block_read_seconds_total",
     .scale = 0.001,
     .help = "Total time the statement spent reading blocks, in seconds (needs track_io_timing)."},
    {.name = "blk_write_time",
     .sources = {"shared_blk_write_time+local_blk_write_time", "shared_blk_write_time",
                 "blk_write_time"},
     .suffix = "block_write_seconds_total",
     .scale = 0.001,
     .help = "Total time the statement spent writing blocks, in seconds (needs track_io_timing)."},
    {.name = "shared_blks_hit",
     .sources = {"shared_blks_hit"},
     .suffix = "shared_blocks_hit_total",
     .help = "Total number of shared block cache hits by the statement."},
    {.name = "shared_blks_read",
     .sources = {"shared_blks_read"},
     .suffix = "shared_blocks_read_total",
     .help = "Total number of shared blocks read by the statement."},
    {.name = "temp_blks_read",
     .sources = {"temp_blks_read"},
     .suffix = "temp_blocks_read_total",
     .help = "Total number of temp blocks read by the statement."},
    {.name = "temp_blks_written",
     .sources = {"temp_blks_written"},
     .suffix = "temp_blocks_written_total",
     .help = "Total number of temp blocks written by the statement."},
};

inline constexpr std::size_t kStatementCounterCount = std::size(kStatementCounters);

// The position of the counter `name` in kStatementCounters; a name that is not there does not
// compile.
consteval std::size_t StatementCounterIndex(std::string_view name) {
  for (std::size_t i = 0; i < kStatementCounterCount; ++i) {
    if (kStatementCounters[i].name == name) return i;
  }
  throw "no such pg_stat_statements counter";
}

// The families a counter is exported as: per exported statement, and summed per database.
//   calls_total -> "pg_stat_statements_calls_total", "pg_stat_statements_database_calls_total"
inline std::string StatementFamily(const StatementCounterSpec& spec) {
  return "pg_stat_statements_" + std::string(spec.suffix);
}
inline std::string DatabaseFamily(const StatementCounterSpec& spec) {
  return "pg_stat_statements_database_" + std::string(spec.suffix);
}
inline std::string DatabaseHelp(const StatementCounterSpec& spec) {
  return std::string(spec.help) +
         " Summed over every statement of the database (exact, not capped).";
}

}  // namespace tacho::collectors::postgres
