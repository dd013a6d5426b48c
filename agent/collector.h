// The collector interface: what every plugin under collectors/ implements.
//
// Lifecycle
//   1. configure  CollectorKind::create(section, env) on the main thread at start-up or reload.
//                 Strict: every problem is returned as a config::Error with its position, and the
//                 agent refuses to start (or keeps the old configuration on reload).
//   2. collect    Collect() on a worker-pool thread, once per interval. Never concurrently with
//                 itself: the runtime skips a tick while the previous collection still runs.
//                 Blocking I/O is fine; it must respect ctx.deadline and must not throw.
//   3. stop       Stop() once, from the main thread, after the last Collect() has returned (or
//                 the agent gives up waiting at shutdown). Close connections here.
//
// A Collect() that returns an error means the target is unavailable: the runtime withdraws all
// of the instance's series, sets its `up` metric to 0 and logs once per change of state. Partial
// failures (one query of many) are the collector's to count in its own metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/metric_sink.h"
#include "base/status.h"
#include "config/binding.h"
#include "config/config.h"

namespace tacho::agent {

struct CollectContext {
  // Monotonic deadline for this collection (start + the instance's timeout).
  std::chrono::steady_clock::time_point deadline;
  // Wall-clock time the collection started (for ages and timestamps).
  std::chrono::system_clock::time_point started_at;
  // Set by the runtime once the deadline has passed or the agent is stopping. Long loops should
  // poll it; blocking calls should use Remaining() as their own timeout.
  const std::atomic<bool>* cancelled = nullptr;

  bool Cancelled() const {
    return (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) ||
           std::chrono::steady_clock::now() >= deadline;
  }
  std::chrono::milliseconds Remaining() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? left : std::chrono::milliseconds(0);
  }
};

class Collector {
 public:
  virtual ~Collector() = default;

  // Worker thread; see the lifecycle above. Samples go to `sink`; the runtime adds the
  // `target` label. Must not throw.
  virtual Status Collect(const CollectContext& ctx, MetricSink& sink) = 0;

  // Main thread, after the last Collect() returned.
  virtual void Stop() {}
};

// What a collector's factory may use besides its own section.
struct Environment {
  std::string instance_name;
  std::chrono::milliseconds interval{};
  std::chrono::milliseconds timeout{};
  std::string state_dir;
};

using CollectorFactory = std::function<Expected<std::unique_ptr<Collector>, config::Error>(
    const config::Section& section, const Environment& env)>;

// A collector kind as registered in RegisterBuiltinCollectors().
struct CollectorKind {
  std::string name = {};         // the <kind> in [[collectors.<kind>]]
  std::string description = {};  // one line, shown in the sample config
  // The kind's own keys. name, interval and timeout are common and must not be repeated.
  config::Schema schema = {};
  // What the factory reads of `schema`: its config::Binding's Keys(). Registration fails unless
  // they match the schema exactly (config::CheckBinding).
  std::vector<config::BoundKey> bound_keys = {};
  // The kind's availability gauge, e.g. "pg_up"; empty for kinds without one. The runtime
  // writes it: 1 after a successful collection, 0 after a failed or timed-out one.
  std::string up_metric = {};
  std::string up_help = {};
  // The pool chain (application -> PgBouncer -> PostgreSQL, agent/pool_chains.h): the kinds an
  // instance of this kind may name in its `upstream` key (the schema must declare the key), and
  // the pool that stands for an instance of this kind in a chain (a server's own connection
  // slots rather than its per-application views); empty: every pool of the instance.
  std::vector<std::string> upstream_kinds = {};
  std::string chain_pool = {};
  CollectorFactory create = {};
};

// The factory of a kind whose options come from `parse` (a config::Binding's Fill plus the
// kind's own checks) and whose collector is made by `make`.
template <class Options>
CollectorFactory MakeFactory(Expected<Options, config::Error> (*parse)(const config::Section&,
                                                                       const Environment&),
                             std::unique_ptr<Collector> (*make)(Options)) {
  return
      [parse, make](const config::Section& section,
                    const Environment& env) -> Expected<std::unique_ptr<Collector>, config::Error> {
        auto options = parse(section, env);
        if (!options.ok()) return options.error();
        return make(std::move(*options));
      };
}

}  // namespace tacho::agent
