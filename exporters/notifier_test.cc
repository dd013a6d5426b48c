#include "exporters/notifier.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tacho::exporters {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string Str(const json::value& v) { return std::string(v.as_string()); }

constexpr agent::promql::Timestamp kT0 = 1'700'000'000'000;

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
    w.url = ParseUrl("http://127.0.0.1:9/").value();
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
  static agent::NotifyAlert Alert(const std::string& name, const std::string& target,
                                  agent::promql::Timestamp ends = 0) {
    return agent::NotifyAlert{{{"alertname", name}, {"target", target}}, {}, kT0, ends, ""};
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
      std::ifstream in(f);
      std::stringstream b;
      b << in.rdbuf();
      const std::string s = b.str();
      out.push_back(json::parse(s.substr(s.find('\n') + 1)).as_object());
    }
    return out;
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
      EXPECT_EQ(Str(sent[1].at("alerts").as_array()[0].as_object().at("endsAt")), "2023-11-14T22:13:25Z");
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

}  // namespace
}  // namespace tacho::exporters
