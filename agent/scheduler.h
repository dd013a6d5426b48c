// The scheduler: runs each collector instance on its own interval, with start-up jitter so that
// instances sharing an interval do not fire in lockstep.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "agent/runtime.h"

namespace tacho::agent {

// Thread-safety: event-loop thread only.
class Scheduler {
 public:
  explicit Scheduler(boost::asio::io_context& io) : io_(io) {}

  // Replaces the running set (start-up and reload). Instances whose name disappears are
  // retired and their series withdrawn; instances whose name is kept are retired without
  // withdrawing, and their successor's first collection replaces the series.
  void Replace(std::vector<std::shared_ptr<CollectorRuntime>> runtimes);
  // Starts the timers: the first collection of each instance after a small random jitter.
  void Start();
  // One collection of every instance, now; `done` runs once all have finished or timed out.
  void RunOnce(std::function<void()> done);
  // Retires everything (shutdown).
  void Stop();

  // True once every instance has finished its first collection.
  bool Ready() const;
  // True while any instance (including retired ones still finishing) has a collection running.
  bool Busy() const;
  const std::vector<std::shared_ptr<CollectorRuntime>>& runtimes() const { return runtimes_; }

 private:
  boost::asio::io_context& io_;
  std::vector<std::shared_ptr<CollectorRuntime>> runtimes_;
  std::vector<std::weak_ptr<CollectorRuntime>> retired_;
  bool started_ = false;
};

}  // namespace tacho::agent
