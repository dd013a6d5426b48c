// The PgBouncer collector: the admin console's SHOW VERSION, POOLS, STATS, DATABASES, CONFIG
// and LISTS over one persistent connection, exported under pgbouncer_exporter's names and in
// the pool model (tacho_pool_*{kind="pgbouncer"}). See README.md.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "agent/collector.h"
#include "collectors/postgres/conninfo.h"

namespace tacho::collectors::pool {

// The kind "pgbouncer" with its schema and factory, for RegisterBuiltinCollectors().
agent::CollectorKind PgbouncerCollectorKind();

// What the factory makes of a [[collectors.pgbouncer]] table (exposed for tests).
struct PgbouncerOptions {
  postgres::ConnParams dsn;
  std::string password;
  std::chrono::milliseconds connect_timeout{5000};
  std::size_t max_pools = 500;
  std::chrono::milliseconds config_interval{60000};
  std::string upstream;  // a postgres instance, for /api/v1/pools chains
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{60000};
};

std::unique_ptr<agent::Collector> NewPgbouncerCollector(PgbouncerOptions options);

}  // namespace tacho::collectors::pool
