// /api/v1/pools: every pool in the latest snapshots, and the chains of pools that span layers
// (application -> PgBouncer -> PostgreSQL) with the saturated layer marked.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/collector_registry.h"
#include "agent/pool_model.h"
#include "agent/snapshot.h"

namespace tacho::agent {

// A pool as read back from a snapshot's tacho_pool_* families.
struct PoolView {
  std::string target;  // the collector instance
  PoolSample sample;
};

// Every pool in the snapshots, ordered by target, kind and pool.
std::vector<PoolView> ReadPools(
    const std::map<std::string, std::shared_ptr<const Snapshot>>& snapshots);

// One collector instance's place in a chain: `upstream` is the instance it connects through
// (the `upstream` key of [[collectors.app_pool]] and [[collectors.pgbouncer]]), empty for none.
struct PoolLink {
  std::string instance;
  std::string kind;  // collector kind: "app_pool", "pgbouncer", "postgres", ...
  std::string upstream;
  std::string chain_pool;  // CollectorKind::chain_pool: the pool that is this instance's layer
};

// The pool chain links of a configuration (the `upstream` keys), validated against what each
// kind declares (CollectorKind::upstream_kinds): an upstream must name an instance of a kind
// that may be one; the error points at the key.
Expected<std::vector<PoolLink>, config::Error> PoolLinks(const config::Config& config,
                                                         const CollectorRegistry& registry);

// The JSON document of /api/v1/pools:
//   {"pools": [{target, kind, pool, size, in_use, idle, waiting, max_wait_seconds,
//               utilization, saturated}, ...],
//    "chains": [{"root": instance, "layers": [{"target", "kind", "saturated", "utilization",
//                "pools": [...]}, ...], "bottleneck": {"layer", "target", "kind", "pool"} | null}]}
// A chain starts at every instance with an upstream that no other instance names as its
// upstream, and follows the links. Saturation propagates towards the application (a full
// PostgreSQL makes PgBouncer's clients wait, which makes the application's borrowers wait), so
// the bottleneck is the deepest saturated layer.
std::string PoolsJson(const std::vector<PoolView>& pools, const std::vector<PoolLink>& links);

}  // namespace tacho::agent
