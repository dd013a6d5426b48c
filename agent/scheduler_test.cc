#include "agent/scheduler.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace tacho::agent {
namespace {

using namespace std::chrono_literals;

// A collector whose Collect() blocks until released, or sleeps for a set time.
class FakeCollector : public Collector {
 public:
  explicit FakeCollector(std::chrono::milliseconds work, bool fail = false)
      : work_(work), fail_(fail) {}

  Status Collect(const CollectContext& ctx, MetricSink& sink) override {
    ++calls;
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, work_, [&] { return released_; });
    }
    saw_cancel = ctx.Cancelled();
    if (fail_) return Status::Error("connection refused");
    sink.Gauge("fake_value", "A fake value.", {}, calls.load());
    return Status::Ok();
  }
  void Stop() override { stopped = true; }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }

  std::atomic<int> calls{0};
  std::atomic<bool> stopped{false};
  std::atomic<bool> saw_cancel{false};

 private:
  std::chrono::milliseconds work_;
  bool fail_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool released_ = false;
};

// Runs the loop until `done` holds or `limit` passes; run_for alone returns at once when no
// timer is pending, before a worker thread's completion has been posted.
template <class Pred>
void RunUntil(boost::asio::io_context& io, Pred done, std::chrono::milliseconds limit = 5s) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < give_up) {
    io.restart();
    io.run_for(10ms);
  }
}

struct Fixture {
  boost::asio::io_context io;
  SnapshotStore store;
  CollectorKind kind{.name = "fake",
                     .description = "",
                     .schema = {},
                     .up_metric = "fake_up",
                     .up_help = "Fake up.",
                     .upstream_kinds = {},
                     .chain_pool = "",
                     .create = nullptr};

  std::shared_ptr<CollectorRuntime> Make(std::string name, std::chrono::milliseconds interval,
                                         std::chrono::milliseconds timeout, FakeCollector*& out,
                                         std::chrono::milliseconds work, bool fail = false) {
    config::CollectorInstance instance;
    instance.kind = "fake";
    instance.name = std::move(name);
    instance.interval = interval;
    instance.timeout = timeout;
    auto collector = std::make_unique<FakeCollector>(work, fail);
    out = collector.get();
    return std::make_shared<CollectorRuntime>(io, store, instance, kind, std::move(collector));
  }

  double Up(const std::string& name) {
    auto all = store.All();
    auto it = all.find(name);
    if (it == all.end()) return -1;
    for (const auto& f : it->second->families) {
      if (f.name == "fake_up") return f.metric.at(0).gauge.value;
    }
    return -1;
  }
  bool HasValue(const std::string& name) {
    auto all = store.All();
    auto it = all.find(name);
    if (it == all.end()) return false;
    for (const auto& f : it->second->families) {
      if (f.name == "fake_value") return true;
    }
    return false;
  }
};

TEST(SchedulerTest, successful_collection_publishes_series_and_up) {
  Fixture fx;
  FakeCollector* c = nullptr;
  Scheduler scheduler(fx.io);
  scheduler.Replace({fx.Make("a", 1s, 500ms, c, 0ms)});
  EXPECT_FALSE(scheduler.Ready());
  scheduler.RunOnce([&] { fx.io.stop(); });
  fx.io.run_for(5s);
  EXPECT_TRUE(scheduler.Ready());
  EXPECT_EQ(fx.Up("a"), 1);
  EXPECT_TRUE(fx.HasValue("a"));
  const InstanceStats& s = scheduler.runtimes()[0]->stats();
  EXPECT_EQ(s.state, InstanceState::kUp);
  EXPECT_EQ(s.runs, 1u);
  EXPECT_EQ(s.errors, 0u);
  EXPECT_GT(s.last_success.time_since_epoch().count(), 0);
  // Every series carries the instance's target label.
  for (const auto& f : fx.store.All()["a"]->families) {
    for (const auto& m : f.metric) {
      EXPECT_NE(std::find(m.label.begin(), m.label.end(), Label{"target", "a"}), m.label.end());
    }
  }
}

TEST(SchedulerTest, failed_collection_withdraws_series_but_keeps_up_zero) {
  Fixture fx;
  FakeCollector* c = nullptr;
  Scheduler scheduler(fx.io);
  auto runtime = fx.Make("a", 1s, 500ms, c, 0ms);
  scheduler.Replace({runtime});
  scheduler.RunOnce([&] { fx.io.stop(); });
  fx.io.run_for(5s);
  ASSERT_TRUE(fx.HasValue("a"));

  // Same instance now failing: its stale value is withdrawn, up drops to 0.
  Fixture fx2;
  FakeCollector* failing = nullptr;
  Scheduler scheduler2(fx2.io);
  scheduler2.Replace({fx2.Make("b", 1s, 500ms, failing, 0ms, /*fail=*/true)});
  scheduler2.RunOnce([&] { fx2.io.stop(); });
  fx2.io.run_for(5s);
  EXPECT_EQ(fx2.Up("b"), 0);
  EXPECT_FALSE(fx2.HasValue("b"));
  const InstanceStats& s = scheduler2.runtimes()[0]->stats();
  EXPECT_EQ(s.state, InstanceState::kDown);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.last_error, "connection refused");
}

TEST(SchedulerTest, tick_during_running_collection_is_skipped_and_counted) {
  Fixture fx;
  FakeCollector* slow = nullptr;
  // Interval 100ms, timeout 90ms, work blocks until released: after the timeout the runtime
  // marks the run failed but must not start another while the first still runs.
  auto runtime = fx.Make("slow", 100ms, 90ms, slow, 10s);
  Scheduler scheduler(fx.io);
  scheduler.Replace({runtime});
  scheduler.Start();
  fx.io.run_for(650ms);
  EXPECT_EQ(slow->calls.load(), 1) << "never two collections of one instance at once";
  EXPECT_GE(runtime->stats().skipped, 3u);
  EXPECT_EQ(runtime->stats().timeouts, 1u);
  slow->Release();
  scheduler.Stop();
  RunUntil(fx.io, [&] { return !scheduler.Busy(); });
  EXPECT_TRUE(slow->saw_cancel.load()) << "the collection sees its cancellation";
  EXPECT_TRUE(slow->stopped.load()) << "Stop() follows once the collection returned";
}

TEST(SchedulerTest, timeout_marks_failed_without_delaying_other_instances) {
  Fixture fx;
  FakeCollector* hung = nullptr;
  FakeCollector* fast = nullptr;
  auto hung_rt = fx.Make("hung", 200ms, 150ms, hung, 10s);
  auto fast_rt = fx.Make("fast", 200ms, 150ms, fast, 0ms);
  Scheduler scheduler(fx.io);
  scheduler.Replace({hung_rt, fast_rt});
  scheduler.Start();
  fx.io.run_for(1100ms);
  EXPECT_EQ(hung_rt->stats().state, InstanceState::kDown);
  EXPECT_EQ(fx.Up("hung"), 0);
  EXPECT_NE(hung_rt->stats().last_error.find("timeout of 150ms"), std::string::npos)
      << hung_rt->stats().last_error;
  EXPECT_TRUE(scheduler.Ready()) << "a timed-out first collection still counts as done";
  // The fast instance kept its 200ms schedule while the other hung.
  EXPECT_GE(fast->calls.load(), 4);
  EXPECT_EQ(fast_rt->stats().state, InstanceState::kUp);
  hung->Release();
  scheduler.Stop();
  RunUntil(fx.io, [&] { return !scheduler.Busy(); });
  EXPECT_FALSE(scheduler.Busy());
}

TEST(SchedulerTest, late_result_after_timeout_is_discarded) {
  Fixture fx;
  FakeCollector* slow = nullptr;
  auto runtime = fx.Make("slow", 10s, 100ms, slow, 300ms);
  Scheduler scheduler(fx.io);
  scheduler.Replace({runtime});
  scheduler.RunOnce([] {});
  RunUntil(fx.io, [&] { return runtime->stats().timeouts == 1 && !runtime->stats().running; });
  EXPECT_FALSE(runtime->stats().running);
  EXPECT_EQ(runtime->stats().state, InstanceState::kDown);
  EXPECT_FALSE(fx.HasValue("slow")) << "a result that arrives after the deadline is stale";
  EXPECT_EQ(runtime->stats().runs, 0u);
}

TEST(SchedulerTest, replace_withdraws_removed_instances_only) {
  Fixture fx;
  FakeCollector* a = nullptr;
  FakeCollector* b = nullptr;
  Scheduler scheduler(fx.io);
  // Held here so the fakes outlive Replace(), which drops the scheduler's references.
  auto ra = fx.Make("a", 1s, 500ms, a, 0ms);
  auto rb = fx.Make("b", 1s, 500ms, b, 0ms);
  scheduler.Replace({ra, rb});
  scheduler.RunOnce([&] { fx.io.stop(); });
  fx.io.run_for(5s);
  fx.io.restart();
  FakeCollector* a2 = nullptr;
  scheduler.Replace({fx.Make("a", 1s, 500ms, a2, 0ms)});
  EXPECT_TRUE(a->stopped.load());
  EXPECT_TRUE(b->stopped.load());
  auto all = fx.store.All();
  EXPECT_EQ(all.count("a"), 1u) << "kept name: old series served until the successor publishes";
  EXPECT_EQ(all.count("b"), 0u) << "removed name: series withdrawn";
}

}  // namespace
}  // namespace tacho::agent
