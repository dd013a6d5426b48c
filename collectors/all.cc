#include "collectors/all.h"

#include "collectors/pool/app_pool_collector.h"
#include "collectors/pool/pgbouncer_collector.h"
#include "collectors/postgres/postgres_collector.h"
#include "collectors/process/process_collector.h"
#include "collectors/redis/redis_collector.h"

namespace tacho::collectors {

void RegisterBuiltinCollectors(agent::CollectorRegistry& registry) {
  registry.Register(process::ProcessCollectorKind());
  registry.Register(postgres::PostgresCollectorKind());
  registry.Register(redis::RedisCollectorKind());
  registry.Register(pool::PgbouncerCollectorKind());
  registry.Register(pool::AppPoolCollectorKind());
}

}  // namespace tacho::collectors
