#include "exporters/webhook/notifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "agent/metric_sink.h"
#include "base/test_files.h"

namespace tacho::webhook {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string Str(const json::value& v) { return std::string(v.as_string()); }

constexpr alerts::promql::Timestamp kT0 = 1'700'000'000'000;

// A blocking HTTP/1.1 server on 127.0.0.1 in its own thread: answers the i-th request with
// responses[i] (status and extra headers; 200 past the end) and records the bodies.
struct FakeResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
};

class FakeHttpServer {
 public:
  using Response = FakeResponse;
  explicit FakeHttpServer(std::vector<Response> responses, Response rest = {})
      : responses_(std::move(responses)),
        rest_(std::move(rest)),
        acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeHttpServer() {
    stop_ = true;
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket s(io_);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);  // wakes accept()
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> l(mu_);
    return bodies_;
  }
  std::size_t count() { return bodies().size(); }

 private:
  void Serve() {
    while (!stop_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket s(io_);
      acceptor_.accept(s, ec);
      if (ec || stop_) continue;
      boost::asio::streambuf buf;
      std::size_t n = boost::asio::read_until(s, buf, "\r\n\r\n", ec);
      if (ec) continue;
      std::string head(boost::asio::buffers_begin(buf.data()),
                       boost::asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(n));
      buf.consume(n);
      std::size_t length = 0;
      std::string lower = head;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      if (auto p = lower.find("content-length:"); p != std::string::npos) {
        length = std::stoul(lower.substr(p + 15));
      }
      if (buf.size() < length)
        boost::asio::read(s, buf, boost::asio::transfer_exactly(length - buf.size()), ec);
      std::string body(boost::asio::buffers_begin(buf.data()),
                       boost::asio::buffers_end(buf.data()));
      Response r;
      {
        std::lock_guard<std::mutex> l(mu_);
        r = bodies_.size() < responses_.size() ? responses_[bodies_.size()] : rest_;
        bodies_.push_back(body);
      }
      std::string out = "HTTP/1.1 " + std::to_string(r.status) +
                        " X\r\nContent-Length: 0\r\nConnection: close\r\n";
      for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
      out += "\r\n";
      boost::asio::write(s, boost::asio::buffer(out), ec);
      s.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    }
  }
  std::vector<Response> responses_;
  Response rest_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> bodies_;
};

alerts::promql::Timestamp WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string HttpDate(alerts::promql::Timestamp ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

TEST(ParseRetryAfter, delay_seconds_http_date_and_garbage) {
  const alerts::promql::Timestamp now = 784111777000;  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(detail::ParseRetryAfter("120", now), 120'000);
  EXPECT_EQ(detail::ParseRetryAfter("0", now), 0);
  EXPECT_EQ(detail::ParseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now), 30'000);
  EXPECT_EQ(detail::ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now), 0);
  EXPECT_EQ(detail::ParseRetryAfter("Sat, 05 Nov 1994 08:49:37 GMT", now), 0) << "past: now";
  EXPECT_EQ(detail::ParseRetryAfter(HttpDate(now + 7'200'000), now), 7'200'000);
  EXPECT_EQ(detail::ParseRetryAfter("", now), -1);
  EXPECT_EQ(detail::ParseRetryAfter("soon", now), -1);
  EXPECT_EQ(detail::ParseRetryAfter("-5", now), -1);
  EXPECT_EQ(detail::ParseRetryAfter("1.5", now), -1);
  EXPECT_GT(detail::ParseRetryAfter("99999999999999999999999", now), 0)
      << "an overlong delay is clamped, not thrown";
}

// Drives a Notifier by hand: time is passed to Update/Tick and the event loop never runs, so
// the first queued notification stays "in flight" and every flush is visible in the outbox.
class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tacho_notifier_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  WebhookConfig Hook() {
    WebhookConfig w;
    w.name = "hook";
    w.url = base::ParseUrl("http://127.0.0.1:9/").value();
    w.group_by = {"alertname"};
    w.group_wait = std::chrono::seconds(30);
    w.group_interval = std::chrono::minutes(5);
    w.repeat_interval = std::chrono::hours(4);
    return w;
  }
  void Configure(Notifier& n, WebhookConfig w) {
    NotifierConfig c;
    c.webhooks = {std::move(w)};
    c.external_url = "http://tacho";
    n.Configure(std::move(c), dir_.string());
  }
  static alerts::NotifyAlert Alert(const std::string& name, const std::string& target,
                                   alerts::promql::Timestamp ends = 0) {
    return alerts::NotifyAlert{{{"alertname", name}, {"target", target}}, {}, kT0, ends, ""};
  }
  // Bodies in the outbox, oldest first.
  std::vector<json::object> Sent() {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir_ / "outbox")) {
      if (e.path().extension() == ".msg") files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    std::vector<json::object> out;
    for (const auto& f : files) {
      const std::string s = base::testing::ReadFileIfExists(f).value_or("");
      out.push_back(json::parse(s.substr(s.find('\n') + 1)).as_object());
    }
    return out;
  }
  // Runs the event loop until `done` holds (or 10 s pass); true if it held.
  bool RunUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.restart();
      io_.run_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  void Settle() {  // lets anything that would happen next happen
    io_.restart();
    io_.run_for(std::chrono::milliseconds(300));
  }
  // The value of the sample `name` with these labels in n's self-metrics, or -1.
  static double Metric(const Notifier& n, const std::string& name, const agent::Labels& labels) {
    agent::MetricSink sink;
    n.WriteMetrics(sink, WallMs());
    for (const auto& f : sink.Take()) {
      if (f.name != name) continue;
      for (const auto& m : f.metric) {
        if (m.label == labels)
          return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
      }
    }
    return -1;
  }
  std::size_t OutboxFiles() {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_ / "outbox"))
      n += e.path().extension() == ".msg";
    return n;
  }
  fs::path dir_;
  boost::asio::io_context io_;
};

TEST_F(NotifierTest, group_wait_batches_alerts_of_one_group) {
  Notifier n(io_);
  Configure(n, Hook());
  n.Update({Alert("X", "a")}, kT0);
  n.Tick(kT0 + 29'000);
  EXPECT_TRUE(Sent().empty()) << "nothing before group_wait";
  n.Update({Alert("X", "a"), Alert("X", "b"), Alert("Y", "a")}, kT0 + 15'000);
  n.Tick(kT0 + 30'000);
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 1u) << "Y's group waits for its own group_wait";
  EXPECT_EQ(sent[0].at("alerts").as_array().size(), 2u);
  EXPECT_EQ(Str(sent[0].at("groupKey")), "{}:{alertname=\"X\"}");
  n.Tick(kT0 + 45'000);
  EXPECT_EQ(Sent().size(), 2u);
}

TEST_F(NotifierTest, unchanged_group_repeats_after_repeat_interval_only) {
  Notifier n(io_);
  auto w = Hook();
  w.group_wait = std::chrono::seconds(0);
  w.group_interval = std::chrono::seconds(10);
  w.repeat_interval = std::chrono::seconds(60);
  Configure(n, w);
  for (int s = 0; s <= 70; s += 5) {
    n.Update({Alert("X", "a")}, kT0 + s * 1000);
    n.Tick(kT0 + s * 1000);
  }
  EXPECT_EQ(Sent().size(), 2u) << "at 0s and again at 60s";
}

TEST_F(NotifierTest, new_alert_in_group_notifies_at_next_group_interval) {
  Notifier n(io_);
  auto w = Hook();
  w.group_wait = std::chrono::seconds(0);
  w.group_interval = std::chrono::seconds(10);
  Configure(n, w);
  n.Update({Alert("X", "a")}, kT0);
  n.Tick(kT0);
  n.Update({Alert("X", "a"), Alert("X", "b")}, kT0 + 2000);
  n.Tick(kT0 + 9000);
  EXPECT_EQ(Sent().size(), 1u);
  n.Tick(kT0 + 10'000);
  ASSERT_EQ(Sent().size(), 2u);
  EXPECT_EQ(Sent()[1].at("alerts").as_array().size(), 2u);
}

TEST_F(NotifierTest, resolved_is_sent_once_and_only_with_send_resolved) {
  for (bool send_resolved : {true, false}) {
    fs::remove_all(dir_);
    boost::asio::io_context io;
    Notifier n(io);
    auto w = Hook();
    w.group_wait = std::chrono::seconds(0);
    w.group_interval = std::chrono::seconds(10);
    w.send_resolved = send_resolved;
    Configure(n, w);
    n.Update({Alert("X", "a")}, kT0);
    n.Tick(kT0);
    n.Update({Alert("X", "a", kT0 + 5000)}, kT0 + 5000);
    n.Tick(kT0 + 10'000);
    n.Update({Alert("X", "a", kT0 + 5000)}, kT0 + 15'000);
    n.Tick(kT0 + 20'000);
    n.Tick(kT0 + 30'000);
    auto sent = Sent();
    ASSERT_EQ(sent.size(), send_resolved ? 2u : 1u);
    if (send_resolved) {
      EXPECT_EQ(Str(sent[1].at("status")), "resolved");
      EXPECT_EQ(Str(sent[1].at("alerts").as_array()[0].as_object().at("endsAt")),
                "2023-11-14T22:13:25Z");
    }
  }
}

TEST_F(NotifierTest, restart_keeps_the_notification_log_so_nothing_repages) {
  auto w = Hook();
  w.group_wait = std::chrono::seconds(0);
  {
    Notifier n(io_);
    Configure(n, w);
    n.Update({Alert("X", "a")}, kT0);
    n.Tick(kT0);
    n.Stop();
  }
  ASSERT_EQ(Sent().size(), 1u);
  boost::asio::io_context io;
  Notifier n(io);
  Configure(n, w);
  n.Update({Alert("X", "a")}, kT0 + 60'000);
  n.Tick(kT0 + 60'000);
  EXPECT_EQ(Sent().size(), 1u) << "already notified before the restart";
  n.Update({Alert("X", "a", kT0 + 70'000)}, kT0 + 70'000);
  n.Tick(kT0 + 70'000 + 300'000);
  ASSERT_EQ(Sent().size(), 2u) << "resolution after a restart is still told";
  EXPECT_EQ(Str(Sent()[1].at("status")), "resolved");
}

TEST_F(NotifierTest, max_alerts_truncates) {
  Notifier n(io_);
  auto w = Hook();
  w.group_wait = std::chrono::seconds(0);
  w.max_alerts = 1;
  Configure(n, w);
  n.Update({Alert("X", "a"), Alert("X", "b"), Alert("X", "c")}, kT0);
  n.Tick(kT0);
  ASSERT_EQ(Sent().size(), 1u);
  EXPECT_EQ(Sent()[0].at("alerts").as_array().size(), 1u);
  EXPECT_EQ(Sent()[0].at("truncatedAlerts").to_number<std::uint64_t>(), 2u);
}

// Retry-After (delay-seconds and HTTP-date) outweighs the backoff: with initial_backoff 10ms the
// retry would come at once; the receiver asks for an hour (two hours), and gets it.
TEST_F(NotifierTest, retry_after_is_honoured_as_seconds_and_as_http_date) {
  for (bool as_date : {false, true}) {
    SCOPED_TRACE(as_date ? "HTTP-date" : "delay-seconds");
    fs::remove_all(dir_);
    const std::int64_t wait_ms = as_date ? 7'200'000 : 3'600'000;
    const std::string value =
        as_date ? HttpDate(WallMs() + wait_ms) : std::to_string(wait_ms / 1000);
    FakeHttpServer server({{503, {{"Retry-After", value}}}});
    Notifier n(io_);
    auto w = Hook();
    w.url = base::ParseUrl(server.url()).value();
    w.group_wait = std::chrono::seconds(0);
    w.group_interval = std::chrono::hours(48);  // no re-flush when Tick jumps ahead
    w.initial_backoff = std::chrono::milliseconds(10);
    w.max_backoff = std::chrono::milliseconds(10);
    Configure(n, w);
    const auto t = WallMs();
    n.Update({Alert("X", "a")}, t);
    n.Tick(t);
    const agent::Labels failures = {
        {"receiver", "hook"}, {"integration", "webhook"}, {"reason", "http_5xx"}};
    ASSERT_TRUE(
        RunUntil([&] { return Metric(n, "tacho_notification_failures_total", failures) == 1; }));
    Settle();  // the internal 200ms ticks run: no retry before Retry-After
    EXPECT_EQ(server.count(), 1u);
    n.Tick(WallMs() + wait_ms - 120'000);
    Settle();
    EXPECT_EQ(server.count(), 1u) << "not retried two minutes before Retry-After";
    n.Tick(WallMs() + wait_ms + 5'000);
    ASSERT_TRUE(RunUntil([&] { return server.count() == 2; })) << "retried once Retry-After passed";
    EXPECT_EQ(server.bodies()[0], server.bodies()[1]);
    ASSERT_TRUE(RunUntil([&] {
      return Metric(n, "tacho_notifications_delivered_total",
                    {{"receiver", "hook"}, {"integration", "webhook"}}) == 1;
    }));
    EXPECT_EQ(OutboxFiles(), 0u);
  }
}

// 5xx, 408 and 429 are retried; other 4xx are not.
TEST_F(NotifierTest, retries_5xx_408_429_but_not_other_4xx) {
  FakeHttpServer server({{500, {}}, {408, {}}, {429, {}}, {400, {}}}, {200, {}});
  Notifier n(io_);
  auto w = Hook();
  w.url = base::ParseUrl(server.url()).value();
  w.group_wait = std::chrono::seconds(0);
  w.group_interval = std::chrono::hours(48);
  w.initial_backoff = std::chrono::milliseconds(10);
  w.max_backoff = std::chrono::milliseconds(40);
  Configure(n, w);
  const auto t = WallMs();
  n.Update({Alert("X", "a")}, t);
  n.Tick(t);
  ASSERT_TRUE(RunUntil([&] { return server.count() == 4; })) << server.count();
  ASSERT_TRUE(RunUntil([&] { return OutboxFiles() == 0; }));
  Settle();
  EXPECT_EQ(server.count(), 4u) << "the 400 ends it";
  const agent::Labels hook = {{"receiver", "hook"}, {"integration", "webhook"}};
  auto with = [&](const std::string& reason) {
    auto l = hook;
    l.push_back({"reason", reason});
    return l;
  };
  EXPECT_EQ(Metric(n, "tacho_notification_failures_total", with("http_408")), 1);
  EXPECT_EQ(Metric(n, "tacho_notification_failures_total", with("http_429")), 1);
  EXPECT_EQ(Metric(n, "tacho_notification_failures_total", with("http_5xx")), 1);
  EXPECT_EQ(Metric(n, "tacho_notifications_dropped_total", with("http_4xx")), 1);
}

// Retries go on until retry.max_age; then the notification is dropped, counted as "expired" and
// removed from the outbox.
TEST_F(NotifierTest, retries_until_max_age_then_drops_expired) {
  FakeHttpServer server({}, {503, {}});
  Notifier n(io_);
  auto w = Hook();
  w.url = base::ParseUrl(server.url()).value();
  w.group_wait = std::chrono::seconds(0);
  w.group_interval = std::chrono::hours(48);
  w.max_age = std::chrono::hours(1);
  w.initial_backoff = std::chrono::minutes(10);  // the internal ticks never retry on their own
  w.max_backoff = std::chrono::minutes(10);
  Configure(n, w);
  const auto t = WallMs();
  n.Update({Alert("X", "a")}, t);
  n.Tick(t);
  const agent::Labels hook = {{"receiver", "hook"}, {"integration", "webhook"}};
  auto with = [&](const std::string& reason) {
    auto l = hook;
    l.push_back({"reason", reason});
    return l;
  };
  ASSERT_TRUE(RunUntil(
      [&] { return Metric(n, "tacho_notification_failures_total", with("http_5xx")) == 1; }));
  n.Tick(t + 30 * 60'000);  // half an hour on: past the backoff, within max_age
  ASSERT_TRUE(RunUntil(
      [&] { return Metric(n, "tacho_notification_failures_total", with("http_5xx")) == 2; }));
  n.Tick(t + 59 * 60'000);
  ASSERT_TRUE(RunUntil(
      [&] { return Metric(n, "tacho_notification_failures_total", with("http_5xx")) == 3; }));
  EXPECT_EQ(Metric(n, "tacho_notification_queue_length", hook), 1);
  EXPECT_EQ(OutboxFiles(), 1u);
  EXPECT_EQ(Metric(n, "tacho_notifications_dropped_total", with("expired")), -1);
  n.Tick(t + 60 * 60'000 + 1000);  // older than max_age
  EXPECT_EQ(Metric(n, "tacho_notifications_dropped_total", with("expired")), 1);
  EXPECT_EQ(Metric(n, "tacho_notification_queue_length", hook), 0);
  EXPECT_EQ(OutboxFiles(), 0u);
  n.Tick(t + 61 * 60'000);
  Settle();
  EXPECT_EQ(server.count(), 3u) << "no attempt after the drop";
}

TEST_F(NotifierTest, entries_of_a_removed_receiver_expire_after_the_default_max_age) {
  FakeHttpServer server({}, {503, {}});
  Notifier n(io_);
  auto w = Hook();
  w.url = base::ParseUrl(server.url()).value();
  w.group_wait = std::chrono::seconds(0);
  w.initial_backoff = std::chrono::hours(1);
  w.max_backoff = std::chrono::hours(1);
  Configure(n, w);
  const auto t = WallMs();
  n.Update({Alert("X", "a")}, t);
  n.Tick(t);
  ASSERT_TRUE(RunUntil([&] { return server.count() == 1; }));
  Settle();
  ASSERT_EQ(OutboxFiles(), 1u);

  auto renamed = Hook();
  renamed.name = "renamed";
  renamed.url = w.url;
  Configure(n, renamed);
  const agent::Labels removed = {
      {"receiver", "hook"}, {"integration", "webhook"}, {"reason", "receiver_removed"}};
  n.Tick(t + 23 * 3600'000);
  EXPECT_EQ(OutboxFiles(), 1u) << "kept for a day, in case the configuration comes back";
  EXPECT_EQ(Metric(n, "tacho_notifications_dropped_total", removed), -1);
  n.Tick(t + 24 * 3600'000 + 1000);
  EXPECT_EQ(OutboxFiles(), 0u);
  EXPECT_EQ(Metric(n, "tacho_notifications_dropped_total", removed), 1);
  Settle();
  EXPECT_EQ(server.count(), 1u) << "never delivered to the renamed receiver";
}

// Prometheus' sendAlerts: a firing alert is pushed again only after the resend delay (1 min),
// each time with endsAt = now + 4 × max(eval interval, resend delay); a resolved alert is pushed
// once, with its resolution time.
TEST_F(NotifierTest, alertmanager_push_follows_prometheus_resend_semantics) {
  for (auto interval : {std::chrono::milliseconds(15'000), std::chrono::milliseconds(120'000)}) {
    SCOPED_TRACE(interval.count());
    const std::int64_t valid_for = 4 * std::max<std::int64_t>(interval.count(), 60'000);
    FakeHttpServer server({});
    Notifier n(io_);
    NotifierConfig c;
    AlertmanagerConfig am;
    am.name = "am";
    am.url = base::ParseUrl(server.url() + "api/v2/alerts").value();
    c.alertmanagers = {am};
    c.interval = interval;
    n.Configure(std::move(c), dir_.string());
    auto ends_at = [&](std::size_t i) {
      auto a = json::parse(server.bodies().at(i)).as_array();
      EXPECT_EQ(a.size(), 1u);
      return Str(a[0].as_object().at("endsAt"));
    };
    n.Update({Alert("X", "a")}, kT0);
    ASSERT_TRUE(RunUntil([&] { return server.count() == 1; }));
    EXPECT_EQ(ends_at(0), alerts::FormatRfc3339Ms(kT0 + valid_for));
    n.Update({Alert("X", "a")}, kT0 + 30'000);
    n.Update({Alert("X", "a")}, kT0 + 60'000);
    n.Update({Alert("X", "a")}, kT0 + 61'000);
    ASSERT_TRUE(RunUntil([&] { return server.count() == 2; }));
    Settle();
    ASSERT_EQ(server.count(), 2u) << "nothing within the resend delay";
    EXPECT_EQ(ends_at(1), alerts::FormatRfc3339Ms(kT0 + 61'000 + valid_for)) << "the 61s resend";
    n.Update({Alert("X", "a")}, kT0 + 100'000);
    n.Update({Alert("X", "a", kT0 + 110'000)}, kT0 + 110'000);
    ASSERT_TRUE(RunUntil([&] { return server.count() == 3; }));
    EXPECT_EQ(ends_at(2), alerts::FormatRfc3339Ms(kT0 + 110'000))
        << "resolved: its resolution time";
    EXPECT_EQ(Str(json::parse(server.bodies()[2]).as_array()[0].as_object().at("startsAt")),
              alerts::FormatRfc3339Ms(kT0));
    n.Update({Alert("X", "a", kT0 + 110'000)}, kT0 + 120'000);
    n.Update({Alert("X", "a", kT0 + 110'000)}, kT0 + 300'000);
    Settle();
    EXPECT_EQ(server.count(), 3u) << "a resolved alert is sent once";
    EXPECT_EQ(Metric(n, "tacho_notifications_delivered_total",
                     {{"receiver", "am"}, {"integration", "alertmanager"}}),
              3);
  }
}

}  // namespace
}  // namespace tacho::webhook
