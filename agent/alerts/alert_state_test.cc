#include "agent/alerts/alert_state.h"

#include <gtest/gtest.h>

#include "agent/alerts/rule_engine.h"

namespace tacho::alerts {
namespace {

constexpr promql::Timestamp kT0 = 1'700'000'000'000;
constexpr std::int64_t kMin = 60'000;

std::vector<AlertCandidate> One(double value = 1) {
  return {AlertCandidate{{{"alertname", "X"}, {"target", "a"}}, {}, value}};
}

const Alert& Only(const AlertSet& set) { return set.alerts().begin()->second; }

TEST(AlertSetTest, pending_then_firing_after_for) {
  AlertSet s;
  s.Update(One(), kT0, 2 * kMin, 0);
  ASSERT_EQ(s.alerts().size(), 1u);
  EXPECT_EQ(Only(s).state, AlertState::kPending);
  EXPECT_EQ(Only(s).active_at, kT0);
  s.Update(One(), kT0 + kMin, 2 * kMin, 0);
  EXPECT_EQ(Only(s).state, AlertState::kPending);
  s.Update(One(), kT0 + 2 * kMin, 2 * kMin, 0);
  EXPECT_EQ(Only(s).state, AlertState::kFiring) << "fires once for has passed (>=)";
  EXPECT_EQ(Only(s).fired_at, kT0 + 2 * kMin);
  EXPECT_EQ(Only(s).active_at, kT0);
}

TEST(AlertSetTest, for_zero_fires_on_first_evaluation) {
  AlertSet s;
  s.Update(One(), kT0, 0, 0);
  EXPECT_EQ(Only(s).state, AlertState::kFiring);
}

TEST(AlertSetTest, pending_that_clears_is_forgotten) {
  AlertSet s;
  s.Update(One(), kT0, kMin, 0);
  s.Update({}, kT0 + 15000, kMin, 0);
  EXPECT_TRUE(s.alerts().empty());
}

TEST(AlertSetTest, firing_that_clears_resolves_and_is_kept_15m) {
  AlertSet s;
  s.Update(One(), kT0, 0, 0);
  s.Update({}, kT0 + kMin, 0, 0);
  ASSERT_EQ(s.alerts().size(), 1u);
  EXPECT_EQ(Only(s).state, AlertState::kInactive);
  EXPECT_EQ(Only(s).resolved_at, kT0 + kMin);
  s.Update({}, kT0 + 16 * kMin, 0, 0);
  EXPECT_EQ(s.alerts().size(), 1u) << "exactly 15m after resolution: still kept";
  s.Update({}, kT0 + 16 * kMin + 1, 0, 0);
  EXPECT_TRUE(s.alerts().empty());
}

TEST(AlertSetTest, resolved_alert_that_returns_starts_pending_again) {
  AlertSet s;
  s.Update(One(), kT0, kMin, 0);
  s.Update(One(), kT0 + kMin, kMin, 0);
  s.Update({}, kT0 + 2 * kMin, kMin, 0);
  s.Update(One(), kT0 + 3 * kMin, kMin, 0);
  EXPECT_EQ(Only(s).state, AlertState::kPending);
  EXPECT_EQ(Only(s).active_at, kT0 + 3 * kMin);
  EXPECT_EQ(Only(s).resolved_at, 0);
}

TEST(AlertSetTest, keep_firing_for_holds_a_cleared_alert) {
  AlertSet s;
  s.Update(One(), kT0, 0, 2 * kMin);
  s.Update({}, kT0 + kMin, 0, 2 * kMin);
  EXPECT_EQ(Only(s).state, AlertState::kFiring);
  EXPECT_EQ(Only(s).keep_firing_since, kT0 + kMin);
  s.Update({}, kT0 + 2 * kMin, 0, 2 * kMin);
  EXPECT_EQ(Only(s).state, AlertState::kFiring);
  s.Update({}, kT0 + 3 * kMin, 0, 2 * kMin);
  EXPECT_EQ(Only(s).state, AlertState::kInactive);
  EXPECT_EQ(Only(s).resolved_at, kT0 + 3 * kMin);
}

TEST(AlertSetTest, value_and_annotations_follow_the_latest_evaluation) {
  AlertSet s;
  s.Update(One(1), kT0, 0, 0);
  s.Update(One(7), kT0 + kMin, 0, 0);
  EXPECT_EQ(Only(s).value, 7);
  EXPECT_EQ(Only(s).fired_at, kT0);
}

// The engine end to end on fed samples: tacho_alerts, notifications, persistence, reload.
class RuleEngineTest : public ::testing::Test {
 protected:
  static RuleSpec Rule(std::string name, std::string expr, std::int64_t for_ms = 0) {
    RuleSpec r;
    r.name = std::move(name);
    r.expr = std::move(expr);
    r.for_duration = std::chrono::milliseconds(for_ms);
    r.severity = "warning";
    r.labels = {{"severity", "warning"}};
    r.annotations = {{"summary", "{{ $labels.target }} at {{ $value }}"}};
    return r;
  }
  static std::vector<prometheus::MetricFamily> Conns(double v) {
    prometheus::MetricFamily f;
    f.name = "conns";
    f.type = prometheus::MetricType::Gauge;
    f.metric.resize(1);
    f.metric[0].label = {{"target", "db"}};
    f.metric[0].gauge.value = v;
    return {f};
  }
};

TEST_F(RuleEngineTest, evaluates_fires_resolves_and_reports) {
  RuleEngine e;
  e.SetRules({Rule("TooMany", "conns > 10", kMin)}, std::chrono::seconds(15));
  e.IngestOnce("db", Conns(20), kT0);
  e.Evaluate(kT0);
  agent::MetricSink sink;
  e.WriteMetrics(sink);
  auto families = sink.Take();
  ASSERT_EQ(families.back().name, "tacho_rule_history_series");
  bool found = false;
  for (const auto& f : families) {
    if (f.name != "tacho_alerts") continue;
    found = true;
    ASSERT_EQ(f.metric.size(), 1u);
    agent::Labels want = {{"alertname", "TooMany"},
                          {"severity", "warning"},
                          {"target", "db"},
                          {"alertstate", "pending"}};
    ASSERT_EQ(f.metric[0].label.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(f.metric[0].label[i].name, want[i].name);
      EXPECT_EQ(f.metric[0].label[i].value, want[i].value);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(e.Notifications("http://x").empty()) << "pending alerts are not sent";

  e.IngestOnce("db", Conns(21), kT0 + kMin);
  e.Evaluate(kT0 + kMin);
  auto n = e.Notifications("http://x");
  ASSERT_EQ(n.size(), 1u);
  EXPECT_FALSE(n[0].resolved());
  EXPECT_EQ(n[0].starts_at, kT0 + kMin);
  EXPECT_EQ(n[0].annotations.at("summary"), "db at 21");
  EXPECT_EQ(n[0].generator_url, "http://x/api/v1/rules?rule=TooMany");
  EXPECT_NE(e.AlertsJson().find("\"state\":\"firing\""), std::string::npos);
  EXPECT_NE(e.RulesJson("t.toml").find("\"query\":\"conns > 10\""), std::string::npos);

  e.IngestOnce("db", Conns(3), kT0 + 2 * kMin);
  e.Evaluate(kT0 + 2 * kMin);
  n = e.Notifications("http://x");
  ASSERT_EQ(n.size(), 1u);
  EXPECT_TRUE(n[0].resolved());
  EXPECT_EQ(n[0].ends_at, kT0 + 2 * kMin);
}

TEST_F(RuleEngineTest, state_survives_a_restart_and_a_reload) {
  std::string saved;
  {
    RuleEngine e;
    e.SetRules({Rule("TooMany", "conns > 10", 5 * kMin)}, std::chrono::seconds(15));
    e.IngestOnce("db", Conns(20), kT0);
    e.Evaluate(kT0);
    EXPECT_TRUE(e.Changed());
    saved = e.SaveState();
    EXPECT_FALSE(e.Changed());
  }
  RuleEngine e;
  e.SetRules({Rule("TooMany", "conns > 10", 5 * kMin)}, std::chrono::seconds(15));
  ASSERT_TRUE(e.LoadState(saved).ok());
  EXPECT_FALSE(e.Changed());
  e.IngestOnce("db", Conns(20), kT0 + 5 * kMin);
  e.Evaluate(kT0 + 5 * kMin);
  ASSERT_EQ(e.Notifications("").size(), 1u) << "for progress kept across the restart";
  EXPECT_EQ(e.Notifications("")[0].starts_at, kT0 + 5 * kMin);

  // A reload keeping name and labels keeps the state; a changed label set starts afresh.
  e.SetRules({Rule("TooMany", "conns > 12", 5 * kMin)}, std::chrono::seconds(15));
  EXPECT_EQ(e.Notifications("").size(), 1u);
  RuleSpec relabelled = Rule("TooMany", "conns > 12", 5 * kMin);
  relabelled.labels["team"] = "db";
  e.SetRules({relabelled}, std::chrono::seconds(15));
  EXPECT_TRUE(e.Notifications("").empty());
}

TEST_F(RuleEngineTest, evaluation_error_keeps_state_and_reports_health) {
  RuleEngine e;
  e.SetRules({Rule("Dup", "conns / on () conns")}, std::chrono::seconds(15));
  auto fams = Conns(1);
  fams[0].metric.push_back(fams[0].metric[0]);
  fams[0].metric[1].label = {{"target", "other"}};
  e.IngestOnce("db", fams, kT0);
  e.Evaluate(kT0);
  EXPECT_NE(e.RulesJson("").find("\"health\":\"err\""), std::string::npos);
  EXPECT_NE(e.RulesJson("").find("many-to-many"), std::string::npos);
}

TEST(FormatRfc3339MsTest, go_style) {
  EXPECT_EQ(FormatRfc3339Ms(0), "0001-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Ms(1'700'000'000'000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatRfc3339Ms(1'700'000'000'120), "2023-11-14T22:13:20.12Z");
}

}  // namespace
}  // namespace tacho::alerts
