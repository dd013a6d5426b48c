#include "agent/runtime.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

namespace tacho::agent {

namespace asio = boost::asio;
using std::chrono::steady_clock;
using std::chrono::system_clock;

// Free memory in malloc's arenas above which a finished collection returns it to the system.
constexpr std::size_t kTrimThresholdBytes = 1 << 20;

const char* StateName(InstanceState state) {
  switch (state) {
    case InstanceState::kPending:
      return "pending";
    case InstanceState::kUp:
      return "up";
    case InstanceState::kDown:
      return "down";
  }
  return "unknown";
}

CollectorRuntime::CollectorRuntime(asio::io_context& io, SnapshotStore& store,
                                   const config::CollectorInstance& instance,
                                   const CollectorKind& kind, std::unique_ptr<Collector> collector)
    : io_(io),
      store_(store),
      name_(instance.name),
      kind_(instance.kind),
      up_metric_(kind.up_metric),
      up_help_(kind.up_help),
      interval_(instance.interval),
      timeout_(instance.timeout),
      collector_(std::move(collector)),
      tick_timer_(io),
      deadline_timer_(io) {}

CollectorRuntime::~CollectorRuntime() {
  // Reached only when no collection is running (the worker's completion holds a reference),
  // so joining the worker thread does not block.
  worker_.stop();
  worker_.join();
}

void CollectorRuntime::Schedule(std::chrono::milliseconds first_delay) {
  next_tick_ = steady_clock::now() + first_delay;
  ArmTick();
}

void CollectorRuntime::ScheduleNext() {
  // Fixed-rate: ticks stay on the grid set by the first one. After a stall (suspend, overload)
  // the missed ticks are dropped rather than fired in a burst.
  next_tick_ += interval_;
  const auto now = steady_clock::now();
  if (next_tick_ < now) {
    const auto behind = (now - next_tick_) / interval_ + 1;
    next_tick_ += interval_ * behind;
  }
  ArmTick();
}

void CollectorRuntime::ArmTick() {
  tick_timer_.expires_at(next_tick_);
  tick_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->retired_) return;
    self->CollectNow();
    self->ScheduleNext();
  });
}

bool CollectorRuntime::CollectNow() {
  if (retired_) return false;
  if (stats_.running) {
    ++stats_.skipped;
    spdlog::debug("collector {} '{}': previous collection still running, tick skipped", kind_,
                  name_);
    return false;
  }
  stats_.running = true;
  timed_out_ = false;
  const std::uint64_t generation = ++generation_;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  const auto deadline = steady_clock::now() + timeout_;
  stats_.last_attempt = system_clock::now();

  deadline_timer_.expires_at(deadline);
  deadline_timer_.async_wait(
      [weak = weak_from_this(), generation](const boost::system::error_code& ec) {
        if (auto self = weak.lock(); self && !ec) self->OnDeadline(generation);
      });

  asio::post(worker_, [self = shared_from_this(), generation, cancel = cancel_,
                       deadline]() mutable {
    CollectContext ctx{deadline, system_clock::now(), cancel.get()};
    MetricSink sink(Labels{{"target", self->name_}});
    const auto start = steady_clock::now();
    Status status;
    try {
      status = self->collector_->Collect(ctx, sink);
    } catch (const std::exception& e) {
      status = Status::Error(std::string("collector threw an exception: ") + e.what());
    } catch (...) {
      status = Status::Error("collector threw an unknown exception");
    }
    const double seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
    const std::size_t conflicts = sink.conflicts().size();
    // Rendered here, on the worker: the event loop that serves scrapes only publishes it.
    std::shared_ptr<const Snapshot> snapshot;
    if (status.ok()) {
      auto families = sink.Take();
      self->AppendUp(families, true);
      snapshot = MakeSnapshot(std::move(families), system_clock::now(), self->store_.kept_names());
    }
    // Hand the last reference to the loop thread: the runtime must not be destroyed here,
    // on its own worker thread.
    asio::io_context& io = self->io_;
    asio::post(io, [self = std::move(self), generation, status = std::move(status),
                    snapshot = std::move(snapshot), conflicts, seconds]() mutable {
      self->OnDone(generation, std::move(status), std::move(snapshot), conflicts, seconds);
    });
  });
  return true;
}

void CollectorRuntime::OnDeadline(std::uint64_t generation) {
  if (generation != generation_ || !stats_.running || timed_out_) return;
  timed_out_ = true;
  cancel_->store(true);
  ++stats_.timeouts;
  ++stats_.errors;
  stats_.last_duration_seconds = std::chrono::duration<double>(timeout_).count();
  if (!retired_) {
    PublishDown();
    SetState(InstanceState::kDown,
             "collection did not finish within its timeout of " + config::FormatDuration(timeout_));
  }
  if (on_finished_) on_finished_();
}

void CollectorRuntime::OnDone(std::uint64_t generation, Status status,
                              std::shared_ptr<const Snapshot> snapshot, std::size_t conflicts,
                              double seconds) {
  if (generation != generation_) return;
  stats_.running = false;
  deadline_timer_.cancel();
  if (retired_) {
    if (!stopped_) {
      stopped_ = true;
      collector_->Stop();
    }
    return;
  }
  const bool was_timed_out = timed_out_;
  timed_out_ = false;
  if (was_timed_out) {
    // The deadline already marked this collection failed and withdrew its series; a late
    // result is stale and is dropped.
    spdlog::debug("collector {} '{}': late result after {:.3f}s discarded", kind_, name_, seconds);
    return;
  }
  ++stats_.runs;
  stats_.last_duration_seconds = seconds;
  stats_.sink_conflicts += conflicts;
  if (conflicts > 0) {
    spdlog::error("collector {} '{}': {} samples dropped for using a family with two types", kind_,
                  name_, conflicts);
  }
  if (status.ok()) {
    stats_.last_series = snapshot->series;
    store_.Publish(name_, std::move(snapshot));
    // Publishing freed the previous snapshot (unless a scrape still holds it). glibc keeps
    // freed memory in the worker thread's arena for good; when that is more than a little,
    // give it back to the system, on the worker, so that RSS follows the size of the data
    // rather than its peak. (The next large collection pays for it in page faults, ~1 ms per
    // few thousand series: worth it at the usual intervals, skipped for small snapshots.)
    asio::post(worker_, [] {
      if (mallinfo2().fordblks > kTrimThresholdBytes) malloc_trim(0);
    });
    stats_.last_success = system_clock::now();
    SetState(InstanceState::kUp, "");
  } else {
    ++stats_.errors;
    PublishDown();
    SetState(InstanceState::kDown, status.message());
  }
  if (on_finished_) on_finished_();
}

void CollectorRuntime::AppendUp(std::vector<prometheus::MetricFamily>& families, bool up) const {
  if (up_metric_.empty()) return;
  prometheus::MetricFamily family;
  family.name = up_metric_;
  family.help = up_help_;
  family.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric metric;
  metric.label = {{"target", name_}};
  metric.gauge.value = up ? 1 : 0;
  family.metric.push_back(std::move(metric));
  auto pos = std::lower_bound(families.begin(), families.end(), family.name,
                              [](const auto& f, const std::string& n) { return f.name < n; });
  families.insert(pos, std::move(family));
}

void CollectorRuntime::PublishDown() {
  // Stale series are withdrawn rather than served as fresh; only `up` 0 remains (and the
  // runtime's self-metrics).
  std::vector<prometheus::MetricFamily> families;
  AppendUp(families, false);
  stats_.last_series = 0;
  store_.Publish(name_, MakeSnapshot(std::move(families), system_clock::now()));
}

void CollectorRuntime::SetState(InstanceState state, const std::string& error) {
  const InstanceState previous = stats_.state;
  const std::string previous_error = stats_.last_error;
  stats_.state = state;
  if (state == InstanceState::kDown) stats_.last_error = error;
  if (state == previous) return;  // logged once per change of state, not once per tick
  if (state == InstanceState::kDown) {
    spdlog::warn("collector {} '{}' is down: {}", kind_, name_, error);
  } else if (previous == InstanceState::kDown) {
    spdlog::info("collector {} '{}' recovered (was: {})", kind_, name_, previous_error);
  } else {
    spdlog::info("collector {} '{}' is up", kind_, name_);
  }
}

void CollectorRuntime::Retire(bool remove_snapshot) {
  if (retired_) return;
  retired_ = true;
  tick_timer_.cancel();
  if (remove_snapshot) store_.Remove(name_);
  if (stats_.running) {
    cancel_->store(true);  // Stop() follows when the collection returns (OnDone)
  } else if (!stopped_) {
    stopped_ = true;
    collector_->Stop();
  }
}

}  // namespace tacho::agent
