#include "collectors/postgres/watchdog.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace tacho::collectors::postgres {
namespace {

using namespace std::chrono_literals;

TEST(SocketWatchdogTest, shuts_down_watched_sockets_after_the_deadline) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  SocketWatchdog watchdog(10ms);
  watchdog.Watch(fds[0]);
  const auto start = SocketWatchdog::Clock::now();
  watchdog.Arm(start + 50ms);
  char c;
  // A blocking read of a peer that never writes: returns only because of the watchdog.
  const ssize_t n = read(fds[0], &c, 1);
  const auto waited = SocketWatchdog::Clock::now() - start;
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(watchdog.fired());
  EXPECT_GE(waited, 50ms);
  EXPECT_LT(waited, 2s);
  watchdog.Disarm();
  watchdog.Unwatch(fds[0]);
  close(fds[0]);
  close(fds[1]);
}

TEST(SocketWatchdogTest, disarmed_in_time_leaves_sockets_alone) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  SocketWatchdog watchdog(10ms);
  watchdog.Watch(fds[0]);
  watchdog.Arm(SocketWatchdog::Clock::now() + 30ms);
  watchdog.Disarm();
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(watchdog.fired());
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  char c;
  EXPECT_EQ(read(fds[0], &c, 1), 1);
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace tacho::collectors::postgres
