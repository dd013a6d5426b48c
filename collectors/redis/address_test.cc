#include "collectors/redis/address.h"

#include <gtest/gtest.h>

namespace tacho::collectors::redis {
namespace {

TEST(RedisAddressTest, host_port_ipv6_and_unix_socket) {
  auto tcp = ParseAddress("127.0.0.1:6379");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(tcp->host, "127.0.0.1");
  EXPECT_EQ(tcp->port, 6379);
  EXPECT_FALSE(tcp->is_unix());
  EXPECT_EQ(tcp->ToString(), "127.0.0.1:6379");

  auto name = ParseAddress("cache.internal:6380");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host, "cache.internal");

  auto v6 = ParseAddress("[::1]:6379");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->ToString(), "[::1]:6379");

  auto unix_socket = ParseAddress("/run/redis/redis-server.sock");
  ASSERT_TRUE(unix_socket.ok());
  EXPECT_TRUE(unix_socket->is_unix());
  EXPECT_EQ(unix_socket->ToString(), "/run/redis/redis-server.sock");
}

TEST(RedisAddressTest, rejects_what_cannot_be_connected_to) {
  for (const char* bad : {"", "localhost", "localhost:", ":6379", "host:0", "host:65536",
                          "host:63x9", "::1:6379", "[::1]6379", "run/redis.sock"}) {
    EXPECT_FALSE(ParseAddress(bad).ok()) << bad;
  }
  EXPECT_NE(ParseAddress("::1:6379").error().find("brackets"), std::string::npos);
}

}  // namespace
}  // namespace tacho::collectors::redis
