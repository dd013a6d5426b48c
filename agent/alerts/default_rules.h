// The default rule pack: the alerts tacho evaluates out of the box, and the thresholds they use.
// Each threshold is a key thresholds.<Key> of [alerts], declared with its source; "<<Key>>" in a
// rule's expr is replaced by the configured (or default) value. `tacho rules export` prints the
// pack; dashboards/prometheus/tacho-rules.yml is that output, diffed by a test.
#pragma once

#include <span>
#include <vector>

#include "agent/alerts/rules.h"
#include "config/config.h"

namespace tacho::alerts {

struct Threshold {
  const char* key;
  double value;
  const char* description;  // what it means and where the number comes from
};

struct DefaultRule {
  const char* name;
  const char* expr;
  const char* for_duration;
  const char* severity;
  const char* summary;
  const char* description;
};

std::span<const Threshold> Thresholds();
std::span<const DefaultRule> DefaultRulePack();

// The default pack with the thresholds in `alerts` (or the defaults when absent).
std::vector<RuleSpec> DefaultRules(const config::Section& alerts);

}  // namespace tacho::alerts
