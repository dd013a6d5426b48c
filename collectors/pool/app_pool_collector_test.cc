#include "collectors/pool/app_pool_collector.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "agent/collector_test_util.h"
#include "base/test_http_server.h"
#include "collectors/pool/test_util.h"
#include "config/config.h"

namespace tacho::collectors::pool {
namespace {

using testutil::AppFixture;

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

Expected<config::Config, config::Error> Load(const std::string& body) {
  static const agent::CollectorKind kind = AppPoolCollectorKind();
  return agent::testutil::LoadCollectorConfig(kind, "orders", body);
}

agent::Environment Env() { return {"orders", milliseconds(15000), milliseconds(12000), "/tmp"}; }

// The configure-time error for `body`, or "" if it configures.
std::string ConfigureError(const std::string& body) {
  auto config = Load(body);
  if (!config.ok()) return config.error().ToString();
  auto collector = AppPoolCollectorKind().create(config->collectors.at(0).section, Env());
  return collector.ok() ? "" : collector.error().ToString();
}

AppPoolOptions MustOptions(const std::string& body) {
  auto config = Load(body);
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().ToString());
  if (!config.ok()) return {};
  auto options = ParseAppPoolOptions(config->collectors.at(0).section, Env());
  EXPECT_TRUE(options.ok()) << (options.ok() ? "" : options.error().ToString());
  return options.ok() ? *options : AppPoolOptions{};
}

agent::CollectContext Context(milliseconds budget, const std::atomic<bool>* cancelled = nullptr) {
  agent::CollectContext ctx;
  ctx.deadline = Clock::now() + budget;
  ctx.started_at = std::chrono::system_clock::now();
  ctx.cancelled = cancelled;
  return ctx;
}

// "name{k=v,...}" -> value, labels in the order written.
std::map<std::string, double> Values(agent::MetricSink& sink) {
  std::map<std::string, double> values;
  for (const auto& family : sink.Take()) {
    for (const auto& m : family.metric) {
      std::string labels;
      for (const auto& l : m.label) labels += (labels.empty() ? "" : ",") + l.name + "=" + l.value;
      const std::string key = labels.empty() ? family.name : family.name + "{" + labels + "}";
      values[key] =
          family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return values;
}

using base::testing::FakeEndpoint;
using base::testing::TestPki;

std::unique_ptr<agent::Collector> Collector(const std::string& body) {
  return NewAppPoolCollector(MustOptions(body));
}

std::string Url(const FakeEndpoint& server, const std::string& scheme = "http",
                const std::string& host = "127.0.0.1") {
  return "url = \"" + scheme + "://" + host + ":" + std::to_string(server.port()) +
         "/actuator/prometheus\"\n";
}

// ---- configuration ----

TEST(AppPoolConfigTest, url_is_required) {
  EXPECT_NE(ConfigureError("").find("url"), std::string::npos);
}

TEST(AppPoolConfigTest, invalid_urls_are_reported_at_their_position) {
  EXPECT_EQ(ConfigureError("url = \"ftp://app:21/metrics\"\n"),
            "test.toml:3:1: invalid url \"ftp://app:21/metrics\": scheme must be http or https, "
            "not 'ftp'");
  EXPECT_EQ(ConfigureError("url = \"app:8080/metrics\"\n"),
            "test.toml:3:1: invalid url \"app:8080/metrics\": must start with http:// or https://");
  EXPECT_EQ(ConfigureError("url = \"http://app:99999/metrics\"\n"),
            "test.toml:3:1: invalid url \"http://app:99999/metrics\": port 99999 out of range");
  EXPECT_EQ(ConfigureError("url = \"http://app:0/metrics\"\n"),
            "test.toml:3:1: invalid url \"http://app:0/metrics\": port 0 out of range");
  EXPECT_EQ(ConfigureError("url = \"http:///metrics\"\n"),
            "test.toml:3:1: invalid url \"http:///metrics\": no host");
  // The credentials are not repeated beyond the URL the operator wrote; the query never is.
  EXPECT_EQ(ConfigureError("url = \"http://u:p@app/metrics\"\n"),
            "test.toml:3:1: invalid url \"http://u:p@app/metrics\": credentials in the URL are "
            "not supported; use bearer_token");
  EXPECT_EQ(ConfigureError("url = \"gopher://app/metrics?token=abc\"\n"),
            "test.toml:3:1: invalid url \"gopher://app/metrics\": scheme must be http or https, "
            "not 'gopher'");
}

TEST(AppPoolConfigTest, accepts_http_https_and_ipv6) {
  EXPECT_EQ(ConfigureError("url = \"http://127.0.0.1:8080/actuator/prometheus\"\n"), "");
  EXPECT_EQ(ConfigureError("url = \"HTTPS://metrics.internal/metrics\"\n"), "");
  const AppPoolOptions o = MustOptions("url = \"http://[::1]:9090/metrics?x=1\"\n");
  EXPECT_EQ(o.url.scheme, "http");
  EXPECT_EQ(o.url.host, "::1");
  EXPECT_EQ(o.url.port, "9090");
  EXPECT_EQ(o.url.target, "/metrics?x=1");
  EXPECT_EQ(o.url.ForMessages(), "http://[::1]:9090/metrics");
  EXPECT_EQ(MustOptions("url = \"https://h\"\n").url.port, "443");
  EXPECT_EQ(MustOptions("url = \"https://h\"\n").url.target, "/");
}

TEST(AppPoolConfigTest, defaults) {
  const AppPoolOptions o = MustOptions("url = \"http://app/metrics\"\n");
  EXPECT_EQ(o.instance_name, "orders");
  EXPECT_EQ(o.format, SourceFormat::kAuto);
  EXPECT_EQ(o.pools, (std::vector<std::string>{"*"}));
  EXPECT_EQ(o.max_pools, 50u);
  EXPECT_EQ(o.bearer_token, "");
  EXPECT_EQ(o.upstream, "");
  EXPECT_EQ(o.ca_file, "");
}

TEST(AppPoolConfigTest, reads_every_key) {
  const AppPoolOptions o = MustOptions(
      "url = \"http://app/metrics\"\nformat = \"go_sql\"\nbearer_token = \"tok\"\n"
      "pools = [\"orders*\", \"audit\"]\nmax_pools = 5\nupstream = \"pgbouncer-main\"\n");
  EXPECT_EQ(o.format, SourceFormat::kGoSql);
  EXPECT_EQ(o.bearer_token, "tok");
  EXPECT_EQ(o.pools, (std::vector<std::string>{"orders*", "audit"}));
  EXPECT_EQ(o.max_pools, 5u);
  EXPECT_EQ(o.upstream, "pgbouncer-main");
  EXPECT_EQ(MustOptions("url = \"http://a\"\nformat = \"hikaricp\"\n").format,
            SourceFormat::kHikariCp);
}

TEST(AppPoolConfigTest, bearer_token_is_a_secret_with_file_and_env_forms) {
  setenv("TACHO_APP_POOL_TEST_TOKEN", "from-env", 1);
  EXPECT_EQ(MustOptions("url = \"http://a\"\nbearer_token_env = \"TACHO_APP_POOL_TEST_TOKEN\"\n")
                .bearer_token,
            "from-env");
  const std::string path =
      std::filesystem::temp_directory_path() / ("tacho_app_pool_token_" + std::to_string(getpid()));
  std::ofstream(path) << "from-file\n";
  EXPECT_EQ(MustOptions("url = \"http://a\"\nbearer_token_file = \"" + path + "\"\n").bearer_token,
            "from-file");
  std::filesystem::remove(path);
  auto config = Load("url = \"http://a\"\nbearer_token = \"s3cr3t-value\"\n");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->secrets, (std::vector<std::string>{"s3cr3t-value"}));
}

TEST(AppPoolConfigTest, rejects_bad_values_with_positions) {
  EXPECT_EQ(ConfigureError("url = \"http://a\"\nformat = \"jdbc\"\n").rfind("test.toml:4:", 0), 0u);
  EXPECT_NE(ConfigureError("url = \"http://a\"\nformat = \"jdbc\"\n").find("hikaricp"),
            std::string::npos);
  EXPECT_EQ(ConfigureError("url = \"http://a\"\nmax_pools = 0\n").rfind("test.toml:4:", 0), 0u);
  EXPECT_EQ(ConfigureError("url = \"http://a\"\npools = []\n"),
            "test.toml:4:1: pools is empty, so no pool would be exported; use [\"*\"] for every "
            "pool");
  EXPECT_EQ(ConfigureError("url = \"http://a\"\nca_file = \"/etc/hostname\"\n"),
            "test.toml:4:1: ca_file is set but url is not https://");
  EXPECT_EQ(ConfigureError("url = \"https://a\"\nca_file = \"/nonexistent/ca.pem\"\n"),
            "test.toml:4:1: cannot read ca_file \"/nonexistent/ca.pem\"");
  const std::string err = ConfigureError("url = \"http://a\"\nbearer_token = \"abc\\r\\nX: y\"\n");
  EXPECT_EQ(err, "test.toml:4:1: bearer_token contains a line break");
  EXPECT_NE(ConfigureError("url = \"http://a\"\nintervall = \"5s\"\n").find("unknown key"),
            std::string::npos);
}

TEST(AppPoolConfigTest, kind_declares_its_up_metric) {
  const agent::CollectorKind kind = AppPoolCollectorKind();
  EXPECT_EQ(kind.name, "app_pool");
  EXPECT_EQ(kind.up_metric, "tacho_app_pool_up");
  EXPECT_FALSE(kind.up_help.empty());
  bool secret = false;
  for (const auto& key : kind.schema) secret |= key.name == "bearer_token" && key.secret;
  EXPECT_TRUE(secret);
}

// ---- collection against a real local endpoint ----

TEST(AppPoolCollectorTest, exports_hikaricp_pools_and_self_metrics) {
  const std::string body = AppFixture("hikaricp_micrometer_spring-boot-3.2_crafted.txt");
  FakeEndpoint server([&](const std::string&) { return FakeEndpoint::Ok(body); });
  auto collector = Collector(Url(server));
  agent::MetricSink sink;
  Status s = collector->Collect(Context(milliseconds(5000)), sink);
  ASSERT_TRUE(s.ok()) << s.message();
  auto v = Values(sink);
  EXPECT_EQ(v["tacho_pool_size{kind=app,pool=orders-hikari}"], 20);
  EXPECT_EQ(v["tacho_pool_in_use{kind=app,pool=orders-hikari}"], 20);
  EXPECT_EQ(v["tacho_pool_idle{kind=app,pool=orders-hikari}"], 0);
  EXPECT_EQ(v["tacho_pool_waiting{kind=app,pool=orders-hikari}"], 7);
  EXPECT_EQ(v["tacho_pool_max_wait_seconds{kind=app,pool=orders-hikari}"], 2.871004312);
  EXPECT_EQ(v["tacho_pool_timeouts_total{kind=app,pool=orders-hikari}"], 38);
  EXPECT_EQ(v["tacho_pool_wait_seconds_total{kind=app,pool=orders-hikari}"], 4172.519284112);
  EXPECT_EQ(v["tacho_pool_utilization_ratio{kind=app,pool=orders-hikari}"], 1.0);
  EXPECT_EQ(v["tacho_pool_utilization_ratio{kind=app,pool=reporting}"], 0.2);
  EXPECT_EQ(v["tacho_app_pool_samples"], 67);
  EXPECT_EQ(v["tacho_app_pool_pools"], 2);
  EXPECT_EQ(v["tacho_app_pool_pools_dropped"], 0);
  EXPECT_GT(v["tacho_app_pool_scrape_duration_seconds"], 0);
  EXPECT_LT(v["tacho_app_pool_scrape_duration_seconds"], 5);
  EXPECT_TRUE(sink.conflicts().empty());
}

TEST(AppPoolCollectorTest, exports_go_pools_with_unlimited_reason) {
  const std::string body = AppFixture("go_client_golang-1.19_dbstats_crafted.txt");
  FakeEndpoint server([&](const std::string&) { return FakeEndpoint::Ok(body); });
  auto collector = Collector(Url(server) + "format = \"go_sql\"\n");
  agent::MetricSink sink;
  ASSERT_TRUE(collector->Collect(Context(milliseconds(5000)), sink).ok());
  auto v = Values(sink);
  EXPECT_EQ(v["tacho_pool_utilization_ratio{kind=app,pool=orders}"], 1.0);
  EXPECT_EQ(v["tacho_pool_waits_total{kind=app,pool=orders}"], 18422);
  EXPECT_EQ(v["tacho_pool_utilization_unavailable{kind=app,pool=sessions,reason=unlimited}"], 1);
  EXPECT_EQ(v.count("tacho_pool_size{kind=app,pool=sessions}"), 0u);
  EXPECT_EQ(v.count("tacho_pool_waiting{kind=app,pool=orders}"), 0u);
}

TEST(AppPoolCollectorTest, sends_the_bearer_token_and_asks_for_plain_text) {
  const std::string body = AppFixture("go_sqlstats-1.0.2_crafted.txt");
  FakeEndpoint server([&](const std::string&) { return FakeEndpoint::Ok(body); });
  auto collector = Collector(Url(server) + "bearer_token = \"t0k3n-xyz\"\n");
  agent::MetricSink sink;
  ASSERT_TRUE(collector->Collect(Context(milliseconds(5000)), sink).ok());
  const std::string request = server.last_request();
  EXPECT_EQ(request.rfind("GET /actuator/prometheus HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("Authorization: Bearer t0k3n-xyz\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("Accept: text/plain;version=0.0.4"), std::string::npos) << request;
  EXPECT_NE(request.find("Accept-Encoding: identity\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos)
      << request;
  EXPECT_EQ(Values(sink)["tacho_app_pool_pools"], 2);
}

TEST(AppPoolCollectorTest, no_token_no_authorization_header) {
  FakeEndpoint server([](const std::string&) { return FakeEndpoint::Ok("up 1\n"); });
  agent::MetricSink sink;
  ASSERT_TRUE(Collector(Url(server))->Collect(Context(milliseconds(5000)), sink).ok());
  EXPECT_EQ(server.last_request().find("Authorization"), std::string::npos);
}

TEST(AppPoolCollectorTest, endpoint_without_pool_metrics_is_up_with_zero_pools) {
  FakeEndpoint server([](const std::string&) {
    return FakeEndpoint::Ok("# TYPE http_requests_total counter\nhttp_requests_total 5\n");
  });
  agent::MetricSink sink;
  Status s = Collector(Url(server))->Collect(Context(milliseconds(5000)), sink);
  ASSERT_TRUE(s.ok()) << s.message();
  auto v = Values(sink);
  EXPECT_EQ(v["tacho_app_pool_pools"], 0);
  EXPECT_EQ(v["tacho_app_pool_samples"], 1);
  for (const auto& [key, value] : v) EXPECT_EQ(key.rfind("tacho_pool_", 0), std::string::npos);
}

TEST(AppPoolCollectorTest, max_pools_drops_and_counts) {
  std::string body;
  for (int i = 0; i < 5; ++i)
    body += "go_sql_in_use_connections{db_name=\"db" + std::to_string(i) + "\"} 1\n";
  FakeEndpoint server([&](const std::string&) { return FakeEndpoint::Ok(body); });
  agent::MetricSink sink;
  ASSERT_TRUE(
      Collector(Url(server) + "max_pools = 2\n")->Collect(Context(milliseconds(5000)), sink).ok());
  auto v = Values(sink);
  EXPECT_EQ(v["tacho_app_pool_pools"], 2);
  EXPECT_EQ(v["tacho_app_pool_pools_dropped"], 3);
  EXPECT_EQ(v.count("tacho_pool_in_use{kind=app,pool=db1}"), 1u);
  EXPECT_EQ(v.count("tacho_pool_in_use{kind=app,pool=db2}"), 0u);
}

TEST(AppPoolCollectorTest, chunked_responses_are_decoded) {
  FakeEndpoint server([](const std::string&) {
    const std::string a = "hikaricp_connections_active{pool=\"p\"} 3\n";
    const std::string b = "hikaricp_connections_max{pool=\"p\"} 4\n";
    auto hex = [](std::size_t n) {
      std::ostringstream s;
      s << std::hex << n;
      return s.str();
    };
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
           hex(a.size()) + "\r\n" + a + "\r\n" + hex(b.size()) + "\r\n" + b + "\r\n0\r\n\r\n";
  });
  agent::MetricSink sink;
  Status s = Collector(Url(server))->Collect(Context(milliseconds(5000)), sink);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Values(sink)["tacho_pool_utilization_ratio{kind=app,pool=p}"], 0.75);
}

TEST(AppPoolCollectorTest, http_error_status_fails_without_leaking_the_token) {
  FakeEndpoint server([](const std::string& request) {
    // A server that echoes the request, token included, in its error page.
    return "HTTP/1.1 401 Unauthorized\r\nContent-Length: " + std::to_string(request.size()) +
           "\r\n\r\n" + request;
  });
  agent::MetricSink sink;
  Status s = Collector(Url(server) + "bearer_token = \"t0k3n-xyz\"\n")
                 ->Collect(Context(milliseconds(5000)), sink);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "GET http://127.0.0.1:" + std::to_string(server.port()) +
                             "/actuator/prometheus: HTTP 401 Unauthorized (check bearer_token)");
  EXPECT_EQ(s.message().find("t0k3n"), std::string::npos);
}

TEST(AppPoolCollectorTest, server_error_and_redirect_fail) {
  FakeEndpoint server([](const std::string& request) {
    if (request.find("GET /old") == 0) {
      return std::string(
          "HTTP/1.1 301 Moved Permanently\r\nLocation: http://x/new?sig=1\r\n"
          "Content-Length: 0\r\n\r\n");
    }
    return std::string("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  });
  agent::MetricSink sink;
  Status s = Collector(Url(server))->Collect(Context(milliseconds(5000)), sink);
  EXPECT_NE(s.message().find(": HTTP 503 Service Unavailable"), std::string::npos) << s.message();
  s = Collector("url = \"http://127.0.0.1:" + std::to_string(server.port()) + "/old\"\n")
          ->Collect(Context(milliseconds(5000)), sink);
  EXPECT_NE(s.message().find("HTTP 301 Moved Permanently (redirects are not followed; Location: "
                             "http://x/new)"),
            std::string::npos)
      << s.message();
}

TEST(AppPoolCollectorTest, unparsable_body_fails_with_its_line) {
  FakeEndpoint server([](const std::string&) {
    return FakeEndpoint::Ok("<html>\n<body>login</body>\n", "text/html");
  });
  agent::MetricSink sink;
  Status s = Collector(Url(server))->Collect(Context(milliseconds(5000)), sink);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "parsing the exposition from http://127.0.0.1:" + std::to_string(server.port()) +
                "/actuator/prometheus (Content-Type: text/html): line 1: expected a "
                "metric name, got \"<html>\"");
}

TEST(AppPoolCollectorTest, compressed_body_is_refused) {
  FakeEndpoint server([](const std::string&) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc");
  });
  agent::MetricSink sink;
  Status s = Collector(Url(server))->Collect(Context(milliseconds(5000)), sink);
  EXPECT_NE(s.message().find("compressed (Content-Encoding: gzip)"), std::string::npos)
      << s.message();
}

TEST(AppPoolCollectorTest, body_over_the_limit_fails) {
  FakeEndpoint server([](const std::string&) { return FakeEndpoint::Ok(std::string(4096, '\n')); });
  AppPoolOptions options = MustOptions(Url(server));
  options.body_limit = 1024;
  agent::MetricSink sink;
  Status s = NewAppPoolCollector(options)->Collect(Context(milliseconds(5000)), sink);
  EXPECT_NE(s.message().find("exceeds the limit of 1024 bytes"), std::string::npos) << s.message();
}

TEST(AppPoolCollectorTest, connection_refused_fails) {
  int port = 0;
  {
    FakeEndpoint closed([](const std::string&) { return std::string(); }, nullptr, true);
    port = closed.port();
  }
  agent::MetricSink sink;
  Status s = Collector("url = \"http://127.0.0.1:" + std::to_string(port) + "/metrics\"\n")
                 ->Collect(Context(milliseconds(5000)), sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("connecting to 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << s.message();
}

TEST(AppPoolCollectorTest, silent_endpoint_times_out_at_the_deadline) {
  FakeEndpoint server([](const std::string&) { return std::string(); }, nullptr, true);
  agent::MetricSink sink;
  const auto start = Clock::now();
  Status s = Collector(Url(server))->Collect(Context(milliseconds(300)), sink);
  const auto took = Clock::now() - start;
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("timed out"), std::string::npos) << s.message();
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(1500));
}

TEST(AppPoolCollectorTest, cancellation_abandons_the_request) {
  FakeEndpoint server([](const std::string&) { return std::string(); }, nullptr, true);
  std::atomic<bool> cancelled{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(200));
    cancelled = true;
  });
  agent::MetricSink sink;
  const auto start = Clock::now();
  Status s = Collector(Url(server))->Collect(Context(milliseconds(10000), &cancelled), sink);
  canceller.join();
  ASSERT_FALSE(s.ok());
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  EXPECT_NE(s.message().find("cancelled"), std::string::npos) << s.message();
}

TEST(AppPoolCollectorTest, unresolvable_host_fails) {
  agent::MetricSink sink;
  Status s = Collector("url = \"http://does-not-exist.invalid/metrics\"\n")
                 ->Collect(Context(milliseconds(5000)), sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("does-not-exist.invalid"), std::string::npos) << s.message();
}

// ---- https ----

TEST(AppPoolHttpsTest, verifies_the_server_with_ca_file) {
  TestPki pki;
  const std::string body = AppFixture("hikaricp_prometheus-tracker_5.1_crafted.txt");
  FakeEndpoint server([&](const std::string&) { return FakeEndpoint::Ok(body); },
                      pki.ServerContext("IP:127.0.0.1,DNS:localhost"));
  agent::MetricSink sink;
  Status s = Collector(Url(server, "https") + "ca_file = \"" + pki.ca_file() +
                       "\"\nbearer_token = \"tls-token\"\n")
                 ->Collect(Context(milliseconds(5000)), sink);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Values(sink)["tacho_pool_in_use{kind=app,pool=inventory}"], 4);
  EXPECT_NE(server.last_request().find("Authorization: Bearer tls-token"), std::string::npos);

  s = Collector(Url(server, "https", "localhost") + "ca_file = \"" + pki.ca_file() + "\"\n")
          ->Collect(Context(milliseconds(5000)), sink);
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(AppPoolHttpsTest, unknown_issuer_is_refused) {
  TestPki pki;
  FakeEndpoint server([](const std::string&) { return FakeEndpoint::Ok("up 1\n"); },
                      pki.ServerContext("IP:127.0.0.1"));
  agent::MetricSink sink;
  Status s = Collector(Url(server, "https"))->Collect(Context(milliseconds(5000)), sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("certificate verify failed: unable to get local issuer certificate"),
            std::string::npos)
      << s.message();
}

TEST(AppPoolHttpsTest, certificate_for_another_host_is_refused) {
  TestPki pki;
  FakeEndpoint server([](const std::string&) { return FakeEndpoint::Ok("up 1\n"); },
                      pki.ServerContext("DNS:metrics.example"));
  agent::MetricSink sink;
  Status s = Collector(Url(server, "https") + "ca_file = \"" + pki.ca_file() + "\"\n")
                 ->Collect(Context(milliseconds(5000)), sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("certificate verify failed: IP address mismatch"), std::string::npos)
      << s.message();
  s = Collector(Url(server, "https", "localhost") + "ca_file = \"" + pki.ca_file() + "\"\n")
          ->Collect(Context(milliseconds(5000)), sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("certificate verify failed: hostname mismatch"), std::string::npos)
      << s.message();
}

TEST(AppPoolHttpsTest, plain_http_server_behind_https_url_fails_the_handshake) {
  FakeEndpoint server([](const std::string&) { return FakeEndpoint::Ok("up 1\n"); });
  agent::MetricSink sink;
  Status s = Collector(Url(server, "https"))->Collect(Context(milliseconds(5000)), sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("TLS handshake with 127.0.0.1:"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace tacho::collectors::pool
