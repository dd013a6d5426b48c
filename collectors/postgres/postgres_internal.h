// Internals of the PostgreSQL collector shared by its .cc files and tests. Free of libpqxx.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/collector.h"
#include "collectors/postgres/conninfo.h"
#include "config/config.h"

namespace tacho::collectors::postgres {

// Databases beyond this many are left out of every per-database family (and counted).
inline constexpr std::size_t kMaxDatabases = 256;
// Replicas listed from pg_stat_replication at most.
inline constexpr std::size_t kMaxReplicas = 64;

struct Options {
  ConnParams dsn;                              // parsed; may hold a password: never log it
  std::string password;                        // the secret key; empty when unset
  std::vector<std::string> databases = {"*"};  // names; "*" = every database that allows
                                               // connections and is not a template
  std::vector<std::string> exclude;            // glob patterns (fnmatch) against names
  int max_connections = 3;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{0};  // 0: the collector's timeout
  std::chrono::milliseconds lock_timeout{1000};
  std::chrono::milliseconds slow_interval{300000};
  std::chrono::milliseconds relations_interval{60000};
  std::size_t statements_top_k = 100;
  int statements_sticky_windows = 5;
  bool statements_enabled = true;
  bool query_text = true;  // statements.query_text = "info_metric"
  std::size_t tables_top_k = 256;
  std::size_t indexes_top_k = 512;
  std::size_t applications_top_k = 50;
  std::chrono::milliseconds interval{15000};
  std::chrono::milliseconds timeout{12000};
};

const config::Schema& PostgresSchema();

// Which member of Options each declared key fills.
const config::Binding<Options>& PostgresBinding();

// The binding's copy, then what the schema cannot express: a dsn libpq parses, non-empty
// database names, positive timeouts.
Expected<Options, config::Error> ParseOptions(const config::Section& section,
                                              const agent::Environment& env);

// The database names per-database statistics are wanted for: `databases` (with "*" expanded
// to `discovered`), minus `exclude`, in a stable order (the dsn's database first).
std::vector<std::string> SelectDatabases(const std::vector<std::string>& discovered,
                                         const Options& options, const std::string& main_db);

// How the selected databases map onto connections under the cap: the main connection serves
// its own database; every other one needs a connection of its own, at most
// max_connections - 1 of them, the rest are skipped.
struct DatabasePlan {
  bool main_db = false;
  std::vector<std::string> extra;
  std::vector<std::string> skipped;
};
DatabasePlan PlanDatabases(const std::vector<std::string>& selected, const std::string& main_db,
                           int max_connections);

// A glob (fnmatch) match of a database name.
bool GlobMatch(const std::string& pattern, const std::string& name);

std::unique_ptr<agent::Collector> NewPostgresCollector(Options options);

}  // namespace tacho::collectors::postgres
