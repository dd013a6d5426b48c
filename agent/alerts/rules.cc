#include "agent/alerts/rules.h"

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <set>

#include "agent/alerts/default_rules.h"

namespace tacho::alerts {

namespace {

using config::KeySpec;
using config::Schema;
using config::Type;

std::string FormatNumber(double v) { return promql::FormatGoFloat(v); }

const Schema& RuleFields() {
  static const Schema kFields = {
      {.name = "name",
       .type = Type::kString,
       .description = "Alert name (CamelCase); the alertname label. A default rule's name "
                      "replaces that rule.",
       .required = true,
       .example = "\"PostgresConnectionsHigh\""},
      {.name = "expr",
       .type = Type::kString,
       .description = "PromQL expression (tacho's subset, see README 'Alerts'); every result "
                      "series is an alert.",
       .required = true,
       .example = "\"sum by (target) (pg_stat_activity_connections) > 50\""},
      {.name = "for",
       .type = Type::kDuration,
       .default_value = "\"0s\"",
       .description = "How long the expression must hold before the alert fires (pending until "
                      "then)."},
      {.name = "keep_firing_for",
       .type = Type::kDuration,
       .default_value = "\"0s\"",
       .description = "How long a firing alert keeps firing after its expression cleared."},
      {.name = "severity",
       .type = Type::kString,
       .default_value = "\"warning\"",
       .description = "The severity label.",
       .allowed = {"critical", "warning", "info"}},
      {.name = "labels",
       .type = Type::kStringMap,
       .description = "Extra labels of the alert (values may use {{ $labels.x }}).",
       .example = "{ team = \"db\" }"},
      {.name = "annotations",
       .type = Type::kStringMap,
       .description = "summary, description, runbook_url, ...; templates: {{ $labels.x }}, "
                      "{{ $value }}, {{ $value | humanize }}, humanizePercentage, "
                      "humanizeDuration.",
       .example = "{ summary = \"{{ $labels.target }}: {{ $value }} connections\" }"},
  };
  return kFields;
}

Schema BuildRulesSchema() {
  Schema s = {
      {.name = "interval",
       .type = Type::kDuration,
       .default_value = "\"15s\"",
       .description = "How often rules are evaluated, on the latest collected samples."},
      {.name = "default_rules",
       .type = Type::kBool,
       .default_value = "true",
       .description = "Evaluate the built-in rule pack (tacho rules export lists it)."},
      {.name = "disable",
       .type = Type::kStringList,
       .default_value = "[]",
       .description = "Names of built-in rules to switch off."},
      {.name = "external_url",
       .type = Type::kString,
       .description = "Base of generatorURL and the payload's externalURL (default: "
                      "http://<agent listen address>).",
       .example = "\"https://tacho.example.com\""},
  };
  for (const Threshold& t : Thresholds()) {
    s.push_back(
        {.name = std::string("thresholds.") + t.key,
         .type = Type::kFloat,
         .default_value = FormatNumber(t.value) + (std::floor(t.value) == t.value ? ".0" : ""),
         .description = t.description});
  }
  s.push_back({.name = "rules",
               .type = Type::kTableList,
               .description = "Alerting rules, evaluated every interval beside the default pack.",
               .fields = RuleFields()});
  return s;
}

bool IsCamelCase(const std::string& name) {
  static const std::regex kCamel("^[A-Z][A-Za-z0-9]*$");
  return std::regex_match(name, kCamel);
}

bool IsLabelName(const std::string& name) {
  static const std::regex kLabel("^[a-zA-Z_][a-zA-Z0-9_]*$");
  return std::regex_match(name, kLabel) && name.rfind("__", 0) != 0;
}

// Go's fmt %.4g.
std::string GoG4(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string Trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Checks a rule's expression: it parses within the subset and every selector names its metric
// (tacho keeps history per metric name). Returns an error at the expr's position.
std::optional<config::Error> CheckExpr(const std::string& expr, const config::Position& pos,
                                       const std::string& rule) {
  auto parsed = promql::Parse(expr);
  if (!parsed) {
    return config::Error{pos, "rule '" + rule + "': expr: " + parsed.error().message +
                                  " (at character " + std::to_string(parsed.error().pos + 1) +
                                  " of \"" + expr + "\")"};
  }
  if ((*parsed)->ReturnsScalar()) {
    return config::Error{pos, "rule '" + rule + "': expr must evaluate to a vector, not a scalar"};
  }
  for (const auto& use : promql::Selectors(**parsed)) {
    if (use.selector->metric.empty()) {
      return config::Error{pos, "rule '" + rule +
                                    "': expr: every selector must name its metric "
                                    "(tacho keeps history per metric name)"};
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckTemplate(const std::string& text) {
  promql::LabelSet labels;
  auto r = ExpandTemplate(text, labels, 0);
  if (!r) return r.error().message();
  return std::nullopt;
}

}  // namespace

std::string RuleSpec::Identity() const {
  std::string id = name + "{";
  for (const auto& [k, v] : labels) {
    id += (id.back() == '{' ? "" : ",") + k + "=" + boost::json::serialize(boost::json::string(v));
  }
  return id + "}";
}

const config::Schema& RulesSchema() {
  static const Schema kSchema = BuildRulesSchema();
  return kSchema;
}

Expected<std::vector<RuleSpec>, config::Error> LoadRules(const config::Section& alerts) {
  std::vector<RuleSpec> rules;
  std::set<std::string> disabled;
  std::set<std::string> builtin_names;
  for (const DefaultRule& d : DefaultRulePack()) builtin_names.insert(d.name);
  for (const auto& name : alerts.GetStringList("disable")) {
    if (!builtin_names.count(name)) {
      std::vector<std::string> names(builtin_names.begin(), builtin_names.end());
      std::string message = "disable names '" + name + "', which is not a built-in rule";
      std::string suggestion = config::Suggest(name, names);
      if (!suggestion.empty()) message += "; did you mean '" + suggestion + "'?";
      return alerts.ErrorAt("disable", message);
    }
    disabled.insert(name);
  }
  std::vector<RuleSpec> configured;
  std::set<std::string> seen;
  for (const config::Section& s : alerts.GetTableList("rules")) {
    RuleSpec r;
    r.name = s.GetString("name");
    if (!IsCamelCase(r.name)) {
      return s.ErrorAt("name", "rule name '" + r.name +
                                   "' must be CamelCase (letters and digits, starting upper-case)");
    }
    if (!seen.insert(r.name).second) {
      return s.ErrorAt("name", "duplicate rule name '" + r.name + "'");
    }
    r.expr = s.GetString("expr");
    if (auto err = CheckExpr(r.expr, s.PositionOf("expr"), r.name)) return *err;
    r.for_duration = s.GetDuration("for");
    r.keep_firing_for = s.GetDuration("keep_firing_for");
    r.severity = s.GetString("severity");
    r.labels = s.GetStringMap("labels");
    for (const auto& [k, v] : r.labels) {
      if (!IsLabelName(k) || k == "alertname") {
        return s.ErrorAt("labels", "rule '" + r.name + "': invalid label name '" + k + "'");
      }
      if (auto err = CheckTemplate(v)) {
        return s.ErrorAt("labels", "rule '" + r.name + "': label " + k + ": " + *err);
      }
    }
    if (r.labels.count("severity")) {
      return s.ErrorAt("labels", "rule '" + r.name + "': set the severity with severity = \"" +
                                     r.labels["severity"] + "\", not as a label");
    }
    r.labels["severity"] = r.severity;
    r.annotations = s.GetStringMap("annotations");
    for (const auto& [k, v] : r.annotations) {
      if (auto err = CheckTemplate(v)) {
        return s.ErrorAt("annotations", "rule '" + r.name + "': annotation " + k + ": " + *err);
      }
    }
    configured.push_back(std::move(r));
  }
  if (alerts.GetBool("default_rules")) {
    for (RuleSpec& r : DefaultRules(alerts)) {
      if (disabled.count(r.name) || seen.count(r.name)) continue;
      rules.push_back(std::move(r));
    }
  }
  for (RuleSpec& r : configured) rules.push_back(std::move(r));
  return rules;
}

// ---------------------------------------------------------------------------------------------
// Templates

std::string Humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return GoG4(v);
  if (std::fabs(v) >= 1) {
    std::string prefix;
    for (const char* p : {"k", "M", "G", "T", "P", "E", "Z", "Y"}) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return GoG4(v) + prefix;
  }
  std::string prefix;
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return GoG4(v) + prefix;
}

std::string HumanizePercentage(double v) { return GoG4(v * 100) + "%"; }

std::string HumanizeDuration(double v) {
  if (std::isnan(v) || std::isinf(v)) return GoG4(v);
  if (v == 0) return GoG4(v) + "s";
  if (std::fabs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    const auto d = static_cast<std::int64_t>(v);
    const std::int64_t seconds = d % 60, minutes = (d / 60) % 60, hours = (d / 3600) % 24,
                       days = d / 86400;
    auto s = [](std::int64_t n) { return std::to_string(n); };
    if (days != 0)
      return sign + s(days) + "d " + s(hours) + "h " + s(minutes) + "m " + s(seconds) + "s";
    if (hours != 0) return sign + s(hours) + "h " + s(minutes) + "m " + s(seconds) + "s";
    if (minutes != 0) return sign + s(minutes) + "m " + s(seconds) + "s";
    return sign + GoG4(v) + "s";
  }
  std::string prefix;
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return GoG4(v) + prefix + "s";
}

Expected<std::string> ExpandTemplate(const std::string& text, const promql::LabelSet& labels,
                                     double value) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find("{{", i);
    if (open == std::string::npos) {
      out += text.substr(i);
      break;
    }
    out += text.substr(i, open - i);
    const auto close = text.find("}}", open + 2);
    if (close == std::string::npos) return Status::Error("unclosed '{{'");
    std::string action = Trim(text.substr(open + 2, close - open - 2));
    i = close + 2;
    std::string pipe;
    if (auto bar = action.find('|'); bar != std::string::npos) {
      pipe = Trim(action.substr(bar + 1));
      action = Trim(action.substr(0, bar));
    }
    std::string result;
    if (action == "$value") {
      if (pipe.empty()) {
        result = promql::FormatGoFloat(value);
      } else if (pipe == "humanize") {
        result = Humanize(value);
      } else if (pipe == "humanizePercentage") {
        result = HumanizePercentage(value);
      } else if (pipe == "humanizeDuration") {
        result = HumanizeDuration(value);
      } else {
        return Status::Error("unsupported template function '" + pipe +
                             "' (supported: humanize, humanizePercentage, humanizeDuration)");
      }
    } else if (action.rfind("$labels.", 0) == 0 && IsLabelName(action.substr(8)) && pipe.empty()) {
      auto it = labels.find(action.substr(8));
      result = it == labels.end() ? "<no value>" : it->second;
    } else {
      return Status::Error("unsupported template action '{{" +
                           text.substr(open + 2, close - open - 2) +
                           "}}' (supported: {{ $value }}, {{ $labels.NAME }}, "
                           "{{ $value | humanize }}, humanizePercentage, humanizeDuration)");
    }
    out += result;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Export

std::string ExportPrometheusRules(const std::vector<RuleSpec>& rules,
                                  std::chrono::milliseconds interval) {
  auto q = [](const std::string& s) { return boost::json::serialize(boost::json::string(s)); };
  std::string out =
      "# Generated by `tacho rules export`: the rules tacho evaluates, as a Prometheus rule file.\n"
      "# Every expression uses tacho's PromQL subset, which has PromQL's meaning, so Prometheus\n"
      "# raises the same alerts from the same series. Do not edit: change tacho's [alerts]\n"
      "# configuration and export again.\n"
      "groups:\n"
      "  - name: tacho\n"
      "    interval: " +
      promql::FormatDurationMs(interval.count()) + "\n    rules:\n";
  for (const RuleSpec& r : rules) {
    out += "      - alert: " + r.name + "\n";
    out += "        expr: " + q(r.expr) + "\n";
    if (r.for_duration.count() > 0) {
      out += "        for: " + promql::FormatDurationMs(r.for_duration.count()) + "\n";
    }
    if (r.keep_firing_for.count() > 0) {
      out +=
          "        keep_firing_for: " + promql::FormatDurationMs(r.keep_firing_for.count()) + "\n";
    }
    if (!r.labels.empty()) {
      out += "        labels:\n";
      for (const auto& [k, v] : r.labels) out += "          " + k + ": " + q(v) + "\n";
    }
    if (!r.annotations.empty()) {
      out += "        annotations:\n";
      for (const auto& [k, v] : r.annotations) out += "          " + q(k) + ": " + q(v) + "\n";
    }
  }
  if (rules.empty()) out += "      []\n";
  return out;
}

}  // namespace tacho::alerts
