// The rule engine: sample history, rule evaluation every [alerts] interval, alert state (kept
// across reloads and, through SaveState/LoadState, across restarts), tacho_alerts, and the JSON
// of /api/v1/alerts and /api/v1/rules.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/alerts/alert_state.h"
#include "agent/alerts/rules.h"
#include "agent/alerts/series_store.h"
#include "agent/metric_sink.h"

namespace tacho::alerts {

// What receivers are told about an alert (Alertmanager's alert model).
struct NotifyAlert {
  promql::LabelSet labels;
  std::map<std::string, std::string> annotations;
  promql::Timestamp starts_at = 0;
  promql::Timestamp ends_at = 0;  // 0 while firing
  std::string generator_url;
  bool resolved() const { return ends_at != 0; }
};

// Thread-compatible: the agent calls it from the event-loop thread only.
class RuleEngine {
 public:
  // Replaces the rules (validated by LoadRules). Alerts of rules whose Identity() (name and
  // labels) is unchanged keep their state; the history keeps the series still read.
  void SetRules(std::vector<RuleSpec> specs, std::chrono::milliseconds interval);

  // Feeds a source's latest collection (a snapshot, or tacho's self-metrics); call before
  // Evaluate. A collection already ingested (same or older taken_at) is skipped.
  SeriesStore& store() { return store_; }
  void IngestOnce(const std::string& source, const std::vector<prometheus::MetricFamily>& families,
                  promql::Timestamp taken_at);
  // Sources not in `live` become stale (an instance removed by a reload).
  void RetireSourcesExcept(const std::vector<std::string>& live, promql::Timestamp t);

  // Evaluates every rule at `t` and advances the state machines; prunes history.
  void Evaluate(promql::Timestamp t);

  // Firing alerts and those resolved within kResolvedRetentionMs, for the receivers.
  // `external_url` prefixes generatorURL.
  std::vector<NotifyAlert> Notifications(const std::string& external_url) const;

  // tacho_alerts{alertname,alertstate,...} 1 per pending/firing alert, plus rule evaluation
  // self-metrics.
  void WriteMetrics(agent::MetricSink& sink) const;

  std::string AlertsJson() const;
  std::string RulesJson(const std::string& source) const;

  // The alert state as JSON; LoadState restores it for the rules currently set (state of
  // rules no longer configured is dropped). Changed() tells whether the state differs from the
  // last SaveState/LoadState (so the file is only rewritten when needed).
  std::string SaveState();
  Status LoadState(const std::string& json);
  bool Changed() const;

  std::size_t rule_count() const { return rules_.size(); }

 private:
  struct Rule {
    RuleSpec spec;
    std::unique_ptr<promql::Expr> expr;
    AlertSet alerts;
    std::string health = "unknown";
    std::string last_error;
    promql::Timestamp last_evaluation = 0;
    double evaluation_seconds = 0;
    std::uint64_t evaluations = 0;
    std::uint64_t failures = 0;
  };
  std::string StateFingerprint() const;

  std::vector<std::unique_ptr<Rule>> rules_;
  std::chrono::milliseconds interval_{15000};
  SeriesStore store_;
  std::map<std::string, promql::Timestamp> ingested_;  // source -> taken_at already ingested
  std::string saved_fingerprint_;
};

// RFC 3339 with milliseconds ("2024-05-01T12:00:00.123Z"), as Go marshals time.Time when the
// sub-second part is non-zero; "0001-01-01T00:00:00Z" for 0.
std::string FormatRfc3339Ms(promql::Timestamp ms);

}  // namespace tacho::alerts
