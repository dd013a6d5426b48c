#include "agent/pool_model.h"

namespace tacho::agent {

const std::vector<PoolFamily>& PoolFamilies() {
  static const std::vector<PoolFamily> kFamilies = {
      {"tacho_pool_size",
       "Connections the pool may have in use at once (its limit), from the latest background "
       "collection.",
       &PoolSample::size, false},
      {"tacho_pool_in_use", "Connections of the pool doing work for a client.", &PoolSample::in_use,
       false},
      {"tacho_pool_idle", "Open connections of the pool available to the next borrower.",
       &PoolSample::idle, false},
      {"tacho_pool_held",
       "Connections the pool holds open, in use or idle; PostgreSQL's connection slots and "
       "per-application pools, per-client-name Redis pools.",
       &PoolSample::held, false},
      {"tacho_pool_waiting", "Borrowers queued for a connection of the pool right now.",
       &PoolSample::waiting, false},
      {"tacho_pool_max_wait_seconds",
       "How long the oldest borrower still waiting has waited, in seconds; 0 when none waits.",
       &PoolSample::max_wait_seconds, false},
      {"tacho_pool_blocked",
       "Connections blocked in a blocking command (BLPOP, WAIT, ...); Redis pools.",
       &PoolSample::blocked, false},
      {"tacho_pool_idle_in_transaction",
       "Connections idle inside an open transaction, holding locks and snapshots; PostgreSQL "
       "pools.",
       &PoolSample::idle_in_transaction, false},
      {"tacho_pool_idle_in_transaction_max_age_seconds",
       "How long the oldest idle-in-transaction connection has been idle, in seconds; 0 when "
       "none is.",
       &PoolSample::idle_in_transaction_max_age_seconds, false},
      {"tacho_pool_waits_total",
       "Borrowers that had to wait for a connection, as counted by the application's pool.",
       &PoolSample::waits_total, true},
      {"tacho_pool_wait_seconds_total",
       "Total time borrowers waited for a connection, in seconds, as counted by the "
       "application's pool.",
       &PoolSample::wait_seconds_total, true},
      {"tacho_pool_timeouts_total",
       "Borrowers that gave up waiting for a connection, as counted by the application's pool.",
       &PoolSample::timeouts_total, true},
  };
  return kFamilies;
}

const char* NoLimitReason(NoLimit no_limit) {
  return no_limit == NoLimit::kUnlimited ? "unlimited" : "unknown_limit";
}

NoLimit ParseNoLimitReason(std::string_view reason) {
  return reason == "unlimited" ? NoLimit::kUnlimited : NoLimit::kUnknown;
}

std::optional<double> PoolUtilization(const PoolSample& p) {
  if (!p.size || *p.size <= 0 || !p.in_use) return std::nullopt;
  return *p.in_use / *p.size;
}

void WritePool(MetricSink& sink, const PoolSample& p) {
  const Labels labels{{"kind", p.kind}, {"pool", p.pool}};
  for (const PoolFamily& f : PoolFamilies()) {
    const std::optional<double>& value = p.*f.field;
    if (!value) continue;
    if (f.field == &PoolSample::size && *value <= 0) continue;  // no limit is not a size of 0
    if (f.counter) {
      sink.Counter(f.name, f.help, labels, *value);
    } else {
      sink.Gauge(f.name, f.help, labels, *value);
    }
  }
  if (auto ratio = PoolUtilization(p)) {
    sink.Gauge("tacho_pool_utilization_ratio",
               "In use / size (0-1, above 1 when a limit was lowered under the load). Left out "
               "for pools without a limit; see tacho_pool_utilization_unavailable.",
               labels, *ratio);
  } else {
    Labels why = labels;
    why.push_back({"reason", NoLimitReason(p.no_limit)});
    sink.Gauge(kPoolUnavailableFamily,
               "1 for a pool exported without tacho_pool_utilization_ratio, with the reason: "
               "\"unlimited\" (its limit is 0 or unlimited) or \"unknown_limit\" (its source "
               "states none).",
               why, 1);
  }
}

bool PoolSaturated(const PoolSample& p) {
  if (p.waiting && *p.waiting > 0) return true;
  if (!p.size || *p.size <= 0) return false;
  // A pool whose idle connections also take slots (a server's own connection slots) says so
  // by exporting what it holds.
  const double used = p.held ? *p.held : p.in_use.value_or(0);
  return used >= *p.size;
}

}  // namespace tacho::agent
