// Alert rules: the [alerts] configuration, the built-in default rule pack, annotation
// templates, and export as a Prometheus rule file.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/alerts/promql.h"
#include "base/status.h"
#include "config/config.h"

namespace tacho::alerts {

// One alerting rule as configured (or built in), validated: expr parses within the subset,
// templates use only what tacho supports.
struct RuleSpec {
  std::string name;  // CamelCase, the alertname label
  std::string expr;
  std::chrono::milliseconds for_duration{0};
  std::chrono::milliseconds keep_firing_for{0};
  std::string severity;  // critical | warning | info; also the `severity` label
  std::map<std::string, std::string> labels;       // includes severity
  std::map<std::string, std::string> annotations;  // summary, description, runbook_url, ...
  bool builtin = false;
  // name + labels: what a reload or a restart matches active alert state by.
  std::string Identity() const;
};

// The keys of the [alerts] table that alert evaluation reads (interval, the default pack's
// switches and thresholds, [[alerts.rules]]). Delivery declares its own keys of the same table
// (exporters/webhook/schema.h); main joins the two.
const config::Schema& RulesSchema();

// The rules of an [alerts] section: the default pack (unless default_rules = false, minus the
// names in `disable`, with thresholds.* applied) followed by [[alerts.rules]]; a configured rule
// with a default rule's name replaces it. Errors carry the offending key's file:line:col.
Expected<std::vector<RuleSpec>, config::Error> LoadRules(const config::Section& alerts);

// Expands a Prometheus annotation template with the subset tacho supports:
//   {{ $value }}, {{ $labels.NAME }}, {{ $labels.NAME }} missing -> "<no value>",
//   and the pipes | humanize, | humanizePercentage, | humanizeDuration on $value.
// "{{ $labels.datname }}: {{ $value | humanizePercentage }}" -> "shop: 81.25%"
// Errors (unsupported actions) are Status errors.
Expected<std::string> ExpandTemplate(const std::string& text, const promql::LabelSet& labels,
                                     double value);

// Prometheus' template helpers (template/template.go), for {{ $value | humanize }} and friends.
std::string Humanize(double v);
std::string HumanizePercentage(double v);
std::string HumanizeDuration(double v);

// A Prometheus rule file (one group named "tacho") holding `rules`, evaluated every
// `interval`; `promtool check rules` accepts it.
std::string ExportPrometheusRules(const std::vector<RuleSpec>& rules,
                                  std::chrono::milliseconds interval);

}  // namespace tacho::alerts
