#include "collectors/redis/redis_collector.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "agent/collector_test_util.h"
#include "config/config.h"

namespace tacho::collectors::redis {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

Expected<config::Config, config::Error> Load(const std::string& body) {
  static const agent::CollectorKind kind = RedisCollectorKind();
  return agent::testutil::LoadCollectorConfig(kind, "cache", body);
}

// The configure-time error for `body`, or "" if it configures.
std::string ConfigureError(const std::string& body) {
  auto config = Load(body);
  if (!config.ok()) return config.error().ToString();
  agent::Environment env{"cache", milliseconds(15000), milliseconds(12000), "/tmp"};
  auto collector = RedisCollectorKind().create(config->collectors.at(0).section, env);
  return collector.ok() ? "" : collector.error().ToString();
}

agent::CollectContext Context(milliseconds budget) {
  agent::CollectContext ctx;
  ctx.deadline = Clock::now() + budget;
  ctx.started_at = std::chrono::system_clock::now();
  return ctx;
}

// A TCP listener on 127.0.0.1 that either never answers (connections wait in the backlog, as
// with a SIGSTOPped server) or answers every connection's first request with `reply`.
class FakeServer {
 public:
  explicit FakeServer(std::string reply = "") : reply_(std::move(reply)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (!reply_.empty()) thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++accepted_;
      char buf[4096];
      if (read(c, buf, sizeof buf) > 0) {
        [[maybe_unused]] auto n = write(c, reply_.data(), reply_.size());
      }
      close(c);
    }
  }
  std::string reply_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

RedisOptions Options(int port) {
  RedisOptions options;
  options.instance_name = "cache";
  options.address.host = "127.0.0.1";
  options.address.port = port;
  return options;
}

TEST(RedisCollectorConfigTest, defaults_configure) {
  EXPECT_EQ(ConfigureError(""), "");
  EXPECT_EQ(ConfigureError("address = \"/run/redis/redis.sock\"\n"), "");
  EXPECT_EQ(ConfigureError("username = \"tacho\"\npassword = \"pw\"\ncommands.top_k = 0\n"
                           "slowlog = false\n[collectors.redis.clients]\nlist = false\n"),
            "");
}

TEST(RedisCollectorConfigTest, invalid_values_are_reported_at_their_position) {
  EXPECT_EQ(ConfigureError("address = \"localhost\"\n"),
            "test.toml:3:1: invalid address \"localhost\": missing port: expected host:port or "
            "an absolute unix socket path");
  EXPECT_EQ(ConfigureError("username = \"tacho\"\n"),
            "test.toml:3:1: username \"tacho\" needs a password (password, password_file or "
            "password_env)");
  EXPECT_EQ(ConfigureError("commands.top_k = 30\ncommands.max = 10\n"),
            "test.toml:3:10: commands.top_k (30) must not exceed commands.max (10)");
  EXPECT_NE(ConfigureError("commands.top_k = -1\n"), "");
  EXPECT_NE(ConfigureError("connect_timeout = 5\n"), "") << "durations are strings";
}

TEST(RedisCollectorConfigTest, password_from_env) {
  setenv("TACHO_TEST_REDIS_PW", "from-env", 1);
  auto config = Load("username = \"u\"\npassword_env = \"TACHO_TEST_REDIS_PW\"\n");
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->collectors[0].section.GetString("password"), "from-env");
  EXPECT_EQ(config->secrets, std::vector<std::string>{"from-env"});
}

TEST(RedisCollectorTest, auth_failure_messages_are_clear_and_never_hold_the_password) {
  EXPECT_EQ(
      AuthFailureMessage("alice", "WRONGPASS invalid username-password pair or user is disabled."),
      "authentication failed for user 'alice' (WRONGPASS)");
  EXPECT_EQ(AuthFailureMessage("", "ERR invalid password"),
            "authentication failed for user 'default' (ERR invalid password)");
  EXPECT_NE(AuthFailureMessage("alice", "ERR wrong number of arguments for 'auth' command")
                .find("needs Redis 6"),
            std::string::npos);
}

TEST(RedisCollectorTest, refused_connection_fails_then_backs_off_without_connecting) {
  int port = 0;
  {
    FakeServer closed;  // a port that was free a moment ago and is closed now
    port = closed.port();
  }
  auto collector = NewRedisCollector(Options(port));
  agent::MetricSink sink;
  Status first = collector->Collect(Context(milliseconds(2000)), sink);
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << first.message();
  EXPECT_NE(first.message().find("refused"), std::string::npos) << first.message();
  Status second = collector->Collect(Context(milliseconds(2000)), sink);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.message().find("next attempt in"), std::string::npos) << second.message();
  EXPECT_EQ(sink.size(), 0u);
}

TEST(RedisCollectorTest, silent_server_times_out_at_the_deadline) {
  FakeServer silent;
  auto collector = NewRedisCollector(Options(silent.port()));
  agent::MetricSink sink;
  const auto start = Clock::now();
  Status status = collector->Collect(Context(milliseconds(300)), sink);
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("timeout"), std::string::npos) << status.message();
  EXPECT_GE(took.count(), 250);
  EXPECT_LT(took.count(), 700) << "bounded by the deadline plus a small slack";
}

TEST(RedisCollectorTest, wrong_password_is_one_clear_error_then_backoff) {
  FakeServer server("-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  RedisOptions options = Options(server.port());
  options.username = "alice";
  options.password = "hunter2-secret";
  auto collector = NewRedisCollector(options);
  agent::MetricSink sink;
  Status status = collector->Collect(Context(milliseconds(2000)), sink);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "authentication failed for user 'alice' (WRONGPASS)");
  for (int i = 0; i < 5; ++i) {
    Status again = collector->Collect(Context(milliseconds(2000)), sink);
    EXPECT_FALSE(again.ok());
    EXPECT_EQ(again.message().find("hunter2"), std::string::npos);
  }
  EXPECT_EQ(server.accepted(), 1) << "no busy loop: later ticks wait for the backoff";
}

}  // namespace
}  // namespace tacho::collectors::redis
