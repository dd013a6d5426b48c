#include "agent/scheduler.h"

#include <algorithm>
#include <random>
#include <set>

namespace tacho::agent {

void Scheduler::Replace(std::vector<std::shared_ptr<CollectorRuntime>> runtimes) {
  std::set<std::string> kept;
  for (const auto& r : runtimes) kept.insert(r->name());
  std::erase_if(retired_, [](const auto& w) { return w.expired(); });
  for (const auto& old : runtimes_) {
    old->Retire(/*remove_snapshot=*/kept.count(old->name()) == 0);
    retired_.push_back(old);
  }
  runtimes_ = std::move(runtimes);
  if (started_) {
    started_ = false;
    Start();
  }
}

void Scheduler::Start() {
  if (started_) return;
  started_ = true;
  std::mt19937_64 rng(std::random_device{}());
  for (const auto& r : runtimes_) {
    // Jitter up to a tenth of the interval, at most 500ms: spreads load without delaying
    // readiness noticeably.
    const auto max_jitter =
        std::min<std::chrono::milliseconds::rep>(r->interval().count() / 10, 500);
    std::uniform_int_distribution<std::chrono::milliseconds::rep> dist(0, max_jitter);
    r->Schedule(std::chrono::milliseconds(dist(rng)));
  }
}

void Scheduler::RunOnce(std::function<void()> done) {
  auto remaining = std::make_shared<std::size_t>(runtimes_.size());
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  if (*remaining == 0) {
    (*finish)();
    return;
  }
  for (const auto& r : runtimes_) {
    r->OnFinished([remaining, finish, fired = std::make_shared<bool>(false)]() {
      if (*fired) return;  // a timed-out collection reports again when it finally returns
      *fired = true;
      if (--*remaining == 0) (*finish)();
    });
    r->CollectNow();
  }
}

void Scheduler::Stop() {
  for (const auto& r : runtimes_) {
    r->Retire(/*remove_snapshot=*/false);
    retired_.push_back(r);
  }
  runtimes_.clear();
  started_ = false;
}

bool Scheduler::Ready() const {
  return std::all_of(runtimes_.begin(), runtimes_.end(),
                     [](const auto& r) { return r->completed_first(); });
}

bool Scheduler::Busy() const {
  auto running = [](const std::shared_ptr<CollectorRuntime>& r) { return r && r->stats().running; };
  if (std::any_of(runtimes_.begin(), runtimes_.end(), running)) return true;
  return std::any_of(retired_.begin(), retired_.end(),
                     [&](const auto& w) { return running(w.lock()); });
}

}  // namespace tacho::agent
