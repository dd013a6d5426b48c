// CollectorRuntime: the wrapper around one configured collector instance. It owns the timing,
// deadline, skip-if-busy policy, error counting and state-change logging, so collectors never do.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "agent/collector.h"
#include "agent/snapshot.h"

namespace tacho::agent {

enum class InstanceState { kPending, kUp, kDown };
const char* StateName(InstanceState state);

// What /api/v1/status, the landing page and the self-metrics report about an instance.
struct InstanceStats {
  InstanceState state = InstanceState::kPending;
  bool running = false;
  std::uint64_t runs = 0;      // finished collections, successful or not
  std::uint64_t errors = 0;    // failed or timed-out collections
  std::uint64_t timeouts = 0;  // of which timed out
  std::uint64_t skipped = 0;   // ticks skipped because the previous collection still ran
  std::uint64_t sink_conflicts = 0;
  double last_duration_seconds = 0;
  std::size_t last_series = 0;
  std::chrono::system_clock::time_point last_success{};
  std::chrono::system_clock::time_point last_attempt{};
  std::string last_error;
};

// Thread-safety: every public method must be called on the event-loop thread (the io_context
// passed to the constructor). Collect() runs on the instance's own worker thread, so a collector
// that hangs holds only its own thread and never delays other instances or a scrape.
class CollectorRuntime : public std::enable_shared_from_this<CollectorRuntime> {
 public:
  CollectorRuntime(boost::asio::io_context& io, SnapshotStore& store,
                   const config::CollectorInstance& instance, const CollectorKind& kind,
                   std::unique_ptr<Collector> collector);
  ~CollectorRuntime();

  const std::string& name() const { return name_; }
  const std::string& kind() const { return kind_; }
  std::chrono::milliseconds interval() const { return interval_; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  const InstanceStats& stats() const { return stats_; }
  // True once the first collection finished (success, failure or timeout).
  bool completed_first() const { return stats_.runs > 0 || stats_.timeouts > 0; }

  // Runs collections every interval, the first after `first_delay`.
  void Schedule(std::chrono::milliseconds first_delay);
  // Starts one collection now unless one is running (then counts a skip). Returns whether
  // it started.
  bool CollectNow();
  // Called after each finished or timed-out collection (used by --once).
  void OnFinished(std::function<void()> callback) { on_finished_ = std::move(callback); }

  // Stops scheduling, cancels a running collection, and calls Collector::Stop() once it has
  // returned. `remove_snapshot`: withdraw the instance's series now (false on a reload that
  // keeps the name, so scrapes see no gap until the new instance publishes).
  void Retire(bool remove_snapshot);

 private:
  void ScheduleNext();
  // Waits for next_tick_, then collects and schedules the tick after.
  void ArmTick();
  void OnDeadline(std::uint64_t generation);
  // Loop thread. `snapshot` is the collection's, rendered on the worker (null on failure).
  void OnDone(std::uint64_t generation, Status status, std::shared_ptr<const Snapshot> snapshot,
              std::size_t conflicts, double seconds);
  void PublishDown();
  void SetState(InstanceState state, const std::string& error);
  void AppendUp(std::vector<prometheus::MetricFamily>& families, bool up) const;

  boost::asio::io_context& io_;
  SnapshotStore& store_;
  const std::string name_;
  const std::string kind_;
  const std::string up_metric_;
  const std::string up_help_;
  const std::chrono::milliseconds interval_;
  const std::chrono::milliseconds timeout_;
  std::unique_ptr<Collector> collector_;
  boost::asio::thread_pool worker_{1};
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer deadline_timer_;
  std::chrono::steady_clock::time_point next_tick_{};

  InstanceStats stats_;
  std::uint64_t generation_ = 0;
  bool timed_out_ = false;  // the running generation passed its deadline
  bool retired_ = false;
  bool stopped_ = false;
  std::shared_ptr<std::atomic<bool>> cancel_;
  std::function<void()> on_finished_;
};

}  // namespace tacho::agent
