#include "agent/alerts/alert_state.h"

#include <set>

namespace tacho::alerts {

const char* AlertStateName(AlertState state) {
  switch (state) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
  }
  return "inactive";
}

void AlertSet::Update(const std::vector<AlertCandidate>& results, promql::Timestamp t,
                      std::int64_t hold_ms, std::int64_t keep_firing_for_ms) {
  std::set<promql::LabelSet> present;
  for (const AlertCandidate& c : results) {
    present.insert(c.labels);
    auto it = active_.find(c.labels);
    if (it != active_.end() && it->second.state != AlertState::kInactive) {
      it->second.value = c.value;
      it->second.annotations = c.annotations;
      continue;
    }
    // New, or back after it resolved: a fresh pending alert replaces the resolved one.
    Alert a;
    a.labels = c.labels;
    a.annotations = c.annotations;
    a.value = c.value;
    a.state = AlertState::kPending;
    a.active_at = t;
    active_[c.labels] = std::move(a);
  }
  for (auto it = active_.begin(); it != active_.end();) {
    Alert& a = it->second;
    if (!present.count(it->first)) {
      bool keep_firing = false;
      if (a.state == AlertState::kFiring && keep_firing_for_ms > 0) {
        if (a.keep_firing_since == 0) a.keep_firing_since = t;
        keep_firing = t - a.keep_firing_since < keep_firing_for_ms;
      }
      if (a.state == AlertState::kPending ||
          (a.resolved_at != 0 && t - a.resolved_at > kResolvedRetentionMs)) {
        it = active_.erase(it);
        continue;
      }
      if (a.state != AlertState::kInactive && !keep_firing) {
        a.state = AlertState::kInactive;
        a.resolved_at = t;
      }
      if (!keep_firing) {
        ++it;
        continue;
      }
    } else {
      a.keep_firing_since = 0;
    }
    if (a.state == AlertState::kPending && t - a.active_at >= hold_ms) {
      a.state = AlertState::kFiring;
      a.fired_at = t;
    }
    ++it;
  }
}

}  // namespace tacho::alerts
