// The PostgreSQL collector: query statistics (pg_stat_statements through a delta engine with a
// top-K cap), database, connection, lock, checkpoint, WAL, replication, table and index health,
// under postgres_exporter's names where the meaning is the same.
#pragma once

#include "agent/collector.h"

namespace tacho::collectors::postgres {

// The kind "postgres" with its schema and factory, for RegisterBuiltinCollectors().
agent::CollectorKind PostgresCollectorKind();

}  // namespace tacho::collectors::postgres
