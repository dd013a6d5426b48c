// Unblocks a collection stuck on a dead server.
//
// statement_timeout is enforced by the server, so it cannot fire when the server is frozen
// (SIGSTOP, a hung host, a silent network partition): libpq then waits on the socket forever.
// The watchdog runs on its own thread; once the collection's deadline (plus a grace period) has
// passed while it is armed, it shuts down (shutdown(2), not close(2)) the sockets of the
// sessions in use, so the blocked read returns at once, the query fails as a lost connection,
// and Collect() returns. The sockets are closed later by their owner, so a descriptor number
// is never reused under the watchdog's feet.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace tacho::collectors::postgres {

// Thread-safe: Arm/Disarm/Watch/Unwatch are called from the collection thread, the watchdog
// acts from its own thread.
class SocketWatchdog {
 public:
  using Clock = std::chrono::steady_clock;
  explicit SocketWatchdog(std::chrono::milliseconds grace = std::chrono::milliseconds(200));
  ~SocketWatchdog();
  SocketWatchdog(const SocketWatchdog&) = delete;
  SocketWatchdog& operator=(const SocketWatchdog&) = delete;

  // Starts guarding a collection that must end by `deadline`. Clears fired().
  void Arm(Clock::time_point deadline);
  void Disarm();
  // Sockets to shut down on expiry. Unwatch before closing the socket.
  void Watch(int fd);
  void Unwatch(int fd);
  // True once the watchdog shut sockets down during the current (or last) armed period.
  bool fired() const;

 private:
  void Run();

  const std::chrono::milliseconds grace_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool fired_ = false;
  bool stopping_ = false;
  Clock::time_point deadline_{};
  std::set<int> fds_;
  std::thread thread_;
};

}  // namespace tacho::collectors::postgres
