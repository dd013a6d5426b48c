// The pool model: every connection pool tacho sees, whatever its kind, exported under the same
// tacho_pool_* families with `kind`, `target` and `pool` labels, and read back from snapshots
// for /api/v1/pools.
//
// Kinds: "pgbouncer" (a database/user pool, or the client side vs max_client_conn), "postgres"
// (the server's connection slots, or one application_name's connections), "redis"
// (connected_clients vs maxclients, or one client name's connections) and "app" (an
// application's own pool, read from its Prometheus endpoint).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/metric_sink.h"

namespace tacho::agent {

// Why a pool has no utilisation ratio.
enum class NoLimit {
  kNone,       // it has a positive limit: the ratio is exported
  kUnlimited,  // the limit is configured as 0 or "unlimited"
  kUnknown,    // the source states no limit (per-application pools seen from the server)
};

struct PoolSample {
  PoolSample() = default;
  PoolSample(std::string kind_, std::string pool_)
      : kind(std::move(kind_)), pool(std::move(pool_)) {}

  std::string kind;  // "pgbouncer", "postgres", "redis" or "app"
  std::string pool;  // e.g. "app/app_user", "connections", "orders-hikari"

  // The limit on connections in use; nullopt or <= 0 with no_limit saying why.
  std::optional<double> size;
  NoLimit no_limit = NoLimit::kNone;

  std::optional<double> in_use;  // connections doing work for a client
  std::optional<double> idle;    // open, available for the next borrower
  // Connections the pool holds open, in use or idle: what it costs the layer below. Set where
  // a pool's connections are counted one by one (PostgreSQL per application, Redis per client
  // name), where no size says how large the pool has grown, and where idle connections take
  // slots of the limit too (PostgreSQL's own connection slots).
  std::optional<double> held;
  std::optional<double> waiting;           // borrowers queued for a connection right now
  std::optional<double> max_wait_seconds;  // how long the oldest of them has waited

  // Kind-specific extras, exported only when set.
  std::optional<double> blocked;                              // redis: in a blocking command
  std::optional<double> idle_in_transaction;                  // postgres
  std::optional<double> idle_in_transaction_max_age_seconds;  // postgres
  std::optional<double> waits_total;         // app: borrowers that had to wait (counter)
  std::optional<double> wait_seconds_total;  // app: time they waited in all (counter)
  std::optional<double> timeouts_total;      // app: borrowers that gave up (counter)
};

// One tacho_pool_* family carrying a PoolSample field: WritePool writes them and ReadPools
// (agent/pool_chains.h) reads them back, from this one list.
struct PoolFamily {
  const char* name;
  const char* help;
  std::optional<double> PoolSample::*field;
  bool counter;
};
const std::vector<PoolFamily>& PoolFamilies();

// Every family WritePool writes starts with this.
inline constexpr const char* kPoolFamilyPrefix = "tacho_pool_";

// The family that says why a pool has no ratio, and the reasons it gives.
inline constexpr const char* kPoolUnavailableFamily = "tacho_pool_utilization_unavailable";
const char* NoLimitReason(NoLimit no_limit);  // "unlimited" or "unknown_limit"
NoLimit ParseNoLimitReason(std::string_view reason);

// In use / size, for a pool with a positive limit and a known in-use count.
std::optional<double> PoolUtilization(const PoolSample& pool);

// Writes one pool's tacho_pool_* samples. The ratio tacho_pool_utilization_ratio (in use /
// size) is written only with a positive size; otherwise tacho_pool_utilization_unavailable
// {kind,pool,reason="unlimited"|"unknown_limit"} says why, so a dashboard never shows a
// division by zero or a fake 100 %.
void WritePool(MetricSink& sink, const PoolSample& pool);

// Whether a pool is saturated: someone is waiting, or everything it may hand out is taken:
// what it holds where that is exported (idle connections of a server's own slots count too),
// otherwise what is in use.
bool PoolSaturated(const PoolSample& pool);

}  // namespace tacho::agent
