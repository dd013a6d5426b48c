#include "collectors/redis/redis_collector.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include "agent/collector_test_util.h"
#include "base/test_http_server.h"
#include "collectors/redis/pipeline.h"
#include "collectors/redis/test_util.h"
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
    fd_ = base::testing::ListenOnLoopback(&port_);
    if (!reply_.empty()) thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  int fd() const { return fd_; }
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

std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

// The answer of a Redis 7.0.15 server to `command`, from the captured fixtures; "" for a command
// it does not know.
std::string FixtureAnswer(const Command& command) {
  using testutil::Fixture;
  const std::string name = command[0] + (command.size() > 1 ? " " + command[1] : "");
  if (name == "CLIENT SETNAME") return "+OK\r\n";
  if (name == "CONFIG GET") {
    const std::string& key = command.at(2);
    const std::string value = key == "databases" ? "16" : key == "maxclients" ? "4242" : "0";
    return "*2\r\n" + Bulk(key) + Bulk(value);
  }
  if (name == "SLOWLOG LEN") return ":4\r\n";
  if (name == "SLOWLOG GET") return Fixture("slowlog_get_redis-7.0.15.resp");
  if (name == "LATENCY HISTOGRAM") return Fixture("latency_histogram_redis-7.0.15.resp");
  if (command[0] == "INFO") return Bulk(Fixture("info_all_redis-7.0.15.txt"));
  if (name == "CLIENT LIST") return Bulk(Fixture("client_list_redis-7.0.15.txt"));
  return "";
}

// A Redis stand-in on 127.0.0.1: answers every command of its one connection at a time, in
// order, with `answer(command)` (raw RESP; "" means FixtureAnswer), and records the commands.
class RespServer {
 public:
  using Answer = std::function<std::string(const Command&)>;
  explicit RespServer(Answer answer = nullptr) : answer_(std::move(answer)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~RespServer() {
    stop_ = true;
    if (int c = client_.load(); c >= 0) shutdown(c, SHUT_RDWR);
    listener_.reset();
    thread_.join();
  }
  int port() const { return listener_->port(); }
  // "CLIENT LIST", "LATENCY HISTOGRAM", ... as received, in order.
  std::vector<std::string> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  // One complete command at the front of `in` (a RESP array of bulk strings), consumed.
  static std::optional<Command> TakeCommand(std::string& in) {
    std::size_t pos = 0;
    auto line = [&in, &pos]() -> std::optional<std::string> {
      const auto end = in.find("\r\n", pos);
      if (end == std::string::npos) return std::nullopt;
      std::string out = in.substr(pos, end - pos);
      pos = end + 2;
      return out;
    };
    auto head = line();
    if (!head || head->empty() || head->front() != '*') return std::nullopt;
    Command command;
    for (int i = std::stoi(head->substr(1)); i > 0; --i) {
      auto len = line();
      if (!len) return std::nullopt;
      const auto n = static_cast<std::size_t>(std::stoul(len->substr(1)));
      if (in.size() < pos + n + 2) return std::nullopt;
      command.push_back(in.substr(pos, n));
      pos += n + 2;
    }
    in.erase(0, pos);
    return command;
  }

  void Serve() {
    while (!stop_) {
      int c = accept(listener_->fd(), nullptr, nullptr);
      if (c < 0) return;
      client_ = c;
      std::string in;
      char buf[4096];
      for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;) {
        in.append(buf, static_cast<std::size_t>(n));
        std::string out;
        while (auto command = TakeCommand(in)) {
          {
            std::lock_guard lock(mutex_);
            received_.push_back((*command)[0] +
                                (command->size() > 1 ? " " + (*command)[1] : std::string()));
          }
          std::string reply = answer_ ? answer_(*command) : "";
          if (reply.empty()) reply = FixtureAnswer(*command);
          if (reply.empty()) reply = "-ERR unknown command '" + (*command)[0] + "'\r\n";
          out += reply;
        }
        if (!out.empty() && write(c, out.data(), out.size()) < 0) break;
      }
      client_ = -1;
      close(c);
    }
  }

  // The listening socket (FakeServer without a reply never accepts by itself).
  std::unique_ptr<class FakeServer> listener_ = std::make_unique<FakeServer>();
  Answer answer_;
  std::atomic<bool> stop_{false};
  std::atomic<int> client_{-1};
  std::mutex mutex_;
  std::vector<std::string> received_;
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

// One collection against `server`; its samples.
testutil::Samples CollectFrom(RespServer& server, RedisOptions options) {
  options.address.port = server.port();
  auto collector = NewRedisCollector(std::move(options));
  agent::MetricSink sink;
  Status status = collector->Collect(Context(milliseconds(5000)), sink);
  EXPECT_TRUE(status.ok()) << status.message();
  return testutil::Samples(sink);
}

bool Sent(RespServer& server, const std::string& command) {
  const auto received = server.received();
  return std::find(received.begin(), received.end(), command) != received.end();
}

// What the replies of LATENCY HISTOGRAM, SLOWLOG and CONFIG GET (fixtures) turn into.
void ExpectLatencySlowlogAndConfig(const testutil::Samples& samples) {
  EXPECT_EQ(samples.At("redis_commands_latency_seconds_count{cmd=set}"), 5002);
  EXPECT_EQ(samples.At("redis_slowlog_length"), 4);
  EXPECT_EQ(samples.At("redis_slowlog_last_id"), 20200);
  EXPECT_EQ(samples.At("redis_config_maxclients"), 4242);
  EXPECT_EQ(samples.At("tacho_redis_capability{capability=latency_histogram}"), 1);
  EXPECT_EQ(samples.At("tacho_redis_capability{capability=slowlog}"), 1);
}

TEST(RedisCollectorTest, client_list_sent_or_skipped_leaves_the_other_replies_in_place) {
  RespServer with_list;
  RedisOptions options = Options(0);
  const testutil::Samples listed = CollectFrom(with_list, options);
  EXPECT_TRUE(Sent(with_list, "CLIENT LIST"));
  ExpectLatencySlowlogAndConfig(listed);
  EXPECT_EQ(listed.At("redis_client_pool_connections{client_name=billing-api}"), 3);
  EXPECT_EQ(listed.At("redis_client_pool_connections{client_name=worker}"), 3);

  RespServer without_list;
  options.client_list = false;
  const testutil::Samples unlisted = CollectFrom(without_list, options);
  EXPECT_FALSE(Sent(without_list, "CLIENT LIST"));
  ExpectLatencySlowlogAndConfig(unlisted);
  EXPECT_FALSE(unlisted.Has("redis_client_pool_connections{client_name=billing-api}"));
}

TEST(RedisCollectorTest, latency_histogram_skipped_or_refused_leaves_client_list_in_place) {
  RespServer no_latency;
  RedisOptions options = Options(0);
  options.top_k = 0;
  const testutil::Samples skipped = CollectFrom(no_latency, options);
  EXPECT_TRUE(Sent(no_latency, "CLIENT LIST"));
  EXPECT_FALSE(skipped.Has("redis_commands_latency_seconds_count{cmd=set}"));
  EXPECT_EQ(skipped.At("redis_client_pool_connections{client_name=worker}"), 3);
  EXPECT_EQ(skipped.At("redis_slowlog_last_id"), 20200);

  // Allowed by the probe (LATENCY HISTOGRAM ping), refused for the busiest commands.
  RespServer refusing([](const Command& c) -> std::string {
    if (c[0] == "LATENCY" && c.size() > 2 && c[2] != "ping") {
      return "-NOPERM this user has no permissions to run the 'latency|histogram' command\r\n";
    }
    return "";
  });
  const testutil::Samples refused = CollectFrom(refusing, Options(0));
  EXPECT_TRUE(Sent(refusing, "LATENCY HISTOGRAM"));
  EXPECT_EQ(refused.At("tacho_redis_capability{capability=latency_histogram}"), 0);
  EXPECT_EQ(refused.At("tacho_redis_query_errors_total{query=latency_histogram}"), 1);
  EXPECT_EQ(refused.At("tacho_redis_capability{capability=client_list}"), 1);
  EXPECT_EQ(refused.At("tacho_redis_query_errors_total{query=client_list}"), 0);
  EXPECT_EQ(refused.At("redis_client_pool_connections{client_name=billing-api}"), 3);
}

}  // namespace
}  // namespace tacho::collectors::redis
