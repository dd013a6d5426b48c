// The alert state machine (inactive -> pending -> firing -> resolved) with Prometheus' semantics
// (rules/alerting.go), and its persistence under state_dir.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/alerts/promql.h"

namespace tacho::alerts {

enum class AlertState { kInactive, kPending, kFiring };
const char* AlertStateName(AlertState state);  // "inactive", "pending", "firing"

// One alert of one rule: a distinct label set of the rule's result.
struct Alert {
  promql::LabelSet labels;  // the result's labels (without __name__) + rule labels + alertname
  std::map<std::string, std::string> annotations;
  AlertState state = AlertState::kInactive;
  double value = 0;
  // Unix ms; 0 = unset.
  promql::Timestamp active_at = 0;
  promql::Timestamp fired_at = 0;
  promql::Timestamp resolved_at = 0;
  promql::Timestamp last_sent_at = 0;
  promql::Timestamp keep_firing_since = 0;
};

// An alert with Prometheus' "for" and "keep_firing_for" semantics. Resolved alerts are kept
// for kResolvedRetention so that notifications about them can be sent.
inline constexpr std::int64_t kResolvedRetentionMs = 15 * 60 * 1000;

// One evaluation's result row: final labels, annotations and value.
struct AlertCandidate {
  promql::LabelSet labels;
  std::map<std::string, std::string> annotations;
  double value = 0;
};

// The active alerts of one rule, keyed by their label set. Pure: time comes in as an argument.
class AlertSet {
 public:
  // Applies one evaluation at `t`: new label sets become pending, pending ones fire once `hold`
  // has passed since active_at, missing ones resolve (firing) or vanish (pending), firing ones
  // stay firing for keep_firing_for after their condition cleared.
  void Update(const std::vector<AlertCandidate>& results, promql::Timestamp t, std::int64_t hold_ms,
              std::int64_t keep_firing_for_ms);

  const std::map<promql::LabelSet, Alert>& alerts() const { return active_; }
  std::map<promql::LabelSet, Alert>& mutable_alerts() { return active_; }

 private:
  std::map<promql::LabelSet, Alert> active_;
};

}  // namespace tacho::alerts
