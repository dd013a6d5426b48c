#include "collectors/postgres/watchdog.h"

#include <sys/socket.h>

namespace tacho::collectors::postgres {

SocketWatchdog::SocketWatchdog(std::chrono::milliseconds grace)
    : grace_(grace), thread_([this] { Run(); }) {}

SocketWatchdog::~SocketWatchdog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SocketWatchdog::Arm(Clock::time_point deadline) {
  {
    std::lock_guard lock(mu_);
    armed_ = true;
    fired_ = false;
    deadline_ = deadline + grace_;
  }
  cv_.notify_all();
}

void SocketWatchdog::Disarm() {
  {
    std::lock_guard lock(mu_);
    armed_ = false;
  }
  cv_.notify_all();
}

void SocketWatchdog::Watch(int fd) {
  if (fd < 0) return;
  std::lock_guard lock(mu_);
  fds_.insert(fd);
}

void SocketWatchdog::Unwatch(int fd) {
  std::lock_guard lock(mu_);
  fds_.erase(fd);
}

bool SocketWatchdog::fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

void SocketWatchdog::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (!armed_) {
      cv_.wait(lock);
      continue;
    }
    const auto deadline = deadline_;
    if (Clock::now() < deadline) {
      cv_.wait_until(lock, deadline);
      continue;  // re-check: disarmed, re-armed or stopping meanwhile
    }
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    fired_ = true;
    armed_ = false;
  }
}

}  // namespace tacho::collectors::postgres
