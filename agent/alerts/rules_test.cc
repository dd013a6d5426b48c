#include "agent/alerts/rules.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tacho::alerts {
namespace {

config::KindSchemas Kinds() {
  config::KindSchemas kinds;
  kinds.find = [](std::string_view) -> const config::Schema* { return nullptr; };
  kinds.kinds = [] { return std::vector<std::string>{}; };
  kinds.sections = {{"alerts", &RulesSchema()}};
  return kinds;
}

Expected<std::vector<RuleSpec>, config::Error> Load(const std::string& toml) {
  auto config = config::LoadString(toml, "tacho.toml", Kinds());
  if (!config) return config.error();
  return LoadRules(config->sections.at("alerts"));
}

std::string ErrorOf(const std::string& toml) {
  auto r = Load(toml);
  return r ? "" : r.error().ToString();
}

const RuleSpec* Find(const std::vector<RuleSpec>& rules, const std::string& name) {
  for (const auto& r : rules) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

TEST(RulesConfigTest, configured_rule_with_defaults) {
  auto rules = Load(
      "[alerts]\ndefault_rules = false\n[[alerts.rules]]\nname = \"ManyConns\"\n"
      "expr = \"sum by (target) (pg_stat_activity_connections) > 50\"\nfor = \"2m\"\n"
      "labels = { team = \"db\" }\nannotations = { summary = \"{{ $labels.target }}\" }\n");
  ASSERT_TRUE(rules) << rules.error().ToString();
  ASSERT_EQ(rules->size(), 1u);
  const RuleSpec& r = (*rules)[0];
  EXPECT_EQ(r.name, "ManyConns");
  EXPECT_EQ(r.for_duration, std::chrono::minutes(2));
  EXPECT_EQ(r.severity, "warning");
  EXPECT_EQ(r.labels,
            (std::map<std::string, std::string>{{"severity", "warning"}, {"team", "db"}}));
  EXPECT_FALSE(r.builtin);
}

TEST(RulesConfigTest, overflowing_ranges_and_durations_are_config_errors_with_position) {
  // Both used to be undefined: the range threw std::out_of_range (tacho aborted, on SIGHUP
  // too) and the duration overflowed silently.
  EXPECT_EQ(
      ErrorOf(
          "[[alerts.rules]]\nname = \"X\"\nexpr = \"rate(pg_up[99999999999999999999s]) > 0\"\n"),
      "tacho.toml:3:1: rule 'X': expr: range \"99999999999999999999s\" is too large (at "
      "most 36500d) (at character 12 of \"rate(pg_up[99999999999999999999s]) > 0\")");
  EXPECT_EQ(ErrorOf("[[alerts.rules]]\nname = \"X\"\nexpr = \"rate(pg_up[9999999999y]) > 0\"\n"),
            "tacho.toml:3:1: rule 'X': expr: range \"9999999999y\" is too large (at most 36500d) "
            "(at character 12 of \"rate(pg_up[9999999999y]) > 0\")");
  EXPECT_EQ(
      ErrorOf("[[alerts.rules]]\nname = \"X\"\nfor = \"999999999999d\"\nexpr = \"up == 0\"\n"),
      "tacho.toml:3:7: invalid duration \"999999999999d\" for 'for' in [[alerts.rules]] 'X' of "
      "[alerts]: duration is too large (at most 36500d)");
  EXPECT_EQ(ErrorOf("[[alerts.rules]]\nname = \"X\"\nexpr = \"rate(pg_up[100y]) > 0\"\n"), "")
      << "100 years is the limit, and allowed";
}

TEST(RulesConfigTest, expr_outside_the_subset_is_a_config_error_with_position) {
  EXPECT_EQ(ErrorOf("[[alerts.rules]]\nname = \"X\"\nexpr = \"histogram_quantile(0.9, x)\"\n"),
            "tacho.toml:3:1: rule 'X': expr: function 'histogram_quantile' is not supported "
            "(supported: rate, increase, avg_over_time, min_over_time, max_over_time) (at "
            "character 1 of \"histogram_quantile(0.9, x)\")");
  EXPECT_EQ(ErrorOf("[[alerts.rules]]\nname = \"X\"\nexpr = \"up offset 5m\"\n"),
            "tacho.toml:3:1: rule 'X': expr: offset is not supported (at character 4 of \"up "
            "offset 5m\")");
  EXPECT_EQ(ErrorOf("[[alerts.rules]]\nname = \"X\"\nexpr = \"1 + 1\"\n"),
            "tacho.toml:3:1: rule 'X': expr must evaluate to a vector, not a scalar");
}

TEST(RulesConfigTest, names_labels_and_templates_are_validated) {
  EXPECT_EQ(ErrorOf("[[alerts.rules]]\nname = \"too_many\"\nexpr = \"up == 0\"\n"),
            "tacho.toml:2:1: rule name 'too_many' must be CamelCase (letters and digits, "
            "starting upper-case)");
  EXPECT_EQ(ErrorOf("[[alerts.rules]]\nname = \"A\"\nexpr = \"up\"\n[[alerts.rules]]\n"
                    "name = \"A\"\nexpr = \"up\"\n"),
            "tacho.toml:5:1: duplicate rule name 'A'");
  EXPECT_EQ(ErrorOf("[[alerts.rules]]\nname = \"A\"\nexpr = \"up\"\n"
                    "annotations = { summary = \"{{ .Value | printf }}\" }\n"),
            "tacho.toml:4:1: rule 'A': annotation summary: unsupported template action '{{ "
            ".Value | printf }}' (supported: {{ $value }}, {{ $labels.NAME }}, {{ $value | "
            "humanize }}, humanizePercentage, humanizeDuration)");
  EXPECT_EQ(ErrorOf("[[alerts.rules]]\nname = \"A\"\nexpr = \"up\"\nseverity = \"page\"\n"),
            "tacho.toml:4:12: 'severity' in [[alerts.rules]] 'A' of [alerts] must be one of "
            "critical, warning, info; got \"page\"");
  EXPECT_EQ(ErrorOf("[alerts]\ndisable = [\"PostgresDwn\"]\n"),
            "tacho.toml:2:1: disable names 'PostgresDwn', which is not a built-in rule; did you "
            "mean 'PostgresDown'?");
}

TEST(RulesConfigTest, default_pack_thresholds_disable_and_replace) {
  auto rules = Load(
      "[alerts]\ndisable = [\"RedisDown\"]\n"
      "thresholds.PostgresTooManyConnections = 0.9\n"
      "[[alerts.rules]]\nname = \"PgBouncerDown\"\nexpr = \"pgbouncer_up < 1\"\n");
  ASSERT_TRUE(rules) << rules.error().ToString();
  EXPECT_EQ(Find(*rules, "RedisDown"), nullptr);
  ASSERT_NE(Find(*rules, "PostgresTooManyConnections"), nullptr);
  EXPECT_NE(Find(*rules, "PostgresTooManyConnections")->expr.find("> 0.9"), std::string::npos);
  ASSERT_NE(Find(*rules, "PgBouncerDown"), nullptr);
  EXPECT_EQ(Find(*rules, "PgBouncerDown")->expr, "pgbouncer_up < 1");
  EXPECT_FALSE(Find(*rules, "PgBouncerDown")->builtin);
}

TEST(RulesConfigTest, every_default_rule_parses_and_is_documented) {
  auto rules = Load("");
  ASSERT_TRUE(rules) << rules.error().ToString();
  EXPECT_GE(rules->size(), 19u);
  for (const RuleSpec& r : *rules) {
    EXPECT_TRUE(promql::Parse(r.expr)) << r.name << ": " << r.expr;
    EXPECT_TRUE(r.builtin);
    EXPECT_FALSE(r.annotations.at("summary").empty()) << r.name;
    EXPECT_FALSE(r.annotations.at("description").empty()) << r.name;
    EXPECT_EQ(r.expr.find("<<"), std::string::npos) << r.name << " has an unreplaced threshold";
  }
}

TEST(TemplateTest, expands_labels_and_value) {
  promql::LabelSet labels{{"target", "db1"}, {"datname", "shop"}};
  auto r = ExpandTemplate(
      "{{ $labels.target }}/{{$labels.datname}}: {{ $value }} "
      "({{ $labels.nope }})",
      labels, 0.8125);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "db1/shop: 0.8125 (<no value>)");
  EXPECT_EQ(*ExpandTemplate("{{ $value | humanizePercentage }}", labels, 0.8125), "81.25%");
  EXPECT_FALSE(ExpandTemplate("{{ $value", labels, 1));
}

TEST(TemplateTest, humanize_functions_match_prometheus) {
  EXPECT_EQ(Humanize(0), "0");
  EXPECT_EQ(Humanize(1234567), "1.235M");
  EXPECT_EQ(Humanize(0.0012), "1.2m");
  EXPECT_EQ(Humanize(12), "12");
  EXPECT_EQ(Humanize(NAN), "NaN");
  EXPECT_EQ(HumanizePercentage(0.98765), "98.77%");
  EXPECT_EQ(HumanizeDuration(0), "0s");
  EXPECT_EQ(HumanizeDuration(0.25), "250ms");
  EXPECT_EQ(HumanizeDuration(42.5), "42.5s");
  EXPECT_EQ(HumanizeDuration(3725), "1h 2m 5s");
  EXPECT_EQ(HumanizeDuration(90061), "1d 1h 1m 1s");
}

TEST(ExportTest, writes_a_prometheus_rule_file) {
  RuleSpec r;
  r.name = "TooMany";
  r.expr = "conns{state=\"idle\"} > 10";
  r.for_duration = std::chrono::minutes(5);
  r.labels = {{"severity", "warning"}};
  r.annotations = {{"summary", "{{ $labels.target }}: \"many\""}};
  const std::string out = ExportPrometheusRules({r}, std::chrono::seconds(15));
  EXPECT_NE(out.find("groups:\n  - name: tacho\n    interval: 15s\n    rules:\n"
                     "      - alert: TooMany\n        expr: \"conns{state=\\\"idle\\\"} > 10\"\n"
                     "        for: 5m\n        labels:\n          severity: \"warning\"\n"
                     "        annotations:\n          \"summary\": \"{{ $labels.target }}: "
                     "\\\"many\\\"\"\n"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace tacho::alerts
