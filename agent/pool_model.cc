#include "agent/pool_model.h"

namespace tacho::agent {

namespace {

void Maybe(MetricSink& sink, const char* name, const char* help, const Labels& labels,
           const std::optional<double>& value, bool counter = false) {
  if (!value) return;
  if (counter) {
    sink.Counter(name, help, labels, *value);
  } else {
    sink.Gauge(name, help, labels, *value);
  }
}

}  // namespace

void WritePool(MetricSink& sink, const PoolSample& p) {
  const Labels labels{{"kind", p.kind}, {"pool", p.pool}};
  const bool limited = p.size && *p.size > 0;
  if (limited) {
    sink.Gauge("tacho_pool_size",
               "Connections the pool may have in use at once (its limit), from the latest "
               "background collection.",
               labels, *p.size);
  }
  Maybe(sink, "tacho_pool_in_use", "Connections of the pool doing work for a client.", labels,
        p.in_use);
  Maybe(sink, "tacho_pool_idle", "Open connections of the pool available to the next borrower.",
        labels, p.idle);
  Maybe(sink, "tacho_pool_waiting", "Borrowers queued for a connection of the pool right now.",
        labels, p.waiting);
  Maybe(sink, "tacho_pool_max_wait_seconds",
        "How long the oldest borrower still waiting has waited, in seconds; 0 when none waits.",
        labels, p.max_wait_seconds);
  if (limited && p.in_use) {
    sink.Gauge("tacho_pool_utilization_ratio",
               "In use / size (0-1, above 1 when a limit was lowered under the load). Left out "
               "for pools without a limit; see tacho_pool_utilization_unavailable.",
               labels, *p.in_use / *p.size);
  } else {
    const char* reason = p.no_limit == NoLimit::kUnlimited ? "unlimited" : "unknown_limit";
    Labels why = labels;
    why.push_back({"reason", reason});
    sink.Gauge("tacho_pool_utilization_unavailable",
               "1 for a pool exported without tacho_pool_utilization_ratio, with the reason: "
               "\"unlimited\" (its limit is 0 or unlimited) or \"unknown_limit\" (its source "
               "states none).",
               why, 1);
  }
  Maybe(sink, "tacho_pool_blocked",
        "Connections blocked in a blocking command (BLPOP, WAIT, ...); Redis pools.", labels,
        p.blocked);
  Maybe(sink, "tacho_pool_idle_in_transaction",
        "Connections idle inside an open transaction, holding locks and snapshots; PostgreSQL "
        "pools.",
        labels, p.idle_in_transaction);
  Maybe(sink, "tacho_pool_idle_in_transaction_max_age_seconds",
        "How long the oldest idle-in-transaction connection has been idle, in seconds; 0 when "
        "none is.",
        labels, p.idle_in_transaction_max_age_seconds);
  Maybe(sink, "tacho_pool_waits_total",
        "Borrowers that had to wait for a connection, as counted by the application's pool.",
        labels, p.waits_total, true);
  Maybe(sink, "tacho_pool_wait_seconds_total",
        "Total time borrowers waited for a connection, in seconds, as counted by the "
        "application's pool.",
        labels, p.wait_seconds_total, true);
  Maybe(sink, "tacho_pool_timeouts_total",
        "Borrowers that gave up waiting for a connection, as counted by the application's pool.",
        labels, p.timeouts_total, true);
}

bool PoolSaturated(const PoolSample& p) {
  if (p.waiting && *p.waiting > 0) return true;
  if (!p.size || *p.size <= 0) return false;
  double used = p.in_use.value_or(0);
  if (p.kind == "postgres" && p.pool == "connections") used += p.idle.value_or(0);
  return used >= *p.size;
}

}  // namespace tacho::agent
