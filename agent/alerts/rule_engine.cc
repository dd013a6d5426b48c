#include "agent/alerts/rule_engine.h"

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <set>

namespace tacho::alerts {

namespace json = boost::json;
using promql::LabelSet;
using promql::Timestamp;

std::string FormatRfc3339Ms(Timestamp ms) {
  if (ms == 0) return "0001-01-01T00:00:00Z";
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int frac = static_cast<int>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (frac != 0) {
    char f[8];
    std::snprintf(f, sizeof f, ".%03d", frac);
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();  // Go trims trailing zeros (RFC3339Nano)
    out += fs;
  }
  return out + "Z";
}

namespace {

json::object LabelsJson(const std::map<std::string, std::string>& labels) {
  json::object o;
  for (const auto& [k, v] : labels) o[k] = v;
  return o;
}

std::map<std::string, std::string> LabelsFrom(const json::value& v) {
  std::map<std::string, std::string> out;
  if (!v.is_object()) return out;
  for (const auto& [k, val] : v.as_object()) {
    if (val.is_string()) out[std::string(k)] = std::string(val.as_string());
  }
  return out;
}

std::int64_t IntOf(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
  if (it->value().is_double()) return static_cast<std::int64_t>(it->value().as_double());
  return 0;
}

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

json::object AlertJson(const Alert& a) {
  return json::object{
      {"labels", LabelsJson(a.labels)},          {"annotations", LabelsJson(a.annotations)},
      {"state", AlertStateName(a.state)},        {"activeAt", FormatRfc3339Ms(a.active_at)},
      {"value", promql::FormatGoFloat(a.value)},
  };
}

}  // namespace

void RuleEngine::SetRules(std::vector<RuleSpec> specs, std::chrono::milliseconds interval) {
  interval_ = interval;
  std::map<std::string, std::unique_ptr<Rule>> old;
  for (auto& r : rules_) old[r->spec.Identity()] = std::move(r);
  rules_.clear();
  std::map<std::string, std::int64_t> retention;
  for (RuleSpec& spec : specs) {
    auto rule = std::make_unique<Rule>();
    auto parsed = promql::Parse(spec.expr);
    if (!parsed) continue;  // LoadRules validated it; never happens
    rule->expr = std::move(parsed.value());
    for (const auto& use : promql::Selectors(*rule->expr)) {
      auto& keep = retention[use.selector->metric];
      keep = std::max(keep, use.range_ms);
    }
    if (auto it = old.find(spec.Identity()); it != old.end()) {
      rule->alerts = std::move(it->second->alerts);
      rule->health = it->second->health;
      rule->last_error = it->second->last_error;
      rule->last_evaluation = it->second->last_evaluation;
    }
    rule->spec = std::move(spec);
    rules_.push_back(std::move(rule));
  }
  store_.SetRetention(std::move(retention));
}

void RuleEngine::IngestOnce(const std::string& source,
                            const std::vector<prometheus::MetricFamily>& families,
                            Timestamp taken_at) {
  auto it = ingested_.find(source);
  if (it != ingested_.end() && it->second >= taken_at) return;
  ingested_[source] = taken_at;
  store_.Ingest(source, families, taken_at);
}

void RuleEngine::RetireSourcesExcept(const std::vector<std::string>& live, Timestamp t) {
  std::set<std::string> keep(live.begin(), live.end());
  for (const std::string& source : store_.sources()) {
    if (!keep.count(source)) {
      store_.MarkSourceStale(source, t);
      ingested_.erase(source);
    }
  }
}

void RuleEngine::Evaluate(Timestamp t) {
  for (auto& rule : rules_) {
    const auto started = std::chrono::steady_clock::now();
    ++rule->evaluations;
    rule->last_evaluation = t;
    auto result = promql::Evaluate(*rule->expr, store_, t);
    std::string error;
    std::vector<AlertCandidate> candidates;
    if (!result) {
      error = result.error();
    } else if (result->is_scalar) {
      error = "rule expression must evaluate to a vector, got a scalar";
    } else {
      std::set<LabelSet> seen;
      for (const promql::Sample& s : result->vector) {
        LabelSet labels = s.labels;
        labels.erase(promql::kMetricName);
        AlertCandidate c;
        c.value = s.value;
        c.labels = labels;
        for (const auto& [k, v] : rule->spec.labels) {
          auto expanded = ExpandTemplate(v, s.labels, s.value);
          c.labels[k] = expanded ? expanded.value() : v;
        }
        c.labels["alertname"] = rule->spec.name;
        for (const auto& [k, v] : rule->spec.annotations) {
          auto expanded = ExpandTemplate(v, s.labels, s.value);
          c.annotations[k] = expanded ? expanded.value() : v;
        }
        if (!seen.insert(c.labels).second) {
          error = "vector contains metrics with the same labelset after applying alert labels";
          break;
        }
        candidates.push_back(std::move(c));
      }
    }
    rule->evaluation_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!error.empty()) {
      // As Prometheus: a failed evaluation leaves the alerts as they were.
      rule->health = "err";
      rule->last_error = error;
      ++rule->failures;
      continue;
    }
    rule->health = "ok";
    rule->last_error.clear();
    rule->alerts.Update(candidates, t, rule->spec.for_duration.count(),
                        rule->spec.keep_firing_for.count());
  }
  // Keep what the longest window needs; evaluation is at most one interval behind.
  store_.Prune(t - interval_.count());
}

std::vector<NotifyAlert> RuleEngine::Notifications(const std::string& external_url) const {
  std::vector<NotifyAlert> out;
  for (const auto& rule : rules_) {
    const std::string generator = external_url + "/api/v1/rules?rule=" + UrlEncode(rule->spec.name);
    for (const auto& [labels, a] : rule->alerts.alerts()) {
      if (a.state == AlertState::kPending) continue;
      if (a.state == AlertState::kInactive && a.resolved_at == 0) continue;
      NotifyAlert n;
      n.labels = a.labels;
      n.annotations = a.annotations;
      n.starts_at = a.fired_at != 0 ? a.fired_at : a.active_at;
      n.ends_at = a.state == AlertState::kInactive ? a.resolved_at : 0;
      n.generator_url = generator;
      out.push_back(std::move(n));
    }
  }
  return out;
}

void RuleEngine::WriteMetrics(agent::MetricSink& sink) const {
  for (const auto& rule : rules_) {
    for (const auto& [labels, a] : rule->alerts.alerts()) {
      if (a.state == AlertState::kInactive) continue;
      agent::Labels out;
      for (const auto& [k, v] : a.labels) out.push_back({k, v});
      out.push_back({"alertstate", AlertStateName(a.state)});
      sink.Gauge("tacho_alerts",
                 "Pending and firing alerts, like Prometheus' ALERTS: 1 per alert, labelled with "
                 "alertname, alertstate and the alert's labels.",
                 std::move(out), 1);
    }
  }
  for (const auto& rule : rules_) {
    agent::Labels l = {{"rule", rule->spec.name}};
    sink.Counter("tacho_rule_evaluations_total", "Rule evaluations.", l,
                 static_cast<double>(rule->evaluations));
    sink.Counter("tacho_rule_evaluation_failures_total",
                 "Rule evaluations that failed (see /api/v1/rules lastError).", l,
                 static_cast<double>(rule->failures));
  }
  sink.Gauge("tacho_rule_history_series",
             "Series whose history the rule evaluator keeps (only those rules read).", {},
             static_cast<double>(store_.series_count()));
  sink.Gauge("tacho_rule_history_samples", "Samples the rule evaluator keeps.", {},
             static_cast<double>(store_.sample_count()));
}

std::string RuleEngine::AlertsJson() const {
  json::array alerts;
  for (const auto& rule : rules_) {
    for (const auto& [labels, a] : rule->alerts.alerts()) {
      if (a.state == AlertState::kInactive) continue;
      alerts.push_back(AlertJson(a));
    }
  }
  json::object root{{"status", "success"}, {"data", json::object{{"alerts", std::move(alerts)}}}};
  return json::serialize(root) + "\n";
}

std::string RuleEngine::RulesJson(const std::string& source) const {
  json::array rules;
  for (const auto& rule : rules_) {
    json::array alerts;
    AlertState state = AlertState::kInactive;
    for (const auto& [labels, a] : rule->alerts.alerts()) {
      if (a.state == AlertState::kInactive) continue;
      if (a.state == AlertState::kFiring || state == AlertState::kInactive) state = a.state;
      alerts.push_back(AlertJson(a));
    }
    rules.push_back(json::object{
        {"state", AlertStateName(state)},
        {"name", rule->spec.name},
        {"query", rule->spec.expr},
        {"duration", std::chrono::duration<double>(rule->spec.for_duration).count()},
        {"keepFiringFor", std::chrono::duration<double>(rule->spec.keep_firing_for).count()},
        {"labels", LabelsJson(rule->spec.labels)},
        {"annotations", LabelsJson(rule->spec.annotations)},
        {"alerts", std::move(alerts)},
        {"health", rule->health},
        {"lastError", rule->last_error},
        {"builtin", rule->spec.builtin},
        {"type", "alerting"},
        {"lastEvaluation", FormatRfc3339Ms(rule->last_evaluation)},
        {"evaluationTime", rule->evaluation_seconds},
    });
  }
  json::object group{{"name", "tacho"},
                     {"file", source},
                     {"interval", std::chrono::duration<double>(interval_).count()},
                     {"rules", std::move(rules)}};
  json::object root{{"status", "success"},
                    {"data", json::object{{"groups", json::array{std::move(group)}}}}};
  return json::serialize(root) + "\n";
}

std::string RuleEngine::StateFingerprint() const {
  // The persisted fields only (value and annotations change every evaluation and do not
  // matter for a restart).
  std::string fp;
  for (const auto& rule : rules_) {
    for (const auto& [labels, a] : rule->alerts.alerts()) {
      fp += rule->spec.Identity() + "|" + std::to_string(static_cast<int>(a.state)) + "|" +
            std::to_string(a.active_at) + "|" + std::to_string(a.fired_at) + "|" +
            std::to_string(a.resolved_at) + "|" + std::to_string(a.keep_firing_since) + "|";
      for (const auto& [k, v] : labels) fp += k + "=" + v + ",";
      fp += "\n";
    }
  }
  return fp;
}

bool RuleEngine::Changed() const { return StateFingerprint() != saved_fingerprint_; }

std::string RuleEngine::SaveState() {
  json::object rules;
  for (const auto& rule : rules_) {
    json::array alerts;
    for (const auto& [labels, a] : rule->alerts.alerts()) {
      alerts.push_back(json::object{
          {"labels", LabelsJson(a.labels)},
          {"annotations", LabelsJson(a.annotations)},
          {"state", AlertStateName(a.state)},
          {"value", a.value},
          {"active_at", a.active_at},
          {"fired_at", a.fired_at},
          {"resolved_at", a.resolved_at},
          {"keep_firing_since", a.keep_firing_since},
      });
    }
    if (!alerts.empty()) rules[rule->spec.Identity()] = std::move(alerts);
  }
  saved_fingerprint_ = StateFingerprint();
  return json::serialize(json::object{{"version", 1}, {"rules", std::move(rules)}}) + "\n";
}

Status RuleEngine::LoadState(const std::string& text) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec || !root.is_object()) return Status::Error("not a JSON object");
  const json::object& o = root.as_object();
  auto rules_it = o.find("rules");
  if (rules_it == o.end() || !rules_it->value().is_object()) {
    return Status::Error("no \"rules\" object");
  }
  const json::object& saved = rules_it->value().as_object();
  for (auto& rule : rules_) {
    auto it = saved.find(rule->spec.Identity());
    if (it == saved.end() || !it->value().is_array()) continue;
    auto& active = rule->alerts.mutable_alerts();
    for (const json::value& v : it->value().as_array()) {
      if (!v.is_object()) continue;
      const json::object& ao = v.as_object();
      Alert a;
      if (auto l = ao.find("labels"); l != ao.end()) {
        for (const auto& [k, val] : LabelsFrom(l->value())) a.labels[k] = val;
      }
      if (auto an = ao.find("annotations"); an != ao.end()) a.annotations = LabelsFrom(an->value());
      const std::string state = ao.contains("state") && ao.at("state").is_string()
                                    ? std::string(ao.at("state").as_string())
                                    : "";
      a.state = state == "firing"    ? AlertState::kFiring
                : state == "pending" ? AlertState::kPending
                                     : AlertState::kInactive;
      if (auto val = ao.find("value"); val != ao.end() && val->value().is_number()) {
        a.value = val->value().to_number<double>();
      }
      a.active_at = IntOf(ao, "active_at");
      a.fired_at = IntOf(ao, "fired_at");
      a.resolved_at = IntOf(ao, "resolved_at");
      a.keep_firing_since = IntOf(ao, "keep_firing_since");
      if (a.labels.empty()) continue;
      active[a.labels] = std::move(a);
    }
  }
  saved_fingerprint_ = StateFingerprint();
  return Status::Ok();
}

}  // namespace tacho::alerts
